// The kernel registry: every family resolves a table for every ISA the CPU runs, the lookup
// follows set_active_isa, and the names config() prints follow docs/naming.md.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "npfast/config.hpp"
#include "npfast/dispatch.hpp"
#include "src/core/registry.h"
#include "src/kernels/conv/conv.h"
#include "src/kernels/corr2d/corr2d.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/kernels/gemm/gemm.h"
#include "src/kernels/limits/limits.h"
#include "src/kernels/pool/pool.h"
#include "tests/cpp/scoped_isa.h"

namespace npfast {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The table in use is the active ISA's own where the family has one (every family has one for
// every ISA this build targets), else the nearest narrower one.
template <class Table>
void check_family() {
  ASSERT_NE(kernels<Table>(Isa::scalar), nullptr);
  for (Isa isa : isas_available()) {
    ScopedIsa scope(isa);
    const Isa want = kernels<Table>(isa) ? isa : Isa::scalar;
    EXPECT_EQ(kernels_isa<Table>(), want) << isa_name(isa);
    EXPECT_EQ(&kernels<Table>(), kernels<Table>(want)) << isa_name(isa);
  }
}

TEST(Registry, EveryFamilyFollowsTheActiveIsa) {
  check_family<conv::Table>();
  check_family<corr2d::Table>();
  check_family<elementwise::Table>();
  check_family<gemm_kernels::Table>();
  check_family<limits::Table>();
  check_family<pool::Table>();
}

#if defined(__x86_64__)
// Every x86 ISA has its own table in every family, so the tests instantiate over all the ISAs
// this CPU runs (and on an AVX-512 machine, AVX-512 is among them: nothing is skipped).
TEST(Registry, X86FamiliesHaveEveryIsa) {
  EXPECT_EQ(kernel_isas<conv::Table>(), isas_available());
  EXPECT_EQ(kernel_isas<corr2d::Table>(), isas_available());
  EXPECT_EQ(kernel_isas<elementwise::Table>(), isas_available());
  EXPECT_EQ(kernel_isas<gemm_kernels::Table>(), isas_available());
  EXPECT_EQ(kernel_isas<limits::Table>(), isas_available());
  EXPECT_EQ(kernel_isas<pool::Table>(), isas_available());
}
#endif

TEST(Registry, NamesFollowTheConvention) {
  for (Isa isa : isas_available()) {
    ScopedIsa scope(isa);
    const auto names = kernel_names();
    ASSERT_FALSE(names.empty());
    for (const auto& [op, name] : names)
      EXPECT_TRUE(ends_with(name, std::string("__") + isa_name(isa))) << op << ": " << name;
  }
  ScopedIsa scope(Isa::scalar);
  const auto list = kernel_names();
  const std::map<std::string, std::string> names(list.begin(), list.end());
  EXPECT_EQ(names.at("matmul_f32"), "f32_gemm_4x4__scalar");
  EXPECT_EQ(names.at("conv2d_direct_f32"), "f32_conv_direct__scalar");
  EXPECT_EQ(names.at("max_pool2d_f64"), "f64_max_pool__scalar");
  EXPECT_EQ(names.at("corr2d_3x3_f32"), "f32_corr2d_3x3__scalar");
  EXPECT_EQ(names.at("convert_u8_f32"), "u8_f32_convert__scalar");
  EXPECT_EQ(names.at("zero_stream"), "x8_zero_stream__scalar");
  EXPECT_EQ(kernel_name("f32_max_pool", Isa::avx2), "f32_max_pool__avx2");
}

TEST(Registry, OfPicksByElementType) {
  const pool::Table& t = *kernels<pool::Table>(Isa::scalar);
  EXPECT_EQ(of<float>(t.f32_max_pool, t.f64_max_pool), t.f32_max_pool);
  EXPECT_EQ(of<double>(t.f32_max_pool, t.f64_max_pool), t.f64_max_pool);
}

}  // namespace
}  // namespace npfast
