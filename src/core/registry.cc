// The kernel registry (see registry.h): the table lines indexed by family and ISA, one snapshot
// per ISA, and the kernel names npfast.config() prints.
#include "src/core/registry.h"

#include <atomic>
#include <string>

#include "npfast/config.hpp"
#include "src/kernels/conv/conv.h"
#include "src/kernels/corr2d/corr2d.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/kernels/filter1d/filter1d.h"
#include "src/kernels/gemm/gemm.h"
#include "src/kernels/limits/limits.h"
#include "src/kernels/norm/norm.h"
#include "src/kernels/pool/pool.h"
#include "src/kernels/rank/rank.h"

namespace npfast {
namespace registry {
namespace {

struct Lines {
  const void* table[kNumFamilies][kNumIsas] = {};
};

const Lines& lines() {
  static const Lines l = [] {
    Lines r;
#define NPFAST_FAMILY(family)
#define NPFAST_TABLE(family, isa) \
  r.table[k_##family][static_cast<int>(Isa::isa)] = &family::table_##isa;
#include "src/core/kernels.inc"
#undef NPFAST_FAMILY
#undef NPFAST_TABLE
    return r;
  }();
  return l;
}

// The ISA whose table family `f` runs when `isa` is active: `isa`'s own, else the nearest
// narrower one on the same architecture (neon falls back to the portable scalar table).
Isa resolve(Family f, Isa isa) {
  int i = static_cast<int>(isa);
  if (isa == Isa::neon) return lines().table[f][i] ? isa : Isa::scalar;
  while (i > 0 && !lines().table[f][i]) --i;
  return static_cast<Isa>(i);
}

// The kernels config() shows, one per operator and dtype (docs/naming.md); a suffix _stream /
// _far names the variant the operator takes for data far bigger than the cache.
std::vector<std::pair<std::string, std::string>> names(const Snapshot& s) {
  const auto named = [&](Family f, const std::string& base) {
    return kernel_name(base, s.table_isa[f]);
  };
  const auto& g = *static_cast<const gemm_kernels::Table*>(s.table[k_gemm_kernels]);
  // A table field's kernel (registry.h: NPFAST_KERNEL_BASE).
#define NPFAST_SHOW(op, family, field) \
  { op, named(k_##family, NPFAST_KERNEL_BASE(family::Table, field)) }
  return {
      {"matmul_f32", named(k_gemm_kernels, gemm_kernels::base_name(g.f32))},
      {"matmul_f64", named(k_gemm_kernels, gemm_kernels::base_name(g.f64))},
      {"matvec_f32", named(k_gemm_kernels, "f32_gemv")},
      {"matvec_f64", named(k_gemm_kernels, "f64_gemv")},
      NPFAST_SHOW("conv2d_direct_f32", conv, f32_conv_direct),
      NPFAST_SHOW("conv2d_depthwise_f32", conv, f32_conv_depthwise),
      NPFAST_SHOW("conv2d_nhwc_f32", conv, f32_conv_direct_nhwc),
      NPFAST_SHOW("conv2d_winograd_f32", conv, f32_conv_wino_in),
      NPFAST_SHOW("conv_transpose2d_winograd_f32", conv, f32_conv_wino2_in),
      NPFAST_SHOW("corr2d_3x3_f32", corr2d, f32_corr2d_3x3),
      NPFAST_SHOW("corr2d_7x7_f32", corr2d, f32_corr2d_7x7),
      NPFAST_SHOW("corr2d_general_f32", corr2d, f32_corr2d_general),
      NPFAST_SHOW("corr2d_3x3_f64", corr2d, f64_corr2d_3x3),
      NPFAST_SHOW("corr2d_general_f64", corr2d, f64_corr2d_general),
      NPFAST_SHOW("ndimage_correlate_integer_out", corr2d, f64_corr2d_scipy),
      NPFAST_SHOW("corr2d_3x3_f32_stream", corr2d, f32_corr2d_3x3_stream),
      NPFAST_SHOW("corr2d_3x3_f32_reverse", corr2d, f32_corr2d_3x3_reverse),
      NPFAST_SHOW("correlate1d_f32", filter1d, f32_corr1d),
      NPFAST_SHOW("gaussian_filter_f32_stream", filter1d, f32_corr1d_lines_nt),
      NPFAST_SHOW("uniform_filter_f32", filter1d, f32_uniform2d),
      NPFAST_SHOW("uniform_filter_f32_stream", filter1d, f32_uniform2d_rows_nt),
      NPFAST_SHOW("sobel_f32", filter1d, f32_sep3_row),
      NPFAST_SHOW("sobel_f32_stream", filter1d, f32_sep3_rows_nt),
      NPFAST_SHOW("batch_norm_f32", norm, f32_bn_apply),
      NPFAST_SHOW("max_pool2d_f32", pool, f32_max_pool),
      NPFAST_SHOW("max_pool2d_f64", pool, f64_max_pool),
      NPFAST_SHOW("avg_pool2d_f32", pool, f32_avg_pool),
      NPFAST_SHOW("avg_pool2d_f64", pool, f64_avg_pool),
      NPFAST_SHOW("minimum_filter_f32", rank, f32_minmax),
      NPFAST_SHOW("minimum_filter_f32_stream", rank, f32_minmax_2d_pair_stream),
      NPFAST_SHOW("median_filter_3x3_f32", rank, f32_rank_net_n9),
      NPFAST_SHOW("median_filter_3x3_f32_far", rank, f32_rank_net_n9_far),
      NPFAST_SHOW("rank_filter_f32", rank, f32_select),
      NPFAST_SHOW("rank_filter_2d_f32", rank, f32_rank_tile),
      NPFAST_SHOW("median_filter_u8", rank, u8_rank_hist),
      // The elementwise fields are tables indexed by dtypes (elementwise.h): name the entry.
      {"convert_u8_f32", named(k_elementwise, "u8_f32_convert")},
      {"convert_f64_f64", named(k_elementwise, "f64_f64_convert")},
      {"normalize_u8_f32", named(k_elementwise, "u8_f32_normalize")},
      NPFAST_SHOW("zero_stream", elementwise, x8_zero_stream),
  };
#undef NPFAST_SHOW
}

Snapshot build(Isa isa) {
  Snapshot s;
  s.isa = isa;
  for (int f = 0; f < kNumFamilies; ++f) {
    s.table_isa[f] = resolve(static_cast<Family>(f), isa);
    s.table[f] = lines().table[f][static_cast<int>(s.table_isa[f])];
  }
  s.names = names(s);
  return s;
}

const Snapshot& snapshot_of(Isa isa) {
  static const Snapshot all[kNumIsas] = {build(Isa::scalar), build(Isa::avx2), build(Isa::avx512),
                                         build(Isa::neon)};
  static_assert(kNumIsas == 4, "one snapshot per Isa");
  return all[static_cast<int>(isa)];
}

std::atomic<const Snapshot*>& current() {
  static std::atomic<const Snapshot*> p{&snapshot_of(initial_isa())};
  return p;
}

}  // namespace

const Snapshot& active() { return *current().load(std::memory_order_acquire); }

void activate(Isa isa) { current().store(&snapshot_of(isa), std::memory_order_release); }

const void* table(Family f, Isa isa) { return lines().table[f][static_cast<int>(isa)]; }

}  // namespace registry

std::string kernel_name(const std::string& base, Isa isa) { return base + "__" + isa_name(isa); }

std::vector<std::pair<std::string, std::string>> kernel_names() { return registry::active().names; }

}  // namespace npfast
