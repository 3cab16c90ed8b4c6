// Every registered corr2d row kernel against the sum written out in double (all shapes, row
// counts and column counts around the vector and block widths), and the operator against a direct
// evaluation of its formula for every border, stride and error case.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "npfast/corr2d.hpp"
#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "src/kernels/corr2d/corr2d.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/ops/corr2d.h"
#include "tests/cpp/view2d.h"

namespace npfast {
namespace corr2d {
namespace {

// Tolerance: the SIMD kernels accumulate in T, so errors scale with sum |tap * x| and kh * kw.
template <class T>
double tol(int taps) {
  return (sizeof(T) == 4 ? 1.2e-7 : 2.3e-16) * (taps + 2);
}

template <class T>
void check_isa(Isa isa) {
  const Table* table = kernels<Table>(isa);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  const int shapes[][2] = {{3, 3}, {5, 5}, {7, 7}, {1, 1}, {1, 5}, {6, 1}, {2, 4}, {4, 9}, {11, 3}};
  for (const auto& s : shapes) {
    const int kh = s[0], kw = s[1];
    const RowsFn<T> k = rows_kernel<T>(*table, kh, kw);
    std::vector<T> taps(kh * kw);
    for (auto& t : taps) t = static_cast<T>(dist(rng));
    for (int nrows = 1; nrows <= kMaxRows; ++nrows) {
      for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 48, 49, 100}) {
        const int nin = nrows + kh - 1;
        const int64_t width = n + kw - 1;
        // Rows are separately allocated with a one-element offset: no alignment assumed.
        std::vector<std::vector<T>> rows(nin, std::vector<T>(width + 1));
        std::vector<const T*> in(nin);
        for (int r = 0; r < nin; ++r) {
          for (auto& v : rows[r]) v = static_cast<T>(dist(rng));
          in[r] = rows[r].data() + 1;
        }
        std::vector<std::vector<T>> got(nrows, std::vector<T>(n + 2, T(-777))),
            want(nrows, std::vector<T>(n + 2, T(-777)));
        std::vector<T*> og(nrows), ow(nrows);
        for (int o = 0; o < nrows; ++o) {
          og[o] = got[o].data() + 1;
          ow[o] = want[o].data() + 1;
        }
        k(in.data(), og.data(), nrows, n, taps.data(), kh, kw);
        for (int o = 0; o < nrows; ++o)
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0;
            for (int a = 0; a < kh; ++a)
              for (int b = 0; b < kw; ++b)
                sum += double(taps[a * kw + b]) * double(in[o + a][j + b]);
            ow[o][j] = static_cast<T>(sum);
          }
        for (int o = 0; o < nrows; ++o) {
          ASSERT_EQ(got[o][0], T(-777)) << "wrote before the row";
          ASSERT_EQ(got[o][n + 1], T(-777)) << "wrote past the row";
          for (int64_t j = 0; j < n; ++j) {
            double mag = 0;
            for (int a = 0; a < kh; ++a)
              for (int b = 0; b < kw; ++b)
                mag += std::fabs(double(taps[a * kw + b]) * double(in[o + a][j + b]));
            ASSERT_NEAR(got[o][j + 1], want[o][j + 1], tol<T>(kh * kw) * mag + 1e-300)
                << isa_name(isa) << " " << kh << "x" << kw << " nrows=" << nrows << " n=" << n
                << " o=" << o << " j=" << j;
          }
        }
      }
    }
  }
}

class Corr2dIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(Corr2dIsa, MatchesReference) {
  const Isa isa = GetParam();
  check_isa<float>(isa);
  check_isa<double>(isa);
}

