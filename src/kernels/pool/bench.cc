// Pooling kernels: 2x2 stride-2 max and average pooling of one 256 x 256 plane, global average
// pools (GB/s of input read plus output written).
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

// Global average pool: 2048 planes of 7 x 7 (ResNet-50's last pool, one image) and 64 of
// 56 x 56, and the same 7 x 7 channels-last.
void plane_means(benchmark::State& state, const Table& t, int64_t rows, int64_t n) {
  std::vector<float> in(static_cast<size_t>(rows * n), 1.5f), out(static_cast<size_t>(rows));
  for (auto _ : state) {
    t.f32_plane_means(in.data(), rows, n, 1, n, n, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "bytes", static_cast<double>(rows * (n + 1)) * sizeof(float));
}

void plane_means_nhwc(benchmark::State& state, const Table& t) {
  std::vector<float> in(49 * 2048, 1.5f), out(2048);
  for (auto _ : state) {
    t.f32_plane_means_nhwc(in.data(), 49, 2048, 2048, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "bytes", 50.0 * 2048 * sizeof(float));
}

const bool kMax =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_max_pool), "256x256_2x2s2", max_pool);
const bool kAvg =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_avg_pool), "256x256_2x2s2", avg_pool);

const bool kMeans7 = register_per_isa<Table>(
    NPFAST_KERNEL_BASE(Table, f32_plane_means), "2048x7x7",
    [](benchmark::State& s, const Table& t) { plane_means(s, t, 2048, 49); });
const bool kMeans56 = register_per_isa<Table>(
    NPFAST_KERNEL_BASE(Table, f32_plane_means), "64x56x56",
    [](benchmark::State& s, const Table& t) { plane_means(s, t, 64, 3136); });
const bool kMeansNhwc = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_plane_means_nhwc),
                                                "7x7x2048", plane_means_nhwc);

}  // namespace
}  // namespace pool
}  // namespace npfast
