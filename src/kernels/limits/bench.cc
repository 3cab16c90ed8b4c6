// Machine-limit probes: the FMA loop's single-core GFLOP/s, the peak the report divides by.
#include "src/kernels/limits/limits.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace limits {
namespace {

template <class T>
void fma(benchmark::State& state, const Table& t) {
  const FmaLoopFn fn = of<T>(t.f32_fma_loop, t.f64_fma_loop);
  constexpr int64_t kIters = 10000;
  double sink = 0, flops = 0;
  for (auto _ : state) flops = static_cast<double>(fn(kIters, &sink));
  benchmark::DoNotOptimize(sink);
  set_rate(state, "FLOP", flops);
}

const bool kF32 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_fma_loop), "10k", fma<float>);
const bool kF64 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f64_fma_loop), "10k", fma<double>);

}  // namespace
}  // namespace limits
}  // namespace npfast