// The streaming and right-to-left 3x3 kernels give the plain kernel's bits, for output rows
// 64-byte aligned, 32 bytes off a line and misaligned, with tails; rows whose pitch keeps one
// skew, rows a pitch 32 bytes off a line apart (every other row on a line) and one element off
// (each row its own skew: on AVX-512 the streaming kernel's shifted stores); and write nothing
// outside their rows' n columns (64 guard bytes before the first row at least). Inputs hold a
// few infinities, NaNs and negative zeros; the outputs are compared as bytes.
template <class T>
void check_variant(Isa isa, RowsFn<T> (*variant)(const Table&, int, int)) {
  const Table* table = kernels<Table>(isa);
  const RowsFn<T> plain = rows_kernel<T>(*table, 3, 3), other = variant(*table, 3, 3);
  ASSERT_NE(other, nullptr);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  std::vector<T> taps(9);
  for (auto& t : taps) t = static_cast<T>(dist(rng));
  for (int nrows = 1; nrows <= kMaxRows; ++nrows)
    for (int64_t n : {1, 17, 47, 48, 49, 96, 100, 145, 200, 1100})
      for (int64_t skew : {int64_t{0}, int64_t{32}, static_cast<int64_t>(sizeof(T))})
        for (int64_t extra : {int64_t{0}, 32 / static_cast<int64_t>(sizeof(T)), int64_t{1}}) {
          // A multiple of 64 bytes (rows keep the skew), 32 bytes more (every other row moves 32
          // bytes along its line) or one element more.
          const int64_t stride = (n + 79) / 16 * 16 + extra;
          const int64_t half = kMaxRows * stride + 128;
          std::vector<T> in((nrows + 2) * (n + 2)), buf(2 * half);
          for (auto& v : in) v = static_cast<T>(dist(rng));
          const T special[] = {std::numeric_limits<T>::infinity(),
                               -std::numeric_limits<T>::infinity(),
                               std::numeric_limits<T>::quiet_NaN(), T(-0.0)};
          for (size_t i = 0; i < in.size(); i += 37) in[i] = special[(i / 37) % 4];
          std::vector<const T*> ip(nrows + 2);
          for (int r = 0; r < nrows + 2; ++r) ip[r] = in.data() + r * (n + 2);
          T* base[2];
          std::fill(buf.begin(), buf.end(), T(-777));
          for (int c = 0; c < 2; ++c) {
            char* b = reinterpret_cast<char*>(buf.data() + c * half);
            b += (64 - reinterpret_cast<uintptr_t>(b) % 64) % 64 + 64 + skew;
            base[c] = reinterpret_cast<T*>(b);
          }
          std::vector<T*> o0(nrows), o1(nrows);
          for (int o = 0; o < nrows; ++o) {
            o0[o] = base[0] + o * stride;
            o1[o] = base[1] + o * stride;
          }
          plain(ip.data(), o0.data(), nrows, n, taps.data(), 3, 3);
          other(ip.data(), o1.data(), nrows, n, taps.data(), 3, 3);
          elementwise::stream_fence();
          for (int o = 0; o < nrows; ++o)
            for (int64_t j = 0; j < n; ++j)
              ASSERT_EQ(std::memcmp(&o0[o][j], &o1[o][j], sizeof(T)), 0)
                  << isa_name(isa) << " nrows=" << nrows << " n=" << n << " skew=" << skew
                  << " extra=" << extra << " o=" << o << " j=" << j << ": " << o0[o][j] << " vs "
                  << o1[o][j];
          const T* first = base[1];
          const T* last = base[1] + (nrows - 1) * stride + n;
          for (const T* p = buf.data() + half; p < buf.data() + buf.size(); ++p)
            if (p < first || p >= last || (p - first) % stride >= n) {
              ASSERT_EQ(*p, T(-777))
                  << isa_name(isa) << " nrows=" << nrows << " n=" << n << " skew=" << skew
                  << " extra=" << extra << ": wrote outside the rows at " << p - first;
            }
        }
}

TEST_P(Corr2dIsa, StreamingMatchesPlainBitwise) {
  check_variant<float>(GetParam(), stream_kernel<float>);
  check_variant<double>(GetParam(), stream_kernel<double>);
}

TEST_P(Corr2dIsa, ReverseMatchesPlainBitwise) {
  check_variant<float>(GetParam(), reverse_kernel<float>);
  check_variant<double>(GetParam(), reverse_kernel<double>);
}

