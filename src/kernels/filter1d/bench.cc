// filter1d kernels: a block of 32 float lines of 1024 elements, a 17-tap symmetric Gaussian
// correlation and a 5-wide uniform filter; the 17-tap correlation along one 4096-long line
// (the horizontal pass of gaussian_filter sigma 2); one row of the fused 2-D uniform filter
// and one of sobel (elements per second).
#include <vector>

#include "src/kernels/filter1d/filter1d.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace filter1d {
namespace {

constexpr int64_t kN = 1024, kLanes = 32;

std::vector<float*> rows_of(std::vector<float>& block) {
  std::vector<float*> r(block.size() / kLanes);
  for (size_t i = 0; i < r.size(); ++i) r[i] = block.data() + i * kLanes;
  return r;
}

void corr17(benchmark::State& state, const Table& t) {
  std::vector<float> in((kN + 16) * kLanes, 0.5f), out(kN * kLanes), w(17, 1.0f / 17);
  const std::vector<float*> ir = rows_of(in), orows = rows_of(out);
  for (auto _ : state) {
    t.f32_corr1d(ir.data(), orows.data(), kN, kLanes, w.data(), 17, 1);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(kN * kLanes));
}

// The vertical pass of the fused gaussian_filter sigma 2: a band of 16 output rows of W lanes
// from 32 input rows (W = 4000: 500 KiB of input, an L2 working set; W = 256: L1).
// double: the integer and float64 filters' pass across rows (W = 1000: 250 KiB of input, in
// L2; W = 128: L1).
template <int64_t W, class T = float>
void corr17_rows(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 16;
  const Corr1dFn<T> k = of<T>(t.f32_corr1d_rows, t.f64_corr1d_rows);
  std::vector<T> in((n + 16) * W, T(0.5)), out(n * W), w(17, T(1) / 17);
  std::vector<const T*> ir(n + 16);
  std::vector<T*> orows(n);
  for (int64_t i = 0; i < n + 16; ++i) ir[i] = in.data() + i * W;
  for (int64_t i = 0; i < n; ++i) orows[i] = out.data() + i * W;
  for (auto _ : state) {
    k(ir.data(), orows.data(), n, W, w.data(), 17, 1);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(n * W));
}

void uniform5(benchmark::State& state, const Table& t) {
  std::vector<float> in((kN + 4) * kLanes, 0.5f), out(kN * kLanes);
  const std::vector<float*> ir = rows_of(in), orows = rows_of(out);
  for (auto _ : state) {
    t.f32_uniform1d(ir.data(), orows.data(), kN, kLanes, 5);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(kN * kLanes));
}

// The fused 2-D uniform filter size 5 on 4000-wide rows: 64 output rows from a ring of 8 input
// rows (an L2 working set, no image traffic: the in-cache rate of uniform_filter at 4000^2).
void uniform2d_5x5(benchmark::State& state, const Table& t) {
  constexpr int64_t W = 4000, n = W - 4, rows = 64;
  std::vector<float> in(8 * W, 0.5f), out(rows * W), v(W);
  std::vector<const float*> ir(5);
  for (auto _ : state) {
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t r = 0; r < 5; ++r) ir[r] = in.data() + (i + r) % 8 * W;
      t.f32_uniform2d(ir.data(), out.data() + i * W, n, 5, 5, v.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(rows * n));
}

// The same rows four a call (f32_uniform2d_rows, as uniform_rows in the filter).
void uniform2d_rows_5x5(benchmark::State& state, const Table& t) {
  constexpr int64_t W = 4000, n = W - 4, rows = 64, m = 4;
  std::vector<float> in(16 * W, 0.5f), out(rows * W), v(m * W);
  for (auto _ : state) {
    for (int64_t i = 0; i < rows; i += m) {
      const float* ir[m + 4];
      float* o[m];
      float* vr[m];
      for (int64_t r = 0; r < m + 4; ++r) ir[r] = in.data() + (i + r) % 16 * W;
      for (int64_t r = 0; r < m; ++r) o[r] = out.data() + (i + r) * W, vr[r] = v.data() + r * W;
      t.f32_uniform2d_rows(ir, o, m, n, 5, 5, vr);
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(rows * n));
}

// sobel's row (f32_sep3_row) on 4000-wide rows: 64 output rows from a ring of 8 input rows.
void sep3_sobel(benchmark::State& state, const Table& t) {
  constexpr int64_t W = 4000, rows = 64;
  std::vector<float> in(8 * W, 0.5f), out(rows * W);
  const float wh[2] = {-1.0f, 0.0f}, wv[2] = {1.0f, 2.0f};
  for (auto _ : state) {
    for (int64_t i = 0; i < rows; ++i) {
      const float* ir[3];
      for (int64_t r = 0; r < 3; ++r) ir[r] = in.data() + (i + r) % 8 * W + 1;
      t.f32_sep3_row(ir, out.data() + i * W + 1, W - 2, wh, -1, wv, 1);
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(rows * (W - 2)));
}

// The same rows four a call (f32_sep3_rows, as sep3_rows in the filter).
void sep3_rows_sobel(benchmark::State& state, const Table& t) {
  constexpr int64_t W = 4000, rows = 64, m = 4;
  std::vector<float> in(8 * W, 0.5f), out(rows * W);
  const float wh[2] = {-1.0f, 0.0f}, wv[2] = {1.0f, 2.0f};
  for (auto _ : state) {
    for (int64_t i = 0; i < rows; i += m) {
      const float* ir[m + 2];
      float* o[m];
      for (int64_t r = 0; r < m + 2; ++r) ir[r] = in.data() + (i + r) % 8 * W + 1;
      for (int64_t r = 0; r < m; ++r) o[r] = out.data() + (i + r) * W + 1;
      t.f32_sep3_rows(ir, o, m, W - 2, wh, -1, wv, 1);
    }
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(rows * (W - 2)));
}

template <bool X2 = false>
void corr17_line(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 4096;
  std::vector<float> in(n + 16, 0.5f), out(n), w(17, 1.0f / 17);
  const Corr1dLineFn<float> k = X2 ? t.f32_corr1d_line_x2 : t.f32_corr1d_line;
  for (auto _ : state) {
    k(in.data(), out.data(), n, w.data(), 17, 1);
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(n));
}

// corr17_line copying rows 4096 floats long out of 32 MiB (from L3 or memory, as
// pair_fused's next band) into one L1-resident row: against corr17_line, what the copy costs.
void corr17_line_copy(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 4096, rows = 2048;
  std::vector<float> in(n + 16, 0.5f), out(n), w(17, 1.0f / 17), src(rows * n, 0.25f), dst(n);
  int64_t r = 0;
  for (auto _ : state) {
    t.f32_corr1d_line_copy(in.data(), out.data(), n, w.data(), 17, 1, src.data() + r * n,
                           dst.data());
    r = (r + 1) % rows;
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(dst.data());
  }
  set_rate(state, "elements", double(n));
}

// The pass along rows of the fused gaussian_filter sigma 2 into a streamed output: a band of
// 16 extended rows of 4000 outputs (from L2) streamed into 16 rows of a 64 MiB image, band
// after band (the output goes to memory, as in the filter at 4000^2).
template <bool X2 = false>
void corr17_lines_nt(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 4000, rows = 16, bands = 4000 / rows;
  const Corr1dLinesFn<float> k = X2 ? t.f32_corr1d_lines_nt_x2 : t.f32_corr1d_lines_nt;
  std::vector<float> in(rows * (n + 16), 0.5f), out(bands * rows * n), w(17, 1.0f / 17);
  std::vector<const float*> ir(rows);
  std::vector<float*> orows(rows);
  for (int64_t r = 0; r < rows; ++r) ir[r] = in.data() + r * (n + 16);
  int64_t b = 0;
  for (auto _ : state) {
    for (int64_t r = 0; r < rows; ++r) orows[r] = out.data() + (b * rows + r) * n;
    k(ir.data(), orows.data(), rows, n, w.data(), 17, 1, nullptr);
    b = (b + 1) % bands;
    benchmark::DoNotOptimize(out.data());
  }
  set_rate(state, "elements", double(rows * n));
}

const bool kl = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_line), "4096_17tap",
                                        corr17_line<>);
const bool kl2 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_line_x2),
                                         "4096_17tap", corr17_line<true>);
