// The machine-limit probes of every ISA the CPU runs: the read probe sums exactly, the write
// probe writes every element and nothing past them, the FMA loop counts its flops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "npfast/dispatch.hpp"
#include "src/kernels/limits/limits.h"

namespace npfast {
namespace limits {
namespace {

class LimitsIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(LimitsIsa, ProbesDoWhatTheySay) {
  const Table& t = *kernels<Table>(GetParam());
  for (int64_t n : {0, 1, 7, 64, 1001}) {
    std::vector<double> y(static_cast<size_t>(n) + 3, -1.0);
    t.f64_write_stream(y.data() + 1, n, 0.5);  // offset: the probe handles any alignment
    EXPECT_EQ(y[0], -1.0);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[static_cast<size_t>(i) + 1], 0.5) << n;
    EXPECT_EQ(y[static_cast<size_t>(n) + 1], -1.0);
    EXPECT_EQ(t.f64_read_stream(y.data() + 1, n), 0.5 * static_cast<double>(n));  // exact
  }
  for (FmaLoopFn fn : {t.f32_fma_loop, t.f64_fma_loop}) {
    double sink = 0;
    const int64_t flops1 = fn(100, &sink), flops2 = fn(200, &sink);
    EXPECT_GT(flops1, 0);
    EXPECT_EQ(flops2, 2 * flops1);  // FMA = 2 flops per lane per step, linear in iterations
    EXPECT_TRUE(std::isfinite(sink));
  }
}

INSTANTIATE_TEST_SUITE_P(All, LimitsIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace limits
}  // namespace npfast