// f64_corr2d_scipy makes SciPy's sums bit for bit: against the sum written out here (from 0.0,
// row-major, taps with |w| <= DBL_EPSILON skipped, each product rounded before its add) and the
// scalar table's kernel, as bytes, for taps that include 0, -0, DBL_EPSILON (skipped) and
// 2 * DBL_EPSILON (kept) beside ordinary ones, inputs with infinities, NaNs and negative zeros
// (a skipped tap must not turn an infinity into a NaN), every row count and columns around the
// vector and block widths; nothing is written outside the rows.
TEST_P(Corr2dIsa, ScipySumsMatchTheirFormulaBitwise) {
  const Isa isa = GetParam();
  const RowsFn<double> k = kernels<Table>(isa)->f64_corr2d_scipy;
  const RowsFn<double> ref = kernels<Table>(Isa::scalar)->f64_corr2d_scipy;
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  const double eps = std::numeric_limits<double>::epsilon();
  const double odd[] = {0.0, -0.0, eps, -eps, 2 * eps, 1e-17};
  const double special[] = {std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(), -0.0};
  const int shapes[][2] = {{3, 3}, {5, 5}, {1, 1}, {1, 7}, {4, 1}, {2, 3}, {7, 7}};
  for (const auto& s : shapes) {
    const int kh = s[0], kw = s[1];
    std::vector<double> taps(kh * kw);
    for (size_t t = 0; t < taps.size(); ++t)
      taps[t] = t % 3 == 1 ? odd[(t / 3) % 6] : dist(rng) / 9.0;
    for (int nrows = 1; nrows <= kMaxRows; ++nrows)
      for (int64_t n : {1, 3, 7, 8, 9, 16, 23, 24, 25, 33, 48, 49, 100}) {
        const int nin = nrows + kh - 1;
        std::vector<std::vector<double>> rows(nin, std::vector<double>(n + kw));
        std::vector<const double*> in(nin);
        for (int r = 0; r < nin; ++r) {
          for (size_t i = 0; i < rows[r].size(); ++i)
            rows[r][i] =
                (r * 31 + i) % 29 == 5 ? special[(r + i) % 4] : std::floor(dist(rng) * 100.0);
          in[r] = rows[r].data() + 1;
        }
        std::vector<std::vector<double>> got(nrows, std::vector<double>(n + 2, -777.0)),
            want(nrows, std::vector<double>(n + 2, -777.0));
        std::vector<double*> og(nrows), ow(nrows);
        for (int o = 0; o < nrows; ++o) {
          og[o] = got[o].data() + 1;
          ow[o] = want[o].data() + 1;
        }
        k(in.data(), og.data(), nrows, n, taps.data(), kh, kw);
        ref(in.data(), ow.data(), nrows, n, taps.data(), kh, kw);
        for (int o = 0; o < nrows; ++o) {
          ASSERT_EQ(got[o][0], -777.0) << "wrote before the row";
          ASSERT_EQ(got[o][n + 1], -777.0) << "wrote past the row";
          for (int64_t j = 0; j < n; ++j) {
            double sum = 0.0;
            for (int a = 0; a < kh; ++a)
              for (int b = 0; b < kw; ++b) {
                const double w = taps[a * kw + b];
                if (std::fabs(w) <= eps) continue;
                const double p = in[o + a][j + b] * w;
                sum = sum + p;
              }
            ASSERT_EQ(std::memcmp(&og[o][j], &sum, sizeof sum), 0)
                << isa_name(isa) << " " << kh << "x" << kw << " nrows=" << nrows << " n=" << n
                << " o=" << o << " j=" << j << ": " << og[o][j] << " vs " << sum;
            ASSERT_EQ(std::memcmp(&og[o][j], &ow[o][j], sizeof sum), 0) << "the scalar kernel";
          }
        }
      }
  }
}