const bool klc = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_line_copy),
                                         "4096_17tap", corr17_line_copy);
const bool kc =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d), "32x1024_17tap", corr17);
const bool kr4000 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_rows),
                                            "16x4000_17tap", corr17_rows<4000>);
const bool kr256 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_rows),
                                           "16x256_17tap", corr17_rows<256>);
const bool kr1000d = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f64_corr1d_rows),
                                             "16x1000_17tap", corr17_rows<1000, double>);
const bool kr128d = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f64_corr1d_rows),
                                            "16x128_17tap", corr17_rows<128, double>);
const bool ku =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_uniform1d), "32x1024_5", uniform5);
const bool kln = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_lines_nt),
                                         "16x4000_17tap", corr17_lines_nt<>);
const bool kln2 = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_corr1d_lines_nt_x2),
                                          "16x4000_17tap", corr17_lines_nt<true>);

const bool ku2 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_uniform2d), "4000_k5x5", uniform2d_5x5);
const bool ku2m = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_uniform2d_rows),
                                          "4000_k5x5_m4", uniform2d_rows_5x5);
const bool ks3 =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_sep3_row), "4000_sobel", sep3_sobel);
const bool ks3m = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_sep3_rows), "4000_sobel_m4",
                                          sep3_rows_sobel);

}  // namespace
}  // namespace filter1d
}  // namespace npfast
