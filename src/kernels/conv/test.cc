// The conv operator on every registered ISA against the scalar oracle, on shapes around the
// kernels' tile widths (1..3 vectors, 1..8 output channels and their tails) and every planner
// algorithm; and the thread-count invariance of forward and backward.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "npfast/conv.hpp"
#include "npfast/dispatch.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/conv/conv.h"
#include "src/kernels/pack/pack.h"
#include "src/ops/conv2d_plan.h"
#include "tests/cpp/scoped_isa.h"
#include "tests/cpp/scoped_threads.h"

namespace npfast {
namespace {

template <class T>
View view4(std::vector<T>& v, int64_t a, int64_t b, int64_t c, int64_t d) {
  View r;
  r.data = v.data();
  r.dtype = dtype_of<T>();
  r.ndim = 4;
  const int64_t s[4] = {a, b, c, d};
  int64_t st = sizeof(T);
  for (int i = 3; i >= 0; --i) {
    r.shape[i] = s[i];
    r.strides[i] = st;
    st *= s[i];
  }
  return r;
}

struct Case {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, g;
};

const Case kCases[] = {
    {1, 3, 9, 40, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1},     // direct, tail tiles
    {2, 3, 32, 32, 10, 2, 2, 2, 2, 0, 0, 1, 1, 1},   // direct strided
    {1, 4, 13, 51, 7, 7, 5, 2, 3, 3, 2, 1, 2, 1},    // direct, phases
    {1, 2, 9, 17, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2},     // direct grouped, 1 channel per group
    {2, 5, 11, 70, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5},    // depthwise, > 2 vectors per row
    {1, 3, 12, 23, 3, 5, 5, 2, 2, 2, 2, 2, 1, 3},    // depthwise strided, dilated
    {2, 12, 7, 9, 10, 1, 1, 1, 1, 0, 0, 1, 1, 2},    // 1x1
    {1, 10, 8, 9, 6, 3, 2, 2, 1, 1, 0, 1, 2, 1},     // im2col
    {1, 4, 26, 200, 6, 7, 7, 1, 1, 0, 0, 1, 1, 1},   // direct, several row blocks per plane
    {1, 3, 23, 45, 17, 7, 7, 2, 2, 3, 3, 1, 1, 1},   // direct, stem-like, 2 blocks + 1 channel
    {2, 3, 150, 160, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // direct, padded planes > 256 KiB
    {1, 1, 602, 200, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1},  // depthwise, several row blocks
    {2, 12, 8, 9, 6, 3, 3, 1, 1, 1, 2, 2, 1, 2},     // shifted GEMM, kw copies
    {1, 128, 5, 7, 6, 3, 2, 1, 1, 0, 1, 1, 2, 1},    // shifted GEMM, per tap
    {2, 8, 15, 17, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1},    // shifted GEMM, stride 2 (phases)
    {1, 40, 9, 13, 20, 3, 2, 1, 1, 1, 0, 1, 1, 1},   // implicit GEMM, kernel-row segments
    {2, 32, 7, 9, 18, 3, 3, 1, 1, 1, 1, 1, 2, 2},    // implicit GEMM, grouped, dilated
    {1, 300, 6, 5, 7, 3, 1, 1, 1, 1, 0, 1, 1, 1},    // implicit GEMM, segments split at KC
    {2, 24, 9, 11, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1},   // Winograd, odd sizes, C and O tails
    {1, 300, 6, 6, 17, 3, 3, 1, 1, 0, 2, 1, 1, 1},   // Winograd, K blocks, asymmetric pad
    {2, 16, 15, 17, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1},  // implicit GEMM, row-phase planes
    {1, 24, 13, 16, 40, 3, 5, 3, 2, 1, 2, 1, 1, 2},  // row phases, uneven strides, grouped
    {1, 20, 13, 15, 12, 3, 3, 1, 1, 2, 2, 2, 2, 1},  // implicit GEMM, output phases (dilation)
    {2, 16, 11, 14, 9, 3, 2, 1, 1, 3, 1, 3, 2, 1},   // output phases, uneven dilations
    {1, 16, 14, 13, 8, 3, 3, 2, 1, 2, 2, 1, 2, 1},   // row phases and column output phases
    {1, 64, 16, 16, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1},  // ResNet downsampling, one panel per tile
};

template <class T>
void check_case(const Case& k, std::mt19937& rng, const char* what) {
  std::normal_distribution<double> d;
  std::vector<T> x(k.n * k.c * k.h * k.w), w(k.o * (k.c / k.g) * k.kh * k.kw), b(k.o);
  for (auto& v : x) v = static_cast<T>(d(rng));
  for (auto& v : w) v = static_cast<T>(d(rng));
  for (auto& v : b) v = static_cast<T>(d(rng));
  Conv2dParams p;
  p.stride_h = k.sh, p.stride_w = k.sw, p.pad_top = p.pad_bottom = k.ph;
  p.pad_left = p.pad_right = k.pw, p.dilation_h = k.dh, p.dilation_w = k.dw, p.groups = k.g;
  const View xv = view4(x, k.n, k.c, k.h, k.w), wv = view4(w, k.o, k.c / k.g, k.kh, k.kw);
  View bv;
  bv.data = b.data(), bv.dtype = dtype_of<T>(), bv.ndim = 1, bv.shape[0] = k.o,
  bv.strides[0] = sizeof(T);
  const Shape s = conv2d_shape(xv, wv, &bv, p);
  const int64_t oh = s[2], ow = s[3];
  std::vector<T> got(k.n * k.o * oh * ow), want(got.size());
  const View gv = view4(got, k.n, k.o, oh, ow), rv = view4(want, k.n, k.o, oh, ow);
  conv2d(xv, wv, &bv, p, gv);
  conv2d_reference(xv, wv, &bv, p, rv);
  const double tol = sizeof(T) == 4 ? 1e-4 : 1e-12;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::abs(double(want[i]))))
        << what << " " << conv2d_algorithm(xv, wv, p) << " at " << i;
  // Channels-last: the same outputs from (N, H, W, C) input into (N, OH, OW, O).
  std::vector<T> xn(x.size()), yn(got.size());
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t c = 0; c < k.c; ++c)
      for (int64_t i = 0; i < k.h * k.w; ++i)
        xn[(n * k.h * k.w + i) * k.c + c] = x[(n * k.c + c) * k.h * k.w + i];
  Conv2dParams q = p;
  q.layout = Layout::nhwc;
  conv2d(view4(xn, k.n, k.h, k.w, k.c), wv, &bv, q, view4(yn, k.n, oh, ow, k.o));
  const std::string algo = conv2d_algorithm(view4(xn, k.n, k.h, k.w, k.c), wv, q);
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t o = 0; o < k.o; ++o)
      for (int64_t i = 0; i < oh * ow; ++i) {
        const size_t at = static_cast<size_t>((n * k.o + o) * oh * ow + i);
        const T v = yn[(n * oh * ow + i) * k.o + o];
        ASSERT_NEAR(v, want[at], tol * (1 + std::abs(double(want[at]))))
            << what << " NHWC " << algo << " at " << at;
        // The direct kernel writes NHWC itself (conv_direct_nhwc): the NCHW kernel's bits.
        if (algo == "direct") {
          ASSERT_EQ(0, std::memcmp(&v, &got[at], sizeof(T))) << what << " NHWC direct at " << at;
        }
      }
}

class ConvIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(ConvIsa, MatchesReference) {
  const Isa isa = GetParam();
  ScopedIsa scope(isa);
  std::mt19937 rng(7);
  for (const Case& k : kCases) {
    check_case<float>(k, rng, isa_name(isa));
    check_case<double>(k, rng, isa_name(isa));
  }
}

INSTANTIATE_TEST_SUITE_P(All, ConvIsa, ::testing::ValuesIn(kernel_isas<conv::Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// The Winograd transforms of every ISA give the reference's bits (only additions, in the
// same order), over channel counts around the vector widths and with bias and ReLU.
// The scalar transforms are checked against the matrix products written out here, on small
// integers (every sum exact, whatever its order).
template <class T>
void check_winograd(const conv::Table& kt, std::mt19937& rng) {
  const auto pick = [](const conv::Table& t) {
    return std::make_pair(of<T>(t.f32_conv_wino_in, t.f64_conv_wino_in),
                          of<T>(t.f32_conv_wino_out, t.f64_conv_wino_out));
  };
  const auto [in, out] = pick(kt);
  const auto [in_ref, out_ref] = pick(*kernels<conv::Table>(Isa::scalar));
  const int bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  const int at[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
  std::uniform_int_distribution<int> small(-4, 4);
  for (int64_t c : {1, 9}) {
    const int64_t nt = 2, ps = c, rs = ps * (2 * nt + 2);
    std::vector<T> x(4 * rs), bias(c), v(16 * nt * c), y(4 * nt * c);
    for (auto& e : x) e = T(small(rng));
    for (auto& e : bias) e = T(small(rng));
    in(x.data(), ps, rs, c, nt, v.data(), c, nt * c);
    out(v.data(), c, nt * c, c, nt, bias.data(), nullptr, true, y.data(), c, 2 * nt * c);
    for (int64_t j = 0; j < nt; ++j)
      for (int64_t ch = 0; ch < c; ++ch) {
        double vm[4][4];
        for (int i = 0; i < 4; ++i)
          for (int k = 0; k < 4; ++k) {
            double sum = 0;
            for (int r = 0; r < 4; ++r)
              for (int q = 0; q < 4; ++q)
                sum += bt[i][r] * double(x[j * 2 * ps + r * rs + q * ps + ch]) * bt[k][q];
            vm[i][k] = sum;
            ASSERT_EQ(double(v[(i * 4 + k) * nt * c + j * c + ch]), sum) << "wino_in c=" << c;
          }
        for (int r = 0; r < 2; ++r)
          for (int q = 0; q < 2; ++q) {
            double sum = double(bias[ch]);
            for (int i = 0; i < 4; ++i)
              for (int k = 0; k < 4; ++k) sum += at[r][i] * vm[i][k] * at[q][k];
            ASSERT_EQ(double(y[r * 2 * nt * c + (2 * j + q) * c + ch]), std::max(sum, 0.0))
                << "wino_out c=" << c;
          }
      }
  }
  std::normal_distribution<double> d;
  for (int64_t c : {1, 3, 4, 8, 9, 16, 19}) {
    const int64_t nt = 3, ps = c + 2, rs = ps * (2 * nt + 3);  // padded strides
    std::vector<T> x(4 * rs), bias(c), v(16 * nt * c), vr(v.size());
    for (auto& e : x) e = static_cast<T>(d(rng));
    for (auto& e : bias) e = static_cast<T>(d(rng));
    in(x.data(), ps, rs, c, nt, v.data(), c, nt * c);
    in_ref(x.data(), ps, rs, c, nt, vr.data(), c, nt * c);
    ASSERT_EQ(v, vr) << "wino_in c=" << c;
    // The residual: rows of a wider output (yp, yr as y's); zeros among its values give
    // sums of -0.0 and +0.0, which the fused ReLU keeps as residual_act does.
    std::vector<T> res(2 * 2 * nt * c);
    for (size_t i = 0; i < res.size(); ++i) res[i] = i % 5 == 0 ? T(0) : static_cast<T>(d(rng));
    for (int relu = 0; relu < 2; ++relu)
      for (int with_res = 0; with_res < 2; ++with_res) {
        const T* r = with_res ? res.data() : nullptr;
        std::vector<T> y(2 * 2 * nt * c, T(-7)), yr(y.size(), T(-7)), ys(y.size(), T(-7));
        out(v.data(), c, nt * c, c, nt, relu ? bias.data() : nullptr, r, relu, y.data(), c,
            2 * nt * c);
        out_ref(v.data(), c, nt * c, c, nt, relu ? bias.data() : nullptr, r, relu, yr.data(), c,
                2 * nt * c);
        ASSERT_EQ(y, yr) << "wino_out c=" << c << " relu=" << relu << " res=" << with_res;
        if (!with_res) continue;
        // Bitwise the transform without the residual, then residual_act's pass.
        out(v.data(), c, nt * c, c, nt, relu ? bias.data() : nullptr, nullptr, false, ys.data(), c,
            2 * nt * c);
        for (size_t i = 0; i < ys.size(); ++i) {
          const T s = ys[i] + res[i];
          ys[i] = relu && s < T(0) ? T(0) : s;
        }
        ASSERT_EQ(0, std::memcmp(y.data(), ys.data(), y.size() * sizeof(T)))
            << "wino_out residual c=" << c << " relu=" << relu;
      }
  }
}

// The edge input transform of every ISA: bitwise its scalar reference and WinoIn on a
// zero-padded copy, for windows over every side and corner of small images (channel counts
// around the vector widths, images narrower than a window).
template <class T>
void check_winograd_edge(const conv::Table& kt, std::mt19937& rng) {
  const auto edge = of<T>(kt.f32_conv_wino_in_edge, kt.f64_conv_wino_in_edge);
  const auto* sk = kernels<conv::Table>(Isa::scalar);
  const auto edge_ref = of<T>(sk->f32_conv_wino_in_edge, sk->f64_conv_wino_in_edge);
  const auto in = of<T>(kt.f32_conv_wino_in, kt.f64_conv_wino_in);
  std::normal_distribution<double> d;
  for (int64_t c : {1, 5, 8, 16, 19})
    for (int64_t h : {1, 3, 6})
      for (int64_t w : {2, 5, 8}) {
        const int64_t ps = c + 1, rs = ps * w + 3, pad = 2;  // strided pixels and rows
        std::vector<T> x(h * rs), xp((h + 2 * pad + 4) * (w + 2 * pad + 8) * c, T(0));
        for (auto& e : x) e = static_cast<T>(d(rng));
        const int64_t pw = w + 2 * pad + 8;  // padded copy: pixel (iy, ix) at (iy + pad, ix + pad)
        for (int64_t iy = 0; iy < h; ++iy)
          for (int64_t ix = 0; ix < w; ++ix)
            for (int64_t ch = 0; ch < c; ++ch)
              xp[((iy + pad) * pw + ix + pad) * c + ch] = x[iy * rs + ix * ps + ch];
        for (int64_t r0 = -pad; r0 <= h - 1; ++r0)
          for (int64_t c0 = -pad; c0 <= w - 1; ++c0) {
            const int64_t nt = std::min<int64_t>(3, (w + pad - c0) / 2 + 1);
            std::vector<T> v(16 * nt * c, T(-7)), vr(v.size(), T(-7)), vp(v.size(), T(-7));
            edge(x.data(), ps, rs, h, w, r0, c0, c, nt, v.data(), c, nt * c);
            edge_ref(x.data(), ps, rs, h, w, r0, c0, c, nt, vr.data(), c, nt * c);
            in(xp.data() + ((r0 + pad) * pw + c0 + pad) * c, c, pw * c, c, nt, vp.data(), c,
               nt * c);
            ASSERT_EQ(0, std::memcmp(v.data(), vr.data(), v.size() * sizeof(T)))
                << "wino_in_edge c=" << c << " h=" << h << " w=" << w << " at " << r0 << "," << c0;
            ASSERT_EQ(0, std::memcmp(v.data(), vp.data(), v.size() * sizeof(T)))
                << "wino_in_edge vs padded c=" << c << " at " << r0 << "," << c0;
          }
      }
}

// The F(2x2, 2x2) transforms of every ISA give the reference's bits, over tile counts around
// the vector widths, several rows (strided), 1 and 2 phases a side, with and without bias;
// the scalar ones are checked against B^T d and A^T M A written out here in double, on small
// integers (every sum exact).
template <class T>
void check_winograd2(const conv::Table& kt, std::mt19937& rng) {
  const auto in = of<T>(kt.f32_conv_wino2_in, kt.f64_conv_wino2_in);
  const auto out = of<T>(kt.f32_conv_wino2_out, kt.f64_conv_wino2_out);
  const auto* sk = kernels<conv::Table>(Isa::scalar);
  const auto in_ref = of<T>(sk->f32_conv_wino2_in, sk->f64_conv_wino2_in);
  const auto out_ref = of<T>(sk->f32_conv_wino2_out, sk->f64_conv_wino2_out);
  std::uniform_int_distribution<int> small(-4, 4);
  const int bt[3][3] = {{1, -1, 0}, {0, 1, 0}, {0, -1, 1}};
  for (int64_t rows : {1, 3})
    for (int64_t n : {1, 5, 8, 9, 16, 17, 33, 64}) {
      const int64_t ld = n + 7, vr = n + 3;  // three taps at offsets 0, 1 and 2 of a row's start
      std::vector<T> d(rows * ld + 2), v(3 * rows * vr, T(-7)), vr_(v.size(), T(-7));
      for (auto& e : d) e = T(small(rng));
      in(d.data(), d.data() + 1, d.data() + 2, ld, rows, n, v.data(), v.data() + rows * vr,
         v.data() + 2 * rows * vr, vr);
      in_ref(d.data(), d.data() + 1, d.data() + 2, ld, rows, n, vr_.data(), vr_.data() + rows * vr,
             vr_.data() + 2 * rows * vr, vr);
      ASSERT_EQ(0, std::memcmp(v.data(), vr_.data(), v.size() * sizeof(T)))
          << "wino2_in rows=" << rows << " n=" << n;
      for (int64_t r = 0; r < rows; ++r)
        for (int j = 0; j < 3; ++j)
          for (int64_t t = 0; t < vr; ++t) {
            double want = -7;  // past n: left alone
            if (t < n) {
              want = 0;
              for (int i = 0; i < 3; ++i) want += bt[j][i] * double(d[r * ld + t + i]);
            }
            ASSERT_EQ(double(v[(j * rows + r) * vr + t]), want) << "wino2_in n=" << n;
          }
    }
  std::normal_distribution<double> nd;
  const int at[2][3] = {{1, 1, 0}, {0, 1, 1}};
  for (int64_t np : {1, 2})
    for (int64_t th : {1, 3})
      for (int64_t tw : {1, 7, 8, 16, 19})
        for (int with_bias = 0; with_bias < 2; ++with_bias)
          for (int exact = 0; exact < 2; ++exact) {
            const int64_t ms = th * tw + 3, mb = 9 * ms + 5, yr = 2 * tw * np + 3;
            std::vector<T> m(np * np * mb), y(2 * th * np * yr, T(-7)), yr_(y.size(), T(-7));
            for (auto& e : m) e = exact ? T(small(rng)) : static_cast<T>(nd(rng));
            const T bias = exact ? T(small(rng)) : static_cast<T>(nd(rng));
            const T* b = with_bias ? &bias : nullptr;
            out(m.data(), ms, mb, np, th, tw, b, y.data(), yr);
            out_ref(m.data(), ms, mb, np, th, tw, b, yr_.data(), yr);
            ASSERT_EQ(0, std::memcmp(y.data(), yr_.data(), y.size() * sizeof(T)))
                << "wino2_out np=" << np << " th=" << th << " tw=" << tw;
            if (!exact) continue;
            for (int64_t a = 0; a < np; ++a)
              for (int64_t bb = 0; bb < np; ++bb)
                for (int64_t tm = 0; tm < th; ++tm)
                  for (int64_t t = 0; t < tw; ++t)
                    for (int r = 0; r < 2; ++r)
                      for (int q = 0; q < 2; ++q) {
                        double want = with_bias ? double(bias) : 0.0;
                        for (int u = 0; u < 3; ++u)
                          for (int w = 0; w < 3; ++w)
                            want += at[r][u] * at[q][w] *
                                    double(m[(a * np + bb) * mb + (3 * u + w) * ms + tm * tw + t]);
                        ASSERT_EQ(double(y[((2 * tm + r) * np + a) * yr + (2 * t + q) * np + bb]),
                                  want)
                            << "wino2_out np=" << np;
                      }
            // The padding of each output row is left alone.
            for (int64_t row = 0; row < 2 * th * np; ++row)
              for (int64_t col = 2 * tw * np; col < yr; ++col) ASSERT_EQ(y[row * yr + col], T(-7));
          }
}

// to_channels_last of every ISA: the reference transpose exactly, for row and column counts
// around the vector widths (edges of every size), strides past the lengths, and nothing
// written outside the transposed block.
template <class T>
void check_to_channels_last(const conv::Table& t, std::mt19937& rng) {
  const conv::ToChannelsLastFn<T> k =
      of<T>(t.f32_conv_to_channels_last, t.f64_conv_to_channels_last);
  for (int64_t rows : {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 33})
    for (int64_t cols : {0, 1, 2, 5, 8, 15, 16, 17, 56, 58})
      for (int64_t pad : {0, 3}) {
        const int64_t ss = cols + pad, ds = rows + 2 * pad;
        std::vector<T> s(static_cast<size_t>(std::max<int64_t>(rows * ss, 1)));
        std::uniform_real_distribution<double> u(-1, 1);
        for (T& v : s) v = static_cast<T>(u(rng));
        std::vector<T> want(static_cast<size_t>(std::max<int64_t>(cols * ds, 1)), T(-7));
        std::vector<T> got = want;
        pack::transpose_reference(s.data(), ss, want.data(), ds, rows, cols);
        k(s.data(), ss, got.data(), ds, rows, cols);
        ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size() * sizeof(T)))
            << "rows " << rows << " cols " << cols << " pad " << pad;
      }
}

TEST_P(ConvIsa, ToChannelsLastMatchesReference) {
  std::mt19937 rng(13);
  check_to_channels_last<float>(*kernels<conv::Table>(GetParam()), rng);
  check_to_channels_last<double>(*kernels<conv::Table>(GetParam()), rng);
}

TEST_P(ConvIsa, Winograd2TransformsMatchReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(12);
  check_winograd2<float>(*kernels<conv::Table>(isa), rng);
  check_winograd2<double>(*kernels<conv::Table>(isa), rng);
}

TEST_P(ConvIsa, WinogradTransformsMatchReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(11);
  check_winograd<float>(*kernels<conv::Table>(isa), rng);
  check_winograd<double>(*kernels<conv::Table>(isa), rng);
  check_winograd_edge<float>(*kernels<conv::Table>(isa), rng);
  check_winograd_edge<double>(*kernels<conv::Table>(isa), rng);
}

// The direct weight-gradient kernel of every ISA against the sum written out here, on one call's
// geometry: widths around the vector lengths (full, tail-only and mixed rows), channel counts
// below and above the kernels' blocks, tap counts that leave partial tap blocks, stride phases,
// dilation and several images.
template <class T>
void check_direct_grad(const conv::Table& kt, std::mt19937& rng) {
  const conv::DirectGradFn<T> kernel = of<T>(kt.f32_conv_direct_grad, kt.f64_conv_direct_grad);
  std::normal_distribution<double> d;
  struct G {
    int64_t c, kh, kw, sh, sw, dh, dw, oh, ow, ob, images;
  };
  const G cases[] = {{1, 3, 3, 1, 1, 1, 1, 5, 26, 4, 3},  {3, 7, 7, 2, 2, 1, 1, 4, 37, 3, 1},
                     {2, 2, 3, 1, 2, 2, 1, 3, 8, 8, 2},   {4, 1, 1, 1, 1, 1, 1, 9, 16, 1, 1},
                     {3, 5, 2, 3, 1, 1, 2, 11, 33, 5, 2}, {1, 2, 2, 2, 2, 1, 1, 2, 3, 2, 4}};
  for (const G& g : cases) {
    conv::DirectArgs<T> a{};
    a.c = g.c, a.kh = g.kh, a.kw = g.kw, a.sh = g.sh, a.sw = g.sw, a.dh = g.dh, a.dw = g.dw;
    a.hp = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1;
    a.wq = g.ow + ((g.kw - 1) * g.dw + g.sw - 1) / g.sw + conv::kColumnSlack;
    a.ow = g.ow, a.ys = g.oh * g.ow, a.ob = g.ob, a.oy0 = 0, a.oy1 = g.oh;
    const int64_t taps = g.c * g.kh * g.kw, x_image = g.c * a.hp * g.sw * a.wq;
    const int64_t gy_image = g.ob * a.ys;
    std::vector<T> x(g.images * x_image), gy(g.images * gy_image), gw(g.ob * taps), gr;
    for (auto* v : {&x, &gy, &gw})
      for (auto& e : *v) e = static_cast<T>(d(rng));
    gr = gw;
    std::vector<int64_t> offs(taps);
    conv::direct_taps(a, offs.data());
    a.taps = offs.data();
    a.x = x.data();
    std::vector<char> work(static_cast<size_t>(conv::direct_grad_work(taps)) + 64);
    T* wk = reinterpret_cast<T*>(work.data());
    kernel(a, gy.data(), g.images, x_image, gy_image, wk, gw.data());
    // gr += sum over images, output pixels of gy(o, oy, ox) * (the padded input tap t reads).
    for (int64_t o = 0; o < g.ob; ++o)
      for (int64_t ci = 0; ci < g.c; ++ci)
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            double sum = 0;
            for (int64_t i = 0; i < g.images; ++i)
              for (int64_t oy = 0; oy < g.oh; ++oy)
                for (int64_t ox = 0; ox < g.ow; ++ox) {
                  const int64_t r = oy * g.sh + ky * g.dh, j = ox * g.sw + kx * g.dw;
                  sum += double(gy[i * gy_image + o * a.ys + oy * g.ow + ox]) *
                         double(x[i * x_image + (ci * a.hp + r) * (g.sw * a.wq) +
                                  (j % g.sw) * a.wq + j / g.sw]);
                }
            gr[o * taps + (ci * g.kh + ky) * g.kw + kx] += static_cast<T>(sum);
          }
    const double tol = sizeof(T) == 4 ? 1e-4 : 1e-12;
    for (size_t i = 0; i < gw.size(); ++i)
      ASSERT_NEAR(gw[i], gr[i], tol * (1 + std::abs(double(gr[i]))) * std::sqrt(double(taps)))
          << "c=" << g.c << " k=" << g.kh << "x" << g.kw << " ob=" << g.ob << " at " << i;
  }
}

