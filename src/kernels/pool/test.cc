// Every registered pooling kernel against the scalar reference: max values and indices bit for
// bit, averages within a few ulps of the double-accumulated reference, over geometries around
// the vector widths (all column modes: unit, pair, triple, gather), padded rows, ties, NaN and
// infinities, and partial row ranges.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/pool.hpp"
#include "src/kernels/pool/pool.h"
#include "tests/cpp/scoped_isa.h"

namespace npfast {
namespace pool {
namespace {

template <class T>
std::vector<T> values(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-6, 6);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<T> v(n);
  for (auto& x : v) {
    const double r = u(rng);
    if (r < 0.02)
      x = std::numeric_limits<T>::quiet_NaN();
    else if (r < 0.04)
      x = std::numeric_limits<T>::infinity();
    else if (r < 0.06)
      x = -std::numeric_limits<T>::infinity();
    else if (r < 0.10)
      x = T(-0.0);
    else
      x = T(d(rng)) + (r < 0.5 ? T(0) : T(0.25));  // many ties
  }
  return v;
}

int64_t out_len(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
  int64_t o = (n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s + 1;
  if (ceil && (o - 1) * s >= n + p) --o;
  return o;
}

bool same_bits(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

template <class T>
MaxPoolFn<T> max_of(const Table& t) {
  return of<T>(t.f32_max_pool, t.f64_max_pool);
}
template <class T>
AvgPoolFn<T> avg_of(const Table& t) {
  return of<T>(t.f32_avg_pool, t.f64_avg_pool);
}

// A 3 x 4 plane pooled 2 x 2 by hand, so the reference itself is checked against numbers not
// computed by it: a NaN wins its window, ties keep the first index, padding taps are skipped
// (max) or counted only with count_include_pad (avg).
template <class T>
void check_by_hand(const Table& t) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T in[12] = {1, 5, 2, nan, 3, -1, 7, 0, 4, 8, -2, 6};
  const Geom g{3, 4, 1, 2, 2, 2, 2, 2, 0, 0, 1, 1};
  T out[6];
  int64_t idx[6];
  max_of<T>(t)(g, in, 4, out, idx, 0, 1);
  EXPECT_EQ(out[0], T(5));
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_EQ(idx[0], 1);
  EXPECT_EQ(idx[1], 3);
  const Geom gp{3, 4, 2, 3, 2, 2, 2, 2, 1, 1, 1, 1};
  max_of<T>(t)(gp, in, 4, out, idx, 0, 2);
  const T want_max[6] = {1, 5, nan, 4, 8, 6};
  const int64_t want_idx[6] = {0, 1, 3, 8, 9, 11};
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(same_bits(out[i], want_max[i])) << i;
    EXPECT_EQ(idx[i], want_idx[i]) << i;
  }
  T fin[12];
  std::copy(in, in + 12, fin);
  fin[3] = 10;
  const T with_pad[6] = {0.25, 1.75, 2.5, 1.75, 3, 1.5};
  const T without_pad[6] = {1, 3.5, 10, 3.5, 3, 3};
  avg_of<T>(t)(gp, AvgOpts{true, 0}, fin, 4, out, 0, 2);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], with_pad[i]) << i;
  avg_of<T>(t)(gp, AvgOpts{false, 0}, fin, 4, out, 0, 2);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], without_pad[i]) << i;
}