INSTANTIATE_TEST_SUITE_P(All, Corr2dIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// ---------------------------------------------------------------------------------------------
// The operator against its formula, evaluated directly.

int64_t ext_index(int64_t i, int64_t n, Border b) {
  if (i >= 0 && i < n) return i;
  switch (b) {
    case Border::fill:
      return -1;
    case Border::nearest:
      return i < 0 ? 0 : n - 1;
    case Border::wrap:
      return ((i % n) + n) % n;
    case Border::reflect: {
      const int64_t r = ((i % (2 * n)) + 2 * n) % (2 * n);
      return r < n ? r : 2 * n - 1 - r;
    }
    case Border::mirror: {
      if (n == 1) return 0;
      const int64_t p = 2 * n - 2, r = ((i % p) + p) % p;
      return r < n ? r : p - r;
    }
  }
  return -1;
}

TEST(Corr2dOp, MatchesFormulaEveryBorderAndLayout) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  for (Border border :
       {Border::fill, Border::wrap, Border::reflect, Border::nearest, Border::mirror}) {
    for (int trial = 0; trial < 12; ++trial) {
      const int64_t H = 1 + rng() % 20, W = 1 + rng() % 200;
      const int kh = 1 + rng() % 6, kw = 1 + rng() % 8;
      const int64_t Ho = 1 + rng() % 24, Wo = 1 + rng() % 204;
      const int64_t top = static_cast<int64_t>(rng() % 9) - 4,
                    left = static_cast<int64_t>(rng() % 11) - 5;
      const bool transposed = trial % 3 == 1;  // input read with a non-unit column stride
      std::vector<double> x(H * W), k(kh * kw), out(Ho * Wo * 2, 99.0);
      for (auto& v : x) v = dist(rng);
      for (auto& v : k) v = dist(rng);
      if (trial % 4 == 3) {  // an exactly rank-1 kernel takes the two-pass path
        for (int a = 0; a < kh; ++a)
          for (int b = 0; b < kw; ++b) k[a * kw + b] = (a + 1.5) * (b - 2.25);
      }
      // Storage (W, H) read transposed when `transposed`.
      const View vin = transposed ? view2d(x.data(), DType::f64, H, W, 8, H * 8)
                                  : view2d(x.data(), DType::f64, H, W, W * 8, 8);
      auto at = [&](int64_t r, int64_t c) { return transposed ? x[c * H + r] : x[r * W + c]; };
      const View vk = view2d(k.data(), DType::f64, kh, kw, kw * 8, 8);
      const bool strided_out = trial % 2 == 1;
      const View vout = view2d(out.data(), DType::f64, Ho, Wo, Wo * 16, strided_out ? 16 : 8);
      correlate2d_general(vin, vk, vout, top, left, border, 0.25);
      for (int64_t i = 0; i < Ho; ++i)
        for (int64_t j = 0; j < Wo; ++j) {
          double want = 0;
          for (int a = 0; a < kh; ++a)
            for (int b = 0; b < kw; ++b) {
              const int64_t r = ext_index(i + a - top, H, border),
                            c = ext_index(j + b - left, W, border);
              want += k[a * kw + b] * ((r < 0 || c < 0) ? 0.25 : at(r, c));
            }
          const double got = out[i * Wo * 2 + j * (strided_out ? 2 : 1)];
          ASSERT_NEAR(got, want, 1e-12) << "border " << int(border) << " trial " << trial;
        }
    }
  }
}

TEST(Corr2dOp, StacksFloatAndIntegerInputs) {
  // A (2, 3, H, W) stack, float32 image and kernel computed in float32; an int16 image in
  // float64; output written through negative strides.
  std::mt19937 rng(5);
  const int64_t H = 13, W = 170, kh = 3, kw = 4;
  std::vector<float> x(6 * H * W), k(kh * kw);
  std::vector<int16_t> xi(6 * H * W);
  for (size_t i = 0; i < x.size(); ++i) {
    xi[i] = static_cast<int16_t>(static_cast<int>(rng() % 200) - 100);
    x[i] = xi[i] * 0.25f;
  }
  for (auto& v : k) v = static_cast<float>(static_cast<int>(rng() % 9) - 4);
  View vx;
  vx.data = x.data();
  vx.dtype = DType::f32;
  vx.ndim = 4;
  const int64_t shape[4] = {2, 3, H, W};
  const int64_t st[4] = {3 * H * W * 4, H * W * 4, W * 4, 4};
  for (int i = 0; i < 4; ++i) {
    vx.shape[i] = shape[i];
    vx.strides[i] = st[i];
  }
  View vk = view2d(k.data(), DType::f32, kh, kw, kw * 4, 4);
  std::vector<float> out(6 * H * W);
  View vo = vx;
  vo.data = out.data() + out.size() - 1;  // every axis reversed
  for (int i = 0; i < 4; ++i) vo.strides[i] = -st[i];
  vo.data = out.data() + out.size() - 1;
  signal_corr2d(vx, vk, vo, Corr2dMode::same, Border::reflect, 0, false);
  View vxi = vx;
  vxi.data = xi.data();
  vxi.dtype = DType::i16;
  for (int i = 0; i < 4; ++i) vxi.strides[i] = st[i] / 2;
  std::vector<double> kd(k.begin(), k.end()), outd(6 * H * W);
  View vkd = view2d(kd.data(), DType::f64, kh, kw, kw * 8, 8);
  View vod = vx;
  vod.data = outd.data();
  vod.dtype = DType::f64;
  for (int i = 0; i < 4; ++i) vod.strides[i] = st[i] * 2;
  signal_corr2d(vxi, vkd, vod, Corr2dMode::same, Border::reflect, 0, false);
  for (int64_t p = 0; p < 6; ++p)
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) {
        double want = 0;
        for (int a = 0; a < kh; ++a)
          for (int b = 0; b < kw; ++b) {
            const int64_t r = ext_index(i + a - 1, H, Border::reflect),
                          c = ext_index(j + b - 1, W, Border::reflect);
            want += k[a * kw + b] * xi[(p * H + r) * W + c];
          }
        const int64_t at = (p * H + i) * W + j;
        ASSERT_EQ(out[out.size() - 1 - at], static_cast<float>(want * 0.25))
            << p << " " << i << " " << j;
        ASSERT_EQ(outd[at], want);
      }
}

