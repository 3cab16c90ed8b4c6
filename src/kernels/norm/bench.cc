// Normalisation kernels: the statistics and the forward pass over one 56 x 56 plane, as in a
// ResNet's first stage (GB/s of data read plus written).
#include <vector>

#include "src/kernels/norm/norm.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace norm {
namespace {

constexpr int64_t kN = 56 * 56;

void stats(benchmark::State& state, const Table& t) {
  std::vector<float> x(kN, 1.5f);
  double r[2];
  for (auto _ : state) {
    t.f32_bn_stats(x.data(), kN, 1.0, r);
    benchmark::DoNotOptimize(r);
  }
  set_rate(state, "bytes", kN * sizeof(float));
}

void apply(benchmark::State& state, const Table& t) {
  std::vector<float> x(kN, 1.5f), y(kN);
  for (auto _ : state) {
    t.f32_bn_apply(x.data(), kN, Affine<float>{0.5f, 2.0f, 0.1f}, true, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "bytes", 2.0 * kN * sizeof(float));
}

const bool kStats =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_bn_stats), "56x56", stats);
const bool kApply =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_bn_apply), "56x56_relu", apply);

}  // namespace
}  // namespace norm
}  // namespace npfast