template <class T>
void check(Isa isa) {
  const Table& ref = *kernels<Table>(Isa::scalar);
  const Table& t = *kernels<Table>(isa);
  std::mt19937 rng(7);
  int cases = 0;
  for (int64_t H : {5, 11}) {
    for (int64_t W : {3, 9, 17, 40, 71}) {
      const int64_t row = W + 3;  // padded rows: kernels must use in_row
      // The last row ends the buffer: a read past a row end is caught by ASan there.
      const auto in = values<T>(static_cast<size_t>((H - 1) * row + W), rng);
      for (int64_t k : {1, 2, 3, 5}) {
        for (int64_t s : {1, 2, 3, 4}) {
          for (int64_t d : {1, 2}) {
            for (int64_t p = 0; p <= k / 2; ++p) {
              for (bool ceil : {false, true}) {
                const int64_t OH = out_len(H, k, s, p, d, ceil), OW = out_len(W, k, s, p, d, ceil);
                if (OH < 1 || OW < 1) continue;
                Geom g{H, W, OH, OW, k, k, s, s, p, p, d, d};
                // Rectangular variant: a narrower window across the columns.
                if (k > 1 && s == 2) {
                  g.kW = k - 1;
                  g.pW = std::min(p, g.kW / 2);
                  g.OW = out_len(W, g.kW, s, g.pW, d, ceil);
                  if (g.OW < 1) continue;
                }
                const size_t n = static_cast<size_t>(g.OH * g.OW) + 8;
                std::vector<T> o1(n, T(7)), o2(n, T(7));
                std::vector<int64_t> i1(n, -7), i2(n, -7);
                // Only rows [oh0, oh1) are written.
                const int64_t oh0 = g.OH > 2 ? 1 : 0, oh1 = g.OH;
                max_of<T>(t)(g, in.data(), row, o1.data(), i1.data(), oh0, oh1);
                max_of<T>(ref)(g, in.data(), row, o2.data(), i2.data(), oh0, oh1);
                for (size_t e = 0; e < n; ++e) {
                  ASSERT_TRUE(same_bits(o1[e], o2[e]) && i1[e] == i2[e])
                      << isa_name(isa) << " max H=" << H << " W=" << W << " k=" << g.kH << "x"
                      << g.kW << " s=" << s << " p=" << p << " d=" << d << " ceil=" << ceil
                      << " at " << e << ": " << o1[e] << "/" << i1[e] << " vs " << o2[e] << "/"
                      << i2[e];
                }
                std::fill(o1.begin(), o1.end(), T(7));
                max_of<T>(t)(g, in.data(), row, o1.data(), nullptr, oh0, oh1);
                for (size_t e = 0; e < n; ++e)
                  ASSERT_TRUE(same_bits(o1[e], o2[e])) << "values only";
                ++cases;
                if (d != 1) continue;
                Geom ga = g;
                ga.dH = ga.dW = 1;
                ga.OH = out_len(H, ga.kH, s, ga.pH, 1, ceil);
                ga.OW = out_len(W, ga.kW, s, ga.pW, 1, ceil);
                const size_t na = static_cast<size_t>(ga.OH * ga.OW);
                std::vector<T> a1(na), a2(na);
                // Finite inputs for averages (NaN/inf would hide rounding differences).
                std::vector<T> fin(in.size());
                for (size_t e = 0; e < in.size(); ++e)
                  fin[e] = std::isfinite(in[e]) ? in[e] : T(1.5);
                for (AvgOpts o : {AvgOpts{true, 0}, AvgOpts{false, 0}, AvgOpts{true, -3}}) {
                  avg_of<T>(t)(ga, o, fin.data(), row, a1.data(), 0, ga.OH);
                  avg_of<T>(ref)(ga, o, fin.data(), row, a2.data(), 0, ga.OH);
                  for (size_t e = 0; e < na; ++e)
                    ASSERT_NEAR(a1[e], a2[e], 1e-5 * (1 + std::fabs(double(a2[e]))))
                        << isa_name(isa) << " avg W=" << W << " k=" << k << " s=" << s;
                }
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(cases, 300);
}

class PoolIsa : public ::testing::TestWithParam<Isa> {};

// The reference by hand; every SIMD table against the reference over the geometry sweep.
TEST_P(PoolIsa, MatchesReference) {
  const Isa isa = GetParam();
  check_by_hand<float>(*kernels<Table>(isa));
  check_by_hand<double>(*kernels<Table>(isa));
  if (isa == Isa::scalar) return;
  check<float>(isa);
  check<double>(isa);
}

// Channels-last kernels against the same ISA's plane kernels, channel by channel: max values
// and indices, and averages (both sum in the same order), bit for bit.
template <class T>
void check_nhwc(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const MaxPoolNhwcFn<T> mx = of<T>(t.f32_max_pool_nhwc, t.f64_max_pool_nhwc);
  const AvgPoolNhwcFn<T> av = of<T>(t.f32_avg_pool_nhwc, t.f64_avg_pool_nhwc);
  std::mt19937 rng(11);
  for (int64_t C : {1, 5, 16, 19, 33}) {
    for (const Geom& g0 :
         {Geom{7, 9, 0, 0, 3, 3, 2, 2, 1, 1, 1, 1}, Geom{8, 11, 0, 0, 2, 3, 1, 2, 1, 1, 2, 1},
          Geom{5, 6, 0, 0, 2, 2, 2, 2, 0, 0, 1, 1}}) {
      Geom g = g0;
      g.OH = out_len(g.H, g.kH, g.sH, g.pH, g.dH, false);
      g.OW = out_len(g.W, g.kW, g.sW, g.pW, g.dW, false);
      const int64_t hw = g.H * g.W, ohw = g.OH * g.OW;
      const auto planes = values<T>(static_cast<size_t>(C * hw), rng);
      std::vector<T> in(planes.size()), fin(planes.size()), fpl(planes.size());
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < hw; ++i) {
          const T v = planes[c * hw + i];
          in[i * C + c] = v;
          fpl[c * hw + i] = fin[i * C + c] = std::isfinite(v) ? v : T(1.5);
        }
      std::vector<T> out(ohw * C), want(ohw);
      std::vector<int64_t> idx(ohw * C), wi(ohw);
      mx(g, C, in.data(), out.data(), idx.data(), 0, g.OH);
      for (int64_t c = 0; c < C; ++c) {
        max_of<T>(t)(g, planes.data() + c * hw, g.W, want.data(), wi.data(), 0, g.OH);
        for (int64_t i = 0; i < ohw; ++i)
          ASSERT_TRUE(same_bits(out[i * C + c], want[i]) && idx[i * C + c] == wi[i])
              << isa_name(isa) << " max C=" << C << " c=" << c << " at " << i;
      }
      std::fill(out.begin(), out.end(), T(7));
      mx(g, C, in.data(), out.data(), nullptr, 0, g.OH);
      for (int64_t c = 0; c < C; ++c) {
        max_of<T>(t)(g, planes.data() + c * hw, g.W, want.data(), nullptr, 0, g.OH);
        for (int64_t i = 0; i < ohw; ++i)
          ASSERT_TRUE(same_bits(out[i * C + c], want[i])) << "values only, C=" << C;
      }
      if (g.dH != 1 || g.dW != 1) continue;
      for (AvgOpts o : {AvgOpts{true, 0}, AvgOpts{false, 0}, AvgOpts{true, -3}}) {
        av(g, o, C, fin.data(), out.data(), 0, g.OH);
        for (int64_t c = 0; c < C; ++c) {
          avg_of<T>(t)(g, o, fpl.data() + c * hw, g.W, want.data(), 0, g.OH);
          for (int64_t i = 0; i < ohw; ++i)
            ASSERT_TRUE(same_bits(out[i * C + c], want[i]))
                << isa_name(isa) << " avg C=" << C << " c=" << c << " at " << i;
        }
      }
    }
  }
}

TEST_P(PoolIsa, NhwcMatchesPlanes) {
  check_nhwc<float>(GetParam());
  check_nhwc<double>(GetParam());
}

// Global pool kernels against means computed here in long double (the scalar kernel too),
// within the rounding of a double sum: n eps |x| on the sum, plus the final rounding to T.
template <class T>
void check_near(T got, long double want, long double abs_sum, int64_t n, const char* what, Isa isa,
                int64_t a, int64_t b) {
  const long double tol = abs_sum / n * (n + 2) * std::numeric_limits<double>::epsilon() +
                          std::fabs(want) * std::numeric_limits<T>::epsilon();
  ASSERT_LE(std::fabs(static_cast<long double>(got) - want), tol)
      << isa_name(isa) << " " << what << " n=" << a << " at " << b;
}

// plane_means at x's planes (planes, ps, h, w, rs) against long double means; each plane's bits
// the same alone as in a block; nothing written past the last output.
template <class T>
void check_plane_means_at(Isa isa, const T* x, int64_t planes, int64_t ps, int64_t h, int64_t w,
                          int64_t rs) {
  const PlaneMeansFn<T> means =
      of<T>(kernels<Table>(isa)->f32_plane_means, kernels<Table>(isa)->f64_plane_means);
  std::vector<T> out(planes + 1, T(-7)), one(1);
  means(x, planes, ps, h, w, rs, out.data());
  ASSERT_EQ(out[planes], T(-7)) << isa_name(isa) << " wrote past planes=" << planes;
  for (int64_t q = 0; q < planes; ++q) {
    long double s = 0, a = 0;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        const T v = x[q * ps + i * rs + j];
        s += v;
        a += std::fabs(static_cast<long double>(v));
      }
    check_near(out[q], s / (h * w), a, h * w, "plane_means", isa, h * w, q);
    means(x + q * ps, 1, ps, h, w, rs, one.data());
    ASSERT_TRUE(same_bits(one[0], out[q]))
        << isa_name(isa) << " alone h=" << h << " w=" << w << " q=" << q;
  }
}

// plane_means over contiguous planes (one row) of lengths around every vector width and
// two-vector step, plane counts around the blocks, starts off any alignment; strided planes
// (padded rows, rows in reverse, gaps between planes); NaN and infinities propagate.
template <class T>
void check_plane_means(Isa isa) {
  const PlaneMeansFn<T> means =
      of<T>(kernels<Table>(isa)->f32_plane_means, kernels<Table>(isa)->f64_plane_means);
  std::mt19937 rng(17);
  std::normal_distribution<double> nd(0, 3);
  const auto fill = [&](std::vector<T>& v) {
    for (auto& e : v) e = static_cast<T>(1e3 + nd(rng));
  };
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 49, 196, 3136})
    for (int64_t planes : {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 37})
      for (int64_t off : {0, 1, 3}) {
        std::vector<T> buf(static_cast<size_t>(off + planes * n));
        fill(buf);
        check_plane_means_at<T>(isa, buf.data() + off, planes, n, 1, n, n);
      }
  for (int64_t h : {2, 3, 7})
    for (int64_t w : {1, 2, 3, 7, 8, 9, 14, 17, 33})
      for (int64_t pad : {0, 3})
        for (bool reverse : {false, true}) {
          const int64_t planes = 11, row = w + pad, ps = h * row + pad, off = pad ? 1 : 0;
          std::vector<T> buf(static_cast<size_t>(off + planes * ps));
          fill(buf);
          const T* x = buf.data() + off + (reverse ? (h - 1) * row : 0);
          check_plane_means_at<T>(isa, x, planes, ps, h, w, reverse ? -row : row);
        }
  std::vector<T> x(3 * 17, T(1)), out(3);
  x[5] = std::numeric_limits<T>::quiet_NaN();
  x[17 + 16] = std::numeric_limits<T>::infinity();
  means(x.data(), 3, 17, 1, 17, 17, out.data());
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], std::numeric_limits<T>::infinity());
  EXPECT_EQ(out[2], T(1));
}

// plane_means_nhwc over channel counts around the vector blocks, pixel counts odd and even,
// rows longer than the channels read (ld > c) and unaligned starts; each channel's bits the
// same read alone.
template <class T>
void check_plane_means_nhwc(Isa isa) {
  const PlaneMeansNhwcFn<T> means =
      of<T>(kernels<Table>(isa)->f32_plane_means_nhwc, kernels<Table>(isa)->f64_plane_means_nhwc);
  std::mt19937 rng(19);
  std::normal_distribution<double> nd(0, 3);
  for (int64_t hw : {1, 2, 3, 7, 49, 196}) {
    for (int64_t c : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65}) {
      for (int64_t pad : {0, 3}) {
        const int64_t ld = c + pad, off = pad ? 1 : 0;
        std::vector<T> buf(static_cast<size_t>(off + hw * ld));
        for (auto& v : buf) v = static_cast<T>(1e3 + nd(rng));
        const T* x = buf.data() + off;
        std::vector<T> out(c + 1, T(-7)), one(1);
        means(x, hw, c, ld, out.data());
        ASSERT_EQ(out[c], T(-7)) << isa_name(isa) << " wrote past c=" << c;
        for (int64_t j = 0; j < c; ++j) {
          long double s = 0, a = 0;
          for (int64_t p = 0; p < hw; ++p) {
            s += x[p * ld + j];
            a += std::fabs(static_cast<long double>(x[p * ld + j]));
          }
          check_near(out[j], s / hw, a, hw, "plane_means_nhwc", isa, hw, j);
          means(x + j, hw, 1, ld, one.data());
          ASSERT_TRUE(same_bits(one[0], out[j])) << isa_name(isa) << " alone c=" << c << " j=" << j;
        }
      }
    }
  }
}