TEST(Corr2dOp, RejectsBadInputWithoutWriting) {
  float x[16] = {}, k[4] = {1, 2, 3, 4}, out[16];
  for (float& v : out) v = 5.0f;
  const View vx = view2d(x, DType::f32, 4, 4, 16, 4);
  const View vout = view2d(out, DType::f32, 4, 4, 16, 4);
  View k1 = view2d(k, DType::f32, 4, 1, 4, 4);
  k1.ndim = 1;
  EXPECT_THROW(signal_corr2d(vx, k1, vout, Corr2dMode::same, Border::fill, 0, false), ValueError);
  const View k0 = view2d(k, DType::f32, 0, 2, 8, 4);
  EXPECT_THROW(signal_corr2d(vx, k0, vout, Corr2dMode::same, Border::fill, 0, false), ValueError);
  const View kd = view2d(k, DType::f64, 2, 1, 8, 8);
  EXPECT_THROW(signal_corr2d(vx, kd, vout, Corr2dMode::same, Border::fill, 0, false), TypeError);
  const View k2 = view2d(k, DType::f32, 2, 2, 8, 4);
  const View small = view2d(out, DType::f32, 3, 3, 12, 4);
  EXPECT_THROW(signal_corr2d(vx, k2, small, Corr2dMode::same, Border::fill, 0, false), ValueError);
  const View wide = view2d(k, DType::f32, 1, 5, 20, 4);  // 1x5 vs 4x4: neither contains the other
  EXPECT_THROW(signal_corr2d(vx, wide, vout, Corr2dMode::valid, Border::fill, 0, false),
               ValueError);
  const int64_t origin[2] = {2, 0};
  EXPECT_THROW(ndimage_corr2d(vx, k2, vout, Border::reflect, 0, origin, false), ValueError);
  for (float v : out) EXPECT_EQ(v, 5.0f);
}

TEST(Corr2dOp, HugeShapesRaiseMemoryError) {
  float x = 1, k = 1;
  View vx = view2d(&x, DType::f32, int64_t{1} << 62, int64_t{1} << 62, 0, 0);
  const View vk = view2d(&k, DType::f32, 1, 1, 4, 4);
  View big = view2d(&k, DType::f32, (int64_t{1} << 62), 3, 0, 0);
  EXPECT_THROW(signal_corr2d_shape(vx, big, Corr2dMode::full), MemoryError);
  EXPECT_NO_THROW(signal_corr2d_shape(vx, vk, Corr2dMode::full));
}