TEST_P(ConvIsa, DirectGradMatchesReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(5);
  check_direct_grad<float>(*kernels<conv::Table>(isa), rng);
  check_direct_grad<double>(*kernels<conv::Table>(isa), rng);
}

// row_split on the stride-2 64 -> 128 layer at 56^2 (28 output rows, 3 padded rows a row's taps
// reach, 2 a row): parts only where whole images split unevenly over the threads, and a part
// of at least kImplicitItemFlops.
TEST(ConvPlan, RowSplit) {
  const ScopedThreads restore;
  set_core_cap_for_testing(16);
  const double row_flops = 2.0 * 128 * 576 * 28;
  const auto split = [&](int threads, int64_t images, int64_t rows, double flops) {
    set_num_threads(threads);
    return conv_ops::row_split(images, rows, 2, 3, flops / 60.0, 0.5 * 58 * 64, flops, 28);
  };
  EXPECT_EQ(split(16, 8, 28, row_flops), 2);  // 16 parts of 14 rows
  EXPECT_EQ(split(2, 1, 28, row_flops), 2);
  EXPECT_EQ(split(2, 8, 28, row_flops), 1);  // whole images split evenly
  EXPECT_EQ(split(4, 8, 28, row_flops), 1);
  EXPECT_EQ(split(1, 1, 28, row_flops), 1);  // one thread: the parts would only add halo rows
  EXPECT_EQ(split(16, 1, 1, row_flops), 1);  // one row
  // Parts of at least kImplicitItemFlops: 4 rows of 1e6 flops, at most 7 parts of 28 rows.
  EXPECT_LE(split(16, 1, 28, 1.0e6), 7);
  EXPECT_EQ(split(16, 1, 3, 1.0e6), 1);
  // And of at least kImplicitItemPixels: 4 rows of 28 pixels, not the 28 1-row parts that
  // 8 images on 15 threads took before (7 parts of 4 rows now).
  EXPECT_EQ(split(15, 8, 28, row_flops), 7);
  for (int t = 2; t <= 16; ++t) EXPECT_LE(split(t, 3, 28, row_flops), 7) << t;
}