TEST_P(PoolIsa, PlaneMeansMatchReference) {
  check_plane_means<float>(GetParam());
  check_plane_means<double>(GetParam());
  check_plane_means_nhwc<float>(GetParam());
  check_plane_means_nhwc<double>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, PoolIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// A plane narrower than the active ISA's vectors goes to the widest table whose vectors fit it,
// never down to the reference; the scalar ISA keeps its own table.
TEST(PoolTable, NarrowPlanesTakeANarrowerIsa) {
  const auto table = [](Isa isa) { return kernels<Table>(isa); };
  if (isa_supported(Isa::avx512)) {
    ScopedIsa scope(Isa::avx512);
    EXPECT_EQ(&fitting_table(16, false), table(Isa::avx512));
    EXPECT_EQ(&fitting_table(14, false), table(Isa::avx2));  // MNIST 28 x 28, 2 x 2 windows
    EXPECT_EQ(&fitting_table(8, true), table(Isa::avx512));
    EXPECT_EQ(&fitting_table(7, true), table(Isa::avx2));
    EXPECT_EQ(&fitting_table(3, false), table(Isa::avx2));
  }
  if (isa_supported(Isa::avx2)) {
    ScopedIsa scope(Isa::avx2);
    EXPECT_EQ(&fitting_table(8, false), table(Isa::avx2));
    EXPECT_EQ(&fitting_table(2, false), table(Isa::avx2));
  }
  ScopedIsa scope(Isa::scalar);
  EXPECT_EQ(&fitting_table(100, false), table(Isa::scalar));
}

View plane(float* p, int64_t h, int64_t w) {
  View v;
  v.data = p;
  v.dtype = DType::f32;
  v.ndim = 2;
  v.shape[0] = h;
  v.shape[1] = w;
  v.strides[0] = w * 4;
  v.strides[1] = 4;
  return v;
}

TEST(PoolOp, RejectsBadArgumentsBeforeWriting) {
  std::vector<float> x(16, 1.0f), y(4, -1.0f);
  const View vx = plane(x.data(), 4, 4), vy = plane(y.data(), 2, 2);
  Pool2dArgs a;
  a.kernel[0] = a.kernel[1] = 2;
  a.stride[0] = a.stride[1] = 2;
  EXPECT_NO_THROW(max_pool2d(vx, a, vy, nullptr));
  EXPECT_EQ(y[0], 1.0f);
  std::fill(y.begin(), y.end(), -1.0f);
  Pool2dArgs b = a;
  b.stride[1] = 0;
  EXPECT_THROW(max_pool2d(vx, b, vy, nullptr), ValueError);
  b = a;
  b.padding[0] = 2;
  EXPECT_THROW(max_pool2d(vx, b, vy, nullptr), ValueError);
  b = a;
  b.kernel[0] = int64_t{1} << 40;
  b.dilation[0] = int64_t{1} << 40;
  EXPECT_THROW(max_pool2d(vx, b, vy, nullptr), ValueError);
  b = a;
  b.kernel[0] = 5;
  EXPECT_THROW(avg_pool2d(vx, b, true, 0, vy), ValueError);
  for (float v : y) EXPECT_EQ(v, -1.0f);
  EXPECT_THROW(pool_output_length(4, 5, 1, 0, 1, false, "height"), ValueError);
  EXPECT_EQ(pool_output_length(5, 2, 2, 0, 1, true, "height"), 3);
  EXPECT_EQ(pool_output_length(4, 2, 2, 1, 1, true, "height"), 3);
}

TEST(PoolOp, BackwardRejectsOutOfRangeIndices) {
  std::vector<float> g(4, 1.0f), gi(16, -1.0f);
  std::vector<int64_t> idx = {0, 5, 10, 16};
  View vg = plane(g.data(), 2, 2), vgi = plane(gi.data(), 4, 4);
  View vi = vg;
  vi.data = idx.data();
  vi.dtype = DType::i64;
  vi.strides[0] = 16;
  vi.strides[1] = 8;
  EXPECT_THROW(max_pool2d_backward(vg, vi, vgi), ValueError);
  for (float v : gi) EXPECT_EQ(v, -1.0f);  // nothing written
  idx[3] = 15;
  max_pool2d_backward(vg, vi, vgi);
  EXPECT_EQ(gi[0] + gi[5] + gi[10] + gi[15], 4.0f);
}

}  // namespace
}  // namespace pool
}  // namespace npfast
