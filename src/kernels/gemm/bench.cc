// GEMM microkernels: one full MR x NR tile over packed panels of depth 256 (GFLOP/s), the
// inner loop of every product.
#include <vector>

#include "src/kernels/gemm/gemm.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace gemm_kernels {
namespace {

constexpr int64_t kDepth = 256;

template <class T>
void tile(benchmark::State& state, const Table& t) {
  const Ukernel<T>& uk = of<T>(t.f32, t.f64);
  std::vector<T> a(uk.mr * kDepth, T(0.5)), b(uk.nr * kDepth, T(0.25)), c(uk.mr * uk.nr);
  for (auto _ : state) {
    uk.fn(kDepth, a.data(), 1, uk.mr, b.data(), uk.nr, c.data(), uk.nr, uk.mr, uk.nr, T(1), T(1));
    benchmark::DoNotOptimize(c.data());
  }
  set_rate(state, "FLOP", 2.0 * uk.mr * uk.nr * kDepth);
}

const bool kF32 =
    register_per_isa<Table>([](const Table& t) { return base_name(t.f32); }, "k256", tile<float>);
const bool kF64 =
    register_per_isa<Table>([](const Table& t) { return base_name(t.f64); }, "k256", tile<double>);

}  // namespace
}  // namespace gemm_kernels
}  // namespace npfast
