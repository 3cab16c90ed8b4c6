// Pooling kernels: 2x2 stride-2 max and average pooling of one 256 x 256 plane (GB/s of input
// read plus output written).
#include <vector>

#include "src/kernels/pool/pool.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace pool {
namespace {

const Geom kPlane{256, 256, 128, 128, 2, 2, 2, 2, 0, 0, 1, 1};
constexpr double kBytes = (256.0 * 256 + 128.0 * 128) * sizeof(float);

void max_pool(benchmark::State& state, const Table& t) {
  std::vector<float> in(256 * 256, 1.5f), out(128 * 128);
  for (auto _ : state) {
    t.f32_max_pool(kPlane, in.data(), 256, out.data(), nullptr, 0, kPlane.OH);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "bytes", kBytes);
}

void avg_pool(benchmark::State& state, const Table& t) {
  std::vector<float> in(256 * 256, 1.5f), out(128 * 128);
  for (auto _ : state) {
    t.f32_avg_pool(kPlane, AvgOpts{true, 0}, in.data(), 256, out.data(), 0, kPlane.OH);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "bytes", kBytes);
}

const bool kMax =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_max_pool), "256x256_2x2s2", max_pool);
const bool kAvg =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_avg_pool), "256x256_2x2s2", avg_pool);

}  // namespace
}  // namespace pool
}  // namespace npfast