// The page offset for a new output keeps every input row the kernels may load next (rows up to
// kh + 1 apart) off the output rows they just stored, modulo 4 KiB: (out - in + k * rs) mod 4096
// never in [0, 448]. Rows of different strides, other dtypes and narrow rows get no placement.
TEST(Corr2dOp, OutputPageOffsetAvoidsTheAlias) {
  alignas(64) static float x[64];
  for (const int64_t w : {768, 1000, 1024, 1200, 1500, 1504, 1536, 2000, 3000, 4000}) {
    for (const int64_t in_off : {0, 16, 1040, 2064, 4080}) {
      View v = view2d(x, DType::f32, w, w, w * 4, 4);
      v.data = reinterpret_cast<void*>(uintptr_t{1} << 20 | static_cast<uintptr_t>(in_off));
      const int64_t at = corr2d_output_page_offset(v, 3, DType::f32, w * 4);
      ASSERT_GE(at, 0) << w << " " << in_off;
      EXPECT_LT(at, 4096);
      EXPECT_EQ(at % 64, 0);
      for (int64_t k = -4; k <= 4; ++k) {
        const int64_t d = (((at - in_off + k * w * 4) % 4096) + 4096) % 4096;
        EXPECT_GT(d, 448) << "width " << w << " input at " << in_off << " rows " << k;
      }
    }
  }
  View v = view2d(x, DType::f32, 2000, 2000, 8000, 4);
  EXPECT_EQ(corr2d_output_page_offset(v, 3, DType::f32, 8008), -1);   // other row stride
  EXPECT_EQ(corr2d_output_page_offset(v, 3, DType::f64, 16000), -1);  // other dtype
  View narrow = view2d(x, DType::f32, 64, 64, 256, 4);
  EXPECT_EQ(corr2d_output_page_offset(narrow, 3, DType::f32, 256), -1);  // padded whole
}

// The 3x3 interior's direction on synthetic addresses, against the rule stated in bytes: a
// row pair (output row q of a group of kMaxRows, input row r its windows read) whose store lies
// 64-288 bytes ahead of the load modulo 4 KiB (middle of the loads to the stores) stalls a
// left-to-right run, one that far behind stalls a right-to-left run; right to left exactly where
// some pair stalls forward and fewer than a third as many backward. Then the distances measured
// (docs/threads.md "outalias", input at page offset 16, D = out - in).
TEST(Corr2dOp, InteriorRunsReverseExactlyWhereForwardRowsAlias) {
  auto pairs = [](uintptr_t load, uintptr_t store, int64_t rs, int64_t top, bool ahead) {
    int n = 0;
    for (int64_t q = 0; q < kMaxRows; ++q)
      for (int64_t r = 0; r < kMaxRows + 2; ++r) {
        const uintptr_t s = store + static_cast<uintptr_t>(q * rs);
        const uintptr_t l = load + static_cast<uintptr_t>((r - top) * rs);
        const uintptr_t gap = (ahead ? s - l : l - s) % 4096;
        n += gap >= 64 && gap <= 288;
      }
    return n;
  };
  int reversed = 0, total = 0;
  for (const int64_t rs : {1400, 2000, 4000, 4800, 5600, 8000, -1400})
    for (const int64_t top : {0, 1, 2})
      for (const uintptr_t at : {uintptr_t{16}, uintptr_t{4080}})
        for (uintptr_t d = 0; d < 4096; d += 4) {
          const uintptr_t load = (uintptr_t{1} << 20) + at, store = load + d;
          const int fwd = pairs(load, store, rs, top, true);
          const int rev = pairs(load, store, rs, top, false);
          const bool want = fwd > 0 && 3 * rev < fwd;
          ASSERT_EQ(ops::interior_runs_reverse(load, store, rs, 3, top), want)
              << "rows " << rs << " top " << top << " load at " << at << " distance " << d;
          reversed += want;
          ++total;
        }
  EXPECT_GT(reversed, total / 20);  // the rule above picks each direction somewhere
  EXPECT_LT(reversed, total / 2);
  auto runs_reverse = [](int64_t D, int64_t rs) {
    const uintptr_t load = (uintptr_t{1} << 20) + 16;
    return ops::interior_runs_reverse(load, load + static_cast<uintptr_t>(D), rs, 3, 1);
  };
  for (const int64_t D : {192, 256, 384, 576}) EXPECT_TRUE(runs_reverse(D, 4000)) << D;
  // 1000^2 D 0-128: slow both ways (docs/threads.md "outalias", Left), so forward.
  for (const int64_t D : {0, 64, 2048}) EXPECT_FALSE(runs_reverse(D, 4000)) << D;
  for (const int64_t D : {64, 192, 320, 1536, 2816}) EXPECT_TRUE(runs_reverse(D, 1400)) << D;
  for (const int64_t D : {1024, 2048, 3584}) EXPECT_FALSE(runs_reverse(D, 1400)) << D;
}

}  // namespace
}  // namespace corr2d
}  // namespace npfast
