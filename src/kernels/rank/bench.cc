// Rank-filter kernels: a 5-long running minimum across 512 lines of 512 elements, and the 3x3
// and 5x5 float medians of a 512 x 512 plane (outputs per second).
#include <cmath>
#include <random>
#include <vector>

#include "npfast/memory.hpp"
#include "src/kernels/rank/rank.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace rank {
namespace {

constexpr int64_t kN = 512;

void minmax_5(benchmark::State& state, const Table& t) {
  std::vector<float> in((kN + 4) * kN, 1.5f), out(kN * kN);
  std::vector<char> work(minmax_work_bytes(5, kN, sizeof(float)));
  std::vector<const float*> in_rows(kN + 4);
  std::vector<float*> out_rows(kN);
  for (int64_t r = 0; r < kN + 4; ++r) in_rows[r] = in.data() + r * kN;
  for (int64_t r = 0; r < kN; ++r) out_rows[r] = out.data() + r * kN;
  for (auto _ : state) {
    t.f32_minmax(in_rows.data(), out_rows.data(), kN, 5, kN, true, work.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "px", double(kN * kN));
}

// The fused 2-D 5x5 minimum over rows of 4000 (the 4000^2 image's), 64 output rows from a
// ring of 8 input rows: the kernel's in-cache cost per pixel, without the image's memory traffic.
void minmax_2d_5x5(benchmark::State& state, const Table& t) {
  constexpr int64_t kW = 4000, kRows = 64, kRing = 8;
  std::vector<float> in(kRing * (kW + 4)), out(kW), work(kW + 4);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float((i * 7919) % 1000);
  std::vector<const float*> rows(5);
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; ++r) {
      for (int64_t j = 0; j < 5; ++j) rows[j] = in.data() + (r + j) % kRing * (kW + 4);
      t.f32_minmax_2d(rows.data(), out.data(), kW, 5, 5, true, work.data(), r == 0 ? 0 : 4);
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "px", double(kRows * kW));
}

// The streamed pair kernel as the operator calls it on a W^2 image: rows of pitch W, 64-byte
// aligned, outputs at column 2 (b1) of rows also W apart, a ring of 16 input rows (in L2):
// the kernel's in-cache cost per pixel at each width, so that a per-row fixed cost shows as
// the difference between the widths.
template <int64_t kW, bool kLines = false>
void minmax_2d_pair_stream_5x5(benchmark::State& state, const Table& t) {
  constexpr int64_t kRows = 64, kRing = 16;
  Buffer<float> in(kRing * kW), out(2 * kW), work(2 * kW);  // 64-byte aligned
  for (size_t i = 0; i < in.size(); ++i) in[i] = float((i * 7919) % 1000);
  std::vector<const float*> rows(6);
  float* outs[2] = {out.get() + 2, out.get() + kW + 2};
  float* works[2] = {work.get(), work.get() + kW};
  const int64_t ahead = tune_amd() ? 2 * kW * 4 : kFold2dAhead * 4;  // as the operator
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; r += 2) {
      for (int64_t j = 0; j < 6; ++j) rows[j] = in.get() + (r + j) % kRing * kW;
      (kLines ? t.f32_minmax_2d_pair_lines : t.f32_minmax_2d_pair_stream)(
          rows.data(), outs, kW - 4, 5, 5, false, works, r == 0 ? 0 : 4, ahead);
    }
    benchmark::DoNotOptimize(out.get());
  }
  set_rate(state, "px", double(kRows * kW));
}