// Shifted/Winograd plans (16 channels) and the direct plans' kernel (3 channels).
class ConvBackwardThreads : public ::testing::TestWithParam<int64_t> {};

TEST_P(ConvBackwardThreads, Invariant) {
  std::mt19937 rng(3);
  std::normal_distribution<double> d;
  const int64_t n = 2, c = GetParam(), h = 30, w = 30, o = 16;
  std::vector<float> x(n * c * h * w), wt(o * c * 9), gy(n * o * h * w);
  for (auto* v : {&x, &wt, &gy})
    for (auto& e : *v) e = static_cast<float>(d(rng));
  Conv2dParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  const View xv = view4(x, n, c, h, w), wv = view4(wt, o, c, 3, 3), gv = view4(gy, n, o, h, w);
  std::vector<float> r[2][2];
  const ScopedThreads restore;
  for (int t = 0; t < 2; ++t) {
    set_num_threads(t + 1);
    r[t][0].resize(x.size());
    r[t][1].resize(wt.size());
    const View gx = view4(r[t][0], n, c, h, w), gw = view4(r[t][1], o, c, 3, 3);
    conv2d_backward(gv, xv, wv, p, &gx, &gw, nullptr);
  }
  EXPECT_EQ(r[0][0], r[1][0]);
  EXPECT_EQ(r[0][1], r[1][1]);
}

INSTANTIATE_TEST_SUITE_P(Channels, ConvBackwardThreads, ::testing::Values(16, 3));

}  // namespace
}  // namespace npfast
