// Corr2d row kernels: 4 output rows of 1024 columns with a 3x3 and a 7x7 kernel (GFLOP/s).
#include <vector>

#include "src/kernels/corr2d/corr2d.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace corr2d {
namespace {

constexpr int64_t kCols = 1024;

template <int K>
void rows(benchmark::State& state, const Table& t) {
  const RowsFn<float> fn = rows_kernel<float>(t, K, K);
  const int nin = kMaxRows + K - 1;
  std::vector<float> in(nin * (kCols + K), 0.5f), out(kMaxRows * kCols), taps(K * K, 0.125f);
  std::vector<const float*> ip(nin);
  std::vector<float*> op(kMaxRows);
  for (int r = 0; r < nin; ++r) ip[r] = in.data() + r * (kCols + K);
  for (int r = 0; r < kMaxRows; ++r) op[r] = out.data() + r * kCols;
  for (auto _ : state) {
    fn(ip.data(), op.data(), kMaxRows, kCols, taps.data(), K, K);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "FLOP", 2.0 * K * K * kMaxRows * kCols);
}

const bool k3 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr2d_3x3), "4x1024", rows<3>);
const bool k7 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr2d_7x7), "4x1024", rows<7>);

}  // namespace
}  // namespace corr2d
}  // namespace npfast