// kFar: the prefetching kernels for outputs far bigger than the cache; in cache, as here, they
// show what the prefetch costs (docs/ndimage-speed.md "rstream": 3-4%). kKeys: the `_keys`
// kernels (comparing int32 keys; generic.h, rank_net).
template <int K, bool kFar = false, bool kKeys = false>
void median(benchmark::State& state, const Table& t) {
  const int64_t row = kN + K - 1;
  std::vector<float> in(row * row), out(kN);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float((i * 7919) % 1000) - 500.0f;
  const RankNetFn<float> k = kKeys    ? (K == 3 ? t.f32_rank_net_n9_keys : t.f32_rank_net_n25_keys)
                             : K == 3 ? (kFar ? t.f32_rank_net_n9_far : t.f32_rank_net_n9)
                                      : (kFar ? t.f32_rank_net_n25_far : t.f32_rank_net_n25);
  std::vector<int64_t> offsets(K * K);
  for (int j = 0; j < K * K; ++j) offsets[j] = (j / K) * row + j % K;
  for (auto _ : state) {
    for (int64_t r = 0; r < kN; ++r)
      k(in.data() + r * row, offsets.data(), K * K / 2, kN, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "px", double(kN * kN));
}

// uint8 median3_rows on median<3>'s image (its output rows into one row, as there).
void median3_rows_u8(benchmark::State& state, const Table& t) {
  const int64_t row = kN + 2;
  std::vector<uint8_t> in(row * row), out(kN);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>((i * 7919) % 251);
  for (auto _ : state) {
    t.u8_median3_rows(in.data(), row, out.data(), 0, kN, kN);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "px", double(kN * kN));
}

// f32_rank_tile calls as the operator sizes them (about 32 values a window value, a tile's
// input about square): K x K medians of random values (a regular pattern lets the branch
// predictor learn the kernel's walks: 1.6x faster).
template <int K>
void tile_median(benchmark::State& state, const Table& t) {
  const int64_t row = static_cast<int64_t>(std::sqrt(std::max(1024.0, 32.0 * K * K)));
  const int64_t kOut = row - K + 1;
  std::vector<float> in(row * row), out(kOut * kOut);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  for (float& x : in) x = u(rng);
  std::vector<unsigned char> work(rank_tile_work_bytes(sizeof(float), K * K), 0);
  std::vector<int64_t> runs;
  for (int64_t r = 0; r < K; ++r) runs.insert(runs.end(), {r, 0, K});
  for (auto _ : state) {
    t.f32_rank_tile(in.data(), row, 1, runs.data(), K, K, K, K * K / 2, kOut, kOut, out.data(),
                    kOut, 1, work.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "px", double(kOut * kOut));
}

const bool kTile4 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_tile), "median_4x4", tile_median<4>);
const bool kTile9 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_tile), "median_9x9", tile_median<9>);
const bool kTile15 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_tile),
                                             "median_15x15", tile_median<15>);
const bool kMinMax =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_minmax), "512x512_k5", minmax_5);
const bool kMinMax2d =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_minmax_2d), "4000_k5x5", minmax_2d_5x5);
const bool kPairStream2000 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_minmax_2d_pair_stream), "2000_k5x5",
                            minmax_2d_pair_stream_5x5<2000>);
const bool kPairStream4000 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_minmax_2d_pair_stream), "4000_k5x5",
                            minmax_2d_pair_stream_5x5<4000>);
const bool kPairLines4000 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_minmax_2d_pair_lines), "4000_k5x5",
                            minmax_2d_pair_stream_5x5<4000, true>);
const bool kPairStream8000 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_minmax_2d_pair_stream), "8000_k5x5",
                            minmax_2d_pair_stream_5x5<8000>);
const bool kMedian3 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_net_n9),
                                              "512x512_median_3x3", median<3>);
const bool kMedian5 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_net_n25),
                                              "512x512_median_5x5", median<5>);
const bool kMedian3Far = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_net_n9_far),
                                                 "512x512_median_3x3", median<3, true>);
const bool kMedian5Far = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_net_n25_far),
                                                 "512x512_median_5x5", median<5, true>);
const bool kMedian3Keys = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_net_n9_keys),
                                                  "512x512_median_3x3", median<3, false, true>);
const bool kMedian5Keys = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_rank_net_n25_keys),
                                                  "512x512_median_5x5", median<5, false, true>);
const bool kMedian3RowsU8 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, u8_median3_rows), "512x512", median3_rows_u8);

}  // namespace
}  // namespace rank
}  // namespace npfast
