// The filter1d kernels: the reference against the sums written out in double, every ISA
// bitwise equal to the reference (filter1d.h promises the same operations per lane), the line
// extension against hand-written SciPy extensions, and the operators against their formula
// over strided N-D views along every axis.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "npfast/error.hpp"
#include "npfast/ndimage.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/filter1d/filter1d.h"
#include "src/ops/ndimage_line.h"
#include "tests/cpp/scoped_isa.h"
#include "tests/cpp/scoped_threads.h"
#include "tests/cpp/view2d.h"

namespace npfast {
namespace filter1d {
namespace {

template <class T>
double eps() {
  return sizeof(T) == 4 ? 1.2e-7 : 2.3e-16;
}

// Row pointers into a position-major block of `lanes` lines.
template <class T>
std::vector<T*> rows_of(T* block, int64_t rows, int64_t lanes) {
  std::vector<T*> r(rows);
  for (int64_t i = 0; i < rows; ++i) r[i] = block + i * lanes;
  return r;
}

// Weights of each symmetry class for a size.
std::vector<double> weights(int64_t size, int kind, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> w(size);
  for (auto& v : w) v = dist(rng);
  const int64_t c = size / 2;
  if (size & 1)
    for (int64_t i = 1; i <= c; ++i)
      w[c + i] = kind == 1 ? w[c - i] : kind == -1 ? -w[c - i] : w[c + i];
  return w;
}

template <class T>
void check_corr(Isa isa) {
  const Table& ref = *kernels<Table>(Isa::scalar);
  const Table& t = *kernels<Table>(isa);
  const Corr1dFn<T> k = of<T>(t.f32_corr1d, t.f64_corr1d),
                    kr = of<T>(ref.f32_corr1d, ref.f64_corr1d);
  const Corr1dLineFn<T> kl = of<T>(t.f32_corr1d_line, t.f64_corr1d_line);
  const Corr1dLineFn<T> kl2 = of<T>(t.f32_corr1d_line_x2, t.f64_corr1d_line);  // two a step
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  for (int64_t size : {1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 17, 21, 23, 25}) {
    for (int kind : {0, 1, -1}) {
      const std::vector<double> wd = weights(size, kind, rng);
      const std::vector<T> w(wd.begin(), wd.end());
      const int sym = (size & 1) && size > 1 ? kind : 0;
      for (int64_t lanes : {1, 3, 8, 15, 16, 17, 31, 32, 33, 69}) {
        for (int64_t n : {1, 2, 7, 40}) {
          std::vector<T> in((n + size - 1) * lanes);
          for (auto& v : in) v = static_cast<T>(dist(rng));
          std::vector<T> got(n * lanes + 1, T(-777)), want(n * lanes + 1, T(-777));
          const auto ir = rows_of(in.data(), n + size - 1, lanes);
          k(ir.data(), rows_of(got.data(), n, lanes).data(), n, lanes, w.data(), size, sym);
          kr(ir.data(), rows_of(want.data(), n, lanes).data(), n, lanes, w.data(), size, sym);
          ASSERT_EQ(got[n * lanes], T(-777)) << "wrote past the block";
          if (lanes == 1) {  // one line: the along-the-line kernel computes the same bits
            std::vector<T> line(n + 1, T(-777));
            for (int64_t len : {n, int64_t{1}, int64_t{9}, int64_t{33}, int64_t{100}})
              for (const Corr1dLineFn<T> k1 : {kl, kl2}) {
                std::vector<T> x(len + size - 1), a(len + 1, T(-777)), b(len);
                for (auto& v : x) v = static_cast<T>(dist(rng));
                k1(x.data(), a.data(), len, w.data(), size, sym);
                kr(rows_of(x.data(), len + size - 1, 1).data(), rows_of(b.data(), len, 1).data(),
                   len, 1, w.data(), size, sym);
                ASSERT_EQ(a[len], T(-777)) << "wrote past the line";
                ASSERT_EQ(0, std::memcmp(a.data(), b.data(), len * sizeof(T)))
                    << isa_name(isa) << " line size=" << size << " len=" << len
                    << (k1 == kl2 ? " (_x2)" : "");
              }
          }
          ASSERT_EQ(0, std::memcmp(got.data(), want.data(), n * lanes * sizeof(T)))
              << isa_name(isa) << " size=" << size << " kind=" << kind << " lanes=" << lanes
              << " n=" << n;
          if (isa != Isa::scalar) continue;
          for (int64_t i = 0; i < n; ++i)
            for (int64_t l = 0; l < lanes; ++l) {
              double sum = 0, mag = 0;
              for (int64_t j = 0; j < size; ++j) {
                sum += double(w[j]) * double(in[(i + j) * lanes + l]);
                mag += std::fabs(double(w[j]) * double(in[(i + j) * lanes + l]));
              }
              ASSERT_NEAR(want[i * lanes + l], sum, 2 * eps<T>() * size * mag + 1e-300)
                  << "size=" << size << " kind=" << kind << " i=" << i << " l=" << l;
            }
        }
      }
    }
  }
}

template <class T>
void check_uniform(Isa isa) {
  const Table& ref = *kernels<Table>(Isa::scalar);
  const Table& t = *kernels<Table>(isa);
  const Uniform1dFn<T> k = of<T>(t.f32_uniform1d, t.f64_uniform1d),
                       kr = of<T>(ref.f32_uniform1d, ref.f64_uniform1d);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> dist(0.0, 10.0);
  for (int64_t size : {1, 2, 3, 5, 8, 21, 64, 65, 200}) {  // 64+: float anchor blocks
    for (int64_t lanes : {1, 5, 16, 17, 32, 33, 70, 300}) {
      for (int64_t n : {1, 3, 50, 200}) {
        std::vector<T> in((n + size - 1) * lanes);
        for (auto& v : in) v = static_cast<T>(dist(rng));
        std::vector<T> got(n * lanes), want(n * lanes);
        const auto ir = rows_of(in.data(), n + size - 1, lanes);
        k(ir.data(), rows_of(got.data(), n, lanes).data(), n, lanes, size);
        kr(ir.data(), rows_of(want.data(), n, lanes).data(), n, lanes, size);
        ASSERT_EQ(0, std::memcmp(got.data(), want.data(), n * lanes * sizeof(T)))
            << isa_name(isa) << " size=" << size << " lanes=" << lanes << " n=" << n;
        if (isa != Isa::scalar) continue;
        for (int64_t i = 0; i < n; ++i)
          for (int64_t l = 0; l < lanes; ++l) {
            double sum = 0;
            for (int64_t j = 0; j < size; ++j) sum += double(in[(i + j) * lanes + l]);
            ASSERT_NEAR(want[i * lanes + l], sum / size, 4 * eps<T>() * (n + size) * 10.0)
                << "size=" << size << " i=" << i;
          }
      }
    }
  }
}

// Window sums along a line against the reference; for double, on lines of 32-bit integers,
// also the running sum's bits (f64_uniform1d_run: the sums are exact, so any order gives them).
template <class T>
void check_uniform_line(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const Uniform1dLineFn<T> k = of<T>(t.f32_uniform1d_line, t.f64_uniform1d_line);
  const Uniform1dLineFn<T> kr = of<T>(kernels<Table>(Isa::scalar)->f32_uniform1d_line,
                                      kernels<Table>(Isa::scalar)->f64_uniform1d_line);
  std::mt19937 rng(9);
  std::uniform_real_distribution<T> dist(T(0), T(10));
  std::uniform_int_distribution<int64_t> ints(INT32_MIN, UINT32_MAX);
  for (int64_t size : {1, 2, 5, 9, 32})
    for (int64_t n : {1, 3, 4, 7, 8, 31, 32, 33, 100}) {
      std::vector<T> in(n + size - 1), got(n + 1, T(-777)), want(n);
      for (auto& v : in) v = dist(rng);
      k(in.data(), got.data(), n, size);
      kr(in.data(), want.data(), n, size);
      ASSERT_EQ(got[n], T(-777)) << "wrote past the line";
      ASSERT_EQ(0, std::memcmp(got.data(), want.data(), n * sizeof(T)))
          << isa_name(isa) << " size=" << size << " n=" << n;
      for (int64_t i = 0; i < n; ++i) {
        double sum = 0;
        for (int64_t j = 0; j < size; ++j) sum += in[i + j];
        ASSERT_NEAR(want[i], sum / size, 1e-6 * size * 10.0);
      }
      if constexpr (sizeof(T) == 8) {
        for (auto& v : in) v = static_cast<T>(ints(rng));
        std::vector<T> run(n);
        k(in.data(), got.data(), n, size);
        t.f64_uniform1d_run(in.data(), run.data(), n, size);
        ASSERT_EQ(0, std::memcmp(got.data(), run.data(), n * sizeof(T)))
            << isa_name(isa) << " integers, size=" << size << " n=" << n;
      }
    }
}

// The fused 2-D uniform row (plain and streamed) against the reference: every vertical window
// up to kDirectRows, horizontal windows on both sides of the register-sliding ones (3-9) and of
// the register width, rows around whole registers, every output alignment; v whole.
void check_uniform2d(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const Table& ref = *kernels<Table>(Isa::scalar);
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  for (int64_t k0 = 1; k0 <= kDirectRows; ++k0)
    for (int64_t k1 : {1, 2, 3, 4, 5, 7, 8, 9, 11, 17, 32})
      for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 47, 95, 96, 97, 2001}) {
        const int64_t nv = n + k1 - 1;
        std::vector<float> x(k0 * nv);
        for (auto& e : x) e = dist(rng);
        if (n == 97) x[k0 * nv / 2] = std::numeric_limits<float>::infinity();
        std::vector<const float*> rows(k0);
        for (int64_t r = 0; r < k0; ++r) rows[r] = x.data() + r * nv;
        std::vector<float> want(n), vwant(nv);
        ref.f32_uniform2d(rows.data(), want.data(), n, k0, k1, vwant.data());
        for (int nt = 0; nt < 2; ++nt)
          for (int64_t off = 0; off < 17; off += (n == 2001 ? 5 : 1)) {
            // 64-byte aligned storage, so `off` sets the output's alignment.
            std::vector<float> got(n + 32 + 1, -777.0f), vgot(nv, -777.0f);
            float* o = got.data() + (16 - reinterpret_cast<uintptr_t>(got.data()) / 4 % 16) + off;
            (nt ? t.f32_uniform2d_nt : t.f32_uniform2d)(rows.data(), o, n, k0, k1, vgot.data());
            ASSERT_EQ(o[n], -777.0f) << "wrote past the row";
            ASSERT_EQ(0, std::memcmp(o, want.data(), n * sizeof(float)))
                << isa_name(isa) << " nt=" << nt << " k0=" << k0 << " k1=" << k1 << " n=" << n
                << " off=" << off;
            ASSERT_EQ(0, std::memcmp(vgot.data(), vwant.data(), nv * sizeof(float)))
                << isa_name(isa) << " v: k0=" << k0 << " k1=" << k1 << " n=" << n;
          }
      }
  // The reference itself: the two passes' sums.
  const int64_t n = 40, k0 = 3, k1 = 5, nv = n + k1 - 1;
  std::vector<float> x(k0 * nv), out(n), v(nv);
  for (auto& e : x) e = dist(rng);
  const float* rows[3] = {x.data(), x.data() + nv, x.data() + 2 * nv};
  ref.f32_uniform2d(rows, out.data(), n, k0, k1, v.data());
  for (int64_t j = 0; j < n; ++j) {
    double s = 0;
    for (int64_t c = j; c < j + k1; ++c) s += (double{rows[0][c]} + rows[1][c] + rows[2][c]) / 3;
    ASSERT_NEAR(out[j], s / k1, 1e-5);
  }
}

// m rows at once (plain and streamed) against the one-row reference, outputs and column sums:
// heights with and without the grouped code (3, 5 / others), group sizes around 4, output rows
// at equal and different alignments (pitches), with inf, NaN, -0 and subnormals in the rows
// (divide_all_by's special cases).
// m output rows of n floats at a row pitch of n + pad (pad 8 and 16: n rounded to 16 floats
// plus pad), from `off` floats past a 64-byte boundary, in a buffer of -777 sentinels; check()
// asserts the rows hold `want` (m x n) and nothing was written before, between or after them.
// Pads 0, 1 and 3 give every alignment in turn, 8 rows alternating by half a 64-byte vector (as
// 3000 or 5000 wide), 16 all rows at one alignment.
struct PitchedRows {
  int64_t m, n, pad, pitch;
  std::vector<float> got;
  float* base;
  std::vector<float*> outs;

  PitchedRows(int64_t m_, int64_t n_, int64_t pad_, int64_t off)
      : m(m_),
        n(n_),
        pad(pad_),
        pitch(pad_ >= 8 ? (n_ + 15) / 16 * 16 + pad_ : n_ + pad_),
        got(m_ * pitch + 32 + 1, -777.0f),
        base(got.data() + (16 - reinterpret_cast<uintptr_t>(got.data()) / 4 % 16) + off),
        outs(m_) {
    for (int64_t r = 0; r < m; ++r) outs[r] = base + r * pitch;
  }

  void check(const std::vector<float>& want, const std::string& what) const {
    ASSERT_EQ(base[-1], -777.0f) << "wrote before row 0; " << what;
    for (int64_t r = 0; r < m; ++r) {
      ASSERT_EQ(outs[r][n], r + 1 < m && pad == 0 ? want[(r + 1) * n] : -777.0f)
          << "wrote past row " << r << "; " << what;
      for (int64_t c = n; c < pitch && pad > 0; ++c)
        ASSERT_EQ(outs[r][c], -777.0f) << "wrote between rows, row " << r << "; " << what;
      ASSERT_EQ(0, std::memcmp(outs[r], want.data() + r * n, n * sizeof(float)))
          << what << " pad=" << pad << " row=" << r;
    }
  }
};

// The scalar reference's uniform2d rows of x ((m + k0 - 1) rows of n + k1 - 1 floats): the
// oracle of the grouped kernels, with the column sums (vwant) they must leave.
struct Uniform2dWant {
  std::vector<const float*> rows;
  std::vector<float> want, vwant;

  Uniform2dWant(const Table& ref, const std::vector<float>& x, int64_t m, int64_t n, int64_t k0,
                int64_t k1)
      : rows(m + k0 - 1), want(m * n), vwant(m * (n + k1 - 1)) {
    const int64_t nv = n + k1 - 1;
    for (size_t r = 0; r < rows.size(); ++r) rows[r] = x.data() + static_cast<int64_t>(r) * nv;
    for (int64_t r = 0; r < m; ++r)
      ref.f32_uniform2d(rows.data() + r, want.data() + r * n, n, k0, k1, vwant.data() + r * nv);
  }

  // The grouped kernel (streamed or not) into PitchedRows(m, n, pad, off): the rows and the
  // column sums bit for bit.
  void check(const Table& t, bool nt, int64_t m, int64_t n, int64_t k0, int64_t k1, int64_t pad,
             int64_t off, const std::string& what) const {
    const int64_t nv = n + k1 - 1;
    PitchedRows o(m, n, pad, off);
    std::vector<float> vgot(m * nv, -777.0f);
    std::vector<float*> vs(m);
    for (int64_t r = 0; r < m; ++r) vs[r] = vgot.data() + r * nv;
    (nt ? t.f32_uniform2d_rows_nt : t.f32_uniform2d_rows)(rows.data(), o.outs.data(), m, n, k0, k1,
                                                          vs.data());
    o.check(want, what + " off=" + std::to_string(off));
    ASSERT_EQ(0, std::memcmp(vgot.data(), vwant.data(), m * nv * sizeof(float))) << what << " v";
  }
};

void check_uniform2d_rows(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const Table& ref = *kernels<Table>(Isa::scalar);
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  for (int64_t k0 : {1, 2, 3, 5, 8})
    for (int64_t k1 : {3, 4, 5, 7, 9, 17})
      for (int64_t m : {1, 3, 4, 5, 8, 9})
        for (int64_t n : {1, 17, 33, 49, 97, 2001}) {
          const int64_t nv = n + k1 - 1, nin = m + k0 - 1;
          std::vector<float> x(nin * nv);
          for (auto& e : x) e = dist(rng);
          if (n >= 33) x[(nin - 1) * nv + 7] = std::numeric_limits<float>::infinity();
          if (n == 97) x[(nin - 1) * nv + 40] = std::numeric_limits<float>::quiet_NaN();
          if (n == 2001)  // sums of -0 (-0 / k is -0) and subnormal sums
            for (int64_t r = 0; r < nin; ++r)
              for (int64_t c = 0; c < 64; ++c)
                x[r * nv + c] =
                    c < 32 ? -0.0f : std::numeric_limits<float>::denorm_min() * (c - 40);
          const Uniform2dWant w(ref, x, m, n, k0, k1);
          for (int nt = 0; nt < 2; ++nt)
            for (int64_t pad : {0, 1, 3, 8, 16})
              for (int64_t off : {0, 1, 9}) {
                std::ostringstream what;
                what << isa_name(isa) << " nt=" << nt << " k0=" << k0 << " k1=" << k1 << " m=" << m
                     << " n=" << n;
                w.check(t, nt, m, n, k0, k1, pad, off, what.str());
              }
        }
}

// The fused 3 x 3 separable row (plain and streamed) against the reference: every sign pair,
// rows around whole registers, every output alignment, with inf, NaN and -0 in the rows.
void check_sep3(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const Table& ref = *kernels<Table>(Isa::scalar);
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  const float w[2][2] = {{-1.0f, 0.0f}, {1.0f, 2.0f}};  // sobel's pair; prewitt's below
  for (int symh : {-1, 1})
    for (int symv : {-1, 1})
      for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 95, 96, 97, 2001}) {
        const int64_t wide = n + 2;
        std::vector<float> x(3 * wide);
        for (auto& e : x) e = dist(rng);
        if (n >= 31) x[wide + 7] = std::numeric_limits<float>::infinity(), x[5] = -0.0f;
        if (n == 97) x[2 * wide + 40] = std::numeric_limits<float>::quiet_NaN();
        const float* rows[3] = {x.data() + 1, x.data() + wide + 1, x.data() + 2 * wide + 1};
        const float* wh = symh < 0 ? w[0] : w[1];
        const float wv[2] = {1.0f, symv < 0 ? 1.0f : 2.0f};
        std::vector<float> want(n);
        ref.f32_sep3_row(rows, want.data(), n, wh, symh, wv, symv);
        for (int nt = 0; nt < 2; ++nt)
          for (int64_t off = 0; off < 17; off += (n == 2001 ? 5 : 1)) {
            std::vector<float> got(n + 32 + 1, -777.0f);
            float* o = got.data() + (16 - reinterpret_cast<uintptr_t>(got.data()) / 4 % 16) + off;
            (nt ? t.f32_sep3_row_nt : t.f32_sep3_row)(rows, o, n, wh, symh, wv, symv);
            ASSERT_EQ(o[n], -777.0f) << "wrote past the row";
            ASSERT_EQ(0, std::memcmp(o, want.data(), n * sizeof(float)))
                << isa_name(isa) << " nt=" << nt << " symh=" << symh << " symv=" << symv
                << " n=" << n << " off=" << off;
          }
      }
  // The reference itself: sobel's sums in double.
  const int64_t n = 30, wide = n + 2;
  std::vector<float> x(3 * wide), out(n);
  for (auto& e : x) e = dist(rng);
  const float* rows[3] = {x.data() + 1, x.data() + wide + 1, x.data() + 2 * wide + 1};
  const float wh[2] = {-1.0f, 0.0f}, wv[2] = {1.0f, 2.0f};
  ref.f32_sep3_row(rows, out.data(), n, wh, -1, wv, 1);
  for (int64_t j = 0; j < n; ++j) {
    double h[3];
    for (int r = 0; r < 3; ++r) h[r] = double{rows[r][j + 1]} - rows[r][j - 1];
    ASSERT_NEAR(out[j], h[0] + 2 * h[1] + h[2], 1e-5);
  }
}

// m rows at once (plain and streamed) against the one-row reference: every sign pair, group
// sizes around 2 and 4, output rows at equal and at different alignments (pitches), with inf,
// NaN and -0 in the rows.
void check_sep3_rows(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const Table& ref = *kernels<Table>(Isa::scalar);
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  const float w[2][2] = {{-1.0f, 0.0f}, {1.0f, 2.0f}};
  for (int symh : {-1, 1})
    for (int symv : {-1, 1})
      for (int64_t m : {1, 2, 3, 4, 5, 7, 9})
        for (int64_t n : {1, 17, 33, 49, 97, 2001}) {
          const int64_t wide = n + 2;
          std::vector<float> x((m + 2) * wide);
          for (auto& e : x) e = dist(rng);
          if (n >= 33) x[wide + 7] = std::numeric_limits<float>::infinity(), x[5] = -0.0f;
          if (n == 97) x[(m + 1) * wide + 40] = std::numeric_limits<float>::quiet_NaN();
          std::vector<const float*> rows(m + 2);
          for (int64_t r = 0; r < m + 2; ++r) rows[r] = x.data() + r * wide + 1;
          const float* wh = symh < 0 ? w[0] : w[1];
          const float wv[2] = {1.0f, symv < 0 ? 1.0f : 2.0f};
          std::vector<float> want(m * n);
          for (int64_t r = 0; r < m; ++r)
            ref.f32_sep3_row(rows.data() + r, want.data() + r * n, n, wh, symh, wv, symv);
          for (int nt = 0; nt < 2; ++nt)
            for (int64_t pad : {0, 1, 3, 8, 16})
              for (int64_t off : {0, 1, 9}) {
                PitchedRows o(m, n, pad, off);
                (nt ? t.f32_sep3_rows_nt : t.f32_sep3_rows)(rows.data(), o.outs.data(), m, n, wh,
                                                            symh, wv, symv);
                std::ostringstream what;
                what << isa_name(isa) << " nt=" << nt << " symh=" << symh << " symv=" << symv
                     << " m=" << m << " n=" << n << " off=" << off;
                o.check(want, what.str());
              }
        }
}

// The double running sum along one line equals the lanes kernel on that line, bit for bit.
void check_uniform_run(Isa isa) {
  const Uniform1dLineFn<double> k = kernels<Table>(isa)->f64_uniform1d_run;
  const Uniform1dFn<double> lanes = kernels<Table>(isa)->f64_uniform1d;
  std::mt19937 rng(10);
  std::uniform_real_distribution<double> dist(-10.0, 10.0);
  for (int64_t size : {1, 2, 5, 9, 32})
    for (int64_t n : {1, 7, 33, 1000}) {
      std::vector<double> in(n + size - 1), got(n + 1, -777.0), want(n);
      for (auto& v : in) v = dist(rng);
      std::vector<const double*> rows(n + size - 1);
      std::vector<double*> res(n);
      for (int64_t t = 0; t < n + size - 1; ++t) rows[t] = &in[t];
      for (int64_t i = 0; i < n; ++i) res[i] = &want[i];
      k(in.data(), got.data(), n, size);
      lanes(rows.data(), res.data(), n, 1, size);
      ASSERT_EQ(got[n], -777.0) << "wrote past the line";
      ASSERT_EQ(0, std::memcmp(got.data(), want.data(), n * sizeof(double)))
          << isa_name(isa) << " size=" << size << " n=" << n;
    }
}

// The `_nt` kernels: the plain kernels' bits, at every output alignment, nothing written
// outside the outputs.
void check_nt(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  const std::vector<float> w = {0.1f, -0.3f, 0.7f, -0.3f, 0.1f}, wa = {0.2f, 0.5f, 0.1f};
  const std::vector<float> w4 = {0.3f, -0.1f, 0.6f, 0.2f};
  std::vector<float> w17(17), a17(17);
  for (int k = 0; k < 17; ++k) {
    w17[k] = 1.0f / static_cast<float>(1 + (k - 8) * (k - 8));
    a17[k] = static_cast<float>(k - 8) / 16.0f;
  }
  for (int64_t off : {0, 1, 3, 16, 17})
    for (int64_t n : {1, 15, 16, 17, 64, 65, 200, 600}) {
      std::vector<float> x(n + 8);
      for (auto& v : x) v = dist(rng);
      std::vector<float> got(n + off + 1, -777.0f), want(n);
      for (int sym : {1, 0}) {
        const std::vector<float>& ww = sym ? w : wa;
        t.f32_corr1d_line_nt(x.data(), got.data() + off, n, ww.data(), int64_t(ww.size()), sym);
        t.f32_corr1d_line(x.data(), want.data(), n, ww.data(), int64_t(ww.size()), sym);
        ASSERT_EQ(0, std::memcmp(got.data() + off, want.data(), n * sizeof(float)))
            << isa_name(isa) << " corr1d_line_nt off=" << off << " n=" << n;
      }
      t.f32_uniform1d_line_nt(x.data(), got.data() + off, n, 5);
      t.f32_uniform1d_line(x.data(), want.data(), n, 5);
      ASSERT_EQ(0, std::memcmp(got.data() + off, want.data(), n * sizeof(float)))
          << isa_name(isa) << " uniform1d_line_nt off=" << off << " n=" << n;
      for (int64_t k = 0; k < off; ++k) ASSERT_EQ(got[k], -777.0f) << "wrote before the line";
      ASSERT_EQ(got[n + off], -777.0f) << "wrote past the line";
      // Across lines: n lanes; 3 output rows, and 15 (corr1d_rows' 8-, 4-, 2- and 1-row
      // blocks) with 17 symmetric / antisymmetric taps and 4 taps of no symmetry; rows n + off
      // apart, or a whole number of 64-byte lines (all at one offset into a line: the first
      // lanes then go alone).
      for (int64_t rows : {3, 15})
        for (int64_t pitch : {n + off, (n + off + 15) / 16 * 16})
          for (const auto& [ww, sym] :
               {std::pair{w, 1}, std::pair{w17, 1}, std::pair{a17, -1}, std::pair{w4, 0}}) {
            const int64_t size = static_cast<int64_t>(ww.size());
            std::vector<float> in((rows + size - 1) * n), blk(rows * pitch + 1, -777.0f),
                ref(rows * n);
            for (auto& v : in) v = dist(rng);
            const auto ir = rows_of(in.data(), rows + size - 1, n);
            std::vector<float*> go(rows), wo(rows);
            for (int64_t r = 0; r < rows; ++r) {
              go[r] = blk.data() + r * pitch + off;
              wo[r] = ref.data() + r * n;
            }
            t.f32_corr1d_nt(ir.data(), go.data(), rows, n, ww.data(), size, sym);
            t.f32_corr1d(ir.data(), wo.data(), rows, n, ww.data(), size, sym);
            for (int64_t r = 0; r < rows; ++r)
              ASSERT_EQ(0, std::memcmp(go[r], wo[r], n * sizeof(float)))
                  << isa_name(isa) << " corr1d_nt off=" << off << " n=" << n << " size=" << size
                  << " row " << r;
            ASSERT_EQ(blk[rows * pitch], -777.0f) << "wrote past the block";
          }
    }
}

// f32_corr1d_lines_nt and its `_x2`: the reference's bits on every line, for row counts around 16,
// lengths around the 8- and 16-wide vectors, every radius of the line kernels' shifted bodies
// (corr1d_line_sym: 1-12 on AVX-512, 1-8 on AVX2) and past it, output rows at every alignment, each
// row its own or all at one offset into a 64-byte line (streamed from the rows' first whole line);
// nothing written outside the outputs, the rows to prefetch (`next`: none, or some rows null) left
// as they were.
void check_lines(Isa isa) {
  const Table& ref = *kernels<Table>(Isa::scalar);
  const Table& t = *kernels<Table>(isa);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  for (int64_t size : {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 4}) {
    for (int kind : {1, -1, 0}) {
      const std::vector<double> wd = weights(size, kind, rng);
      const std::vector<float> w(wd.begin(), wd.end());
      const int sym = (size & 1) && size > 1 ? kind : 0;
      for (int64_t rows : {1, 15, 16, 17, 33}) {
        for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 100, 257})
          for (bool common : {false, true}) {
            // common: a pitch of whole 64-byte lines (the rows share their offset into one).
            const int64_t off = common ? 1 + (rows + n) % 15 : (rows + n) % 5;
            const int64_t pitch = common ? (n + off + 1 + 15) / 16 * 16 : n + off + 1;
            std::vector<float> in(rows * (n + size - 1));
            for (auto& v : in) v = static_cast<float>(dist(rng));
            std::vector<const float*> ir(rows);
            std::vector<float*> go(rows), wo(rows);
            std::vector<float> got(rows * pitch, -777.0f), want(rows * n);
            std::vector<float> ahead(rows * n, 3.0f);
            std::vector<const float*> nx(rows);
            for (int64_t r = 0; r < rows; ++r) {
              ir[r] = in.data() + r * (n + size - 1);
              go[r] = got.data() + r * pitch + off;
              wo[r] = want.data() + r * n;
              nx[r] = r % 3 == 1 ? nullptr : ahead.data() + r * n;
            }
            const float* const* next = common ? nx.data() : nullptr;
            ref.f32_corr1d_lines_nt(ir.data(), wo.data(), rows, n, w.data(), size, sym, next);
            for (const Corr1dLinesFn<float> k : {t.f32_corr1d_lines_nt, t.f32_corr1d_lines_nt_x2}) {
              const char* name = k == t.f32_corr1d_lines_nt ? "" : "_x2";
              std::fill(got.begin(), got.end(), -777.0f);
              k(ir.data(), go.data(), rows, n, w.data(), size, sym, next);
              ASSERT_TRUE(
                  std::all_of(ahead.begin(), ahead.end(), [](float v) { return v == 3.0f; }));
              for (int64_t r = 0; r < rows; ++r) {
                ASSERT_EQ(0, std::memcmp(go[r], wo[r], n * sizeof(float)))
                    << isa_name(isa) << " corr1d_lines_nt" << name << " size=" << size
                    << " kind=" << kind << " rows=" << rows << " n=" << n << " row " << r;
                for (int64_t k2 = 0; k2 < off; ++k2)
                  ASSERT_EQ(got[r * pitch + k2], -777.0f) << "wrote before row " << r;
                ASSERT_EQ(got[r * pitch + off + n], -777.0f) << "wrote past row " << r;
              }
            }
          }
      }
    }
  }
}

// <t>_corr1d_line_copy: the scalar reference's bits and the copied row, radii inside and past
// the AVX-512 sliding kernel's, lengths around its vectors and its end; nothing written outside
// either row, the source row unchanged.
template <class T>
void check_line_copy(Isa isa) {
  const Table& t = *kernels<Table>(isa);
  const Table& ref = *kernels<Table>(Isa::scalar);
  const Corr1dLineCopyFn<T> kc = of<T>(t.f32_corr1d_line_copy, t.f64_corr1d_line_copy);
  const Corr1dLineCopyFn<T> kr = of<T>(ref.f32_corr1d_line_copy, ref.f64_corr1d_line_copy);
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  for (int64_t size : {1, 3, 17, 25, 27, 4}) {
    for (int kind : {1, -1, 0}) {
      const std::vector<double> wd = weights(size, kind, rng);
      const std::vector<T> w(wd.begin(), wd.end());
      const int sym = (size & 1) && size > 1 ? kind : 0;
      for (int64_t n : {1, 15, 16, 17, 31, 48, 63, 100, 257, 1024}) {
        std::vector<T> x(n + size - 1), src(n), got(n + 1, T(-777)), want(n), dst(n + 1, T(-777));
        std::vector<T> ref_dst(n);
        for (auto& v : x) v = static_cast<T>(dist(rng));
        for (auto& v : src) v = static_cast<T>(dist(rng));
        const std::vector<T> src0 = src;
        kc(x.data(), got.data(), n, w.data(), size, sym, src.data(), dst.data());
        ASSERT_EQ(src, src0) << isa_name(isa) << " corr1d_line_copy wrote its source row";
        kr(x.data(), want.data(), n, w.data(), size, sym, src.data(), ref_dst.data());
        ASSERT_EQ(0, std::memcmp(got.data(), want.data(), n * sizeof(T)))
            << isa_name(isa) << " corr1d_line_copy size=" << size << " kind=" << kind << " n=" << n;
        ASSERT_EQ(0, std::memcmp(dst.data(), src0.data(), n * sizeof(T)))
            << isa_name(isa) << " corr1d_line_copy's copy size=" << size << " n=" << n;
        ASSERT_EQ(got[n], T(-777)) << "wrote past the line";
        ASSERT_EQ(dst[n], T(-777)) << "copied past the row";
      }
    }
  }
}

class Filter1dIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(Filter1dIsa, LineCopyMatchesLine) {
  check_line_copy<float>(GetParam());
  check_line_copy<double>(GetParam());
}

TEST_P(Filter1dIsa, NonTemporalKernelsMatchPlainOnes) { check_nt(GetParam()); }

TEST_P(Filter1dIsa, LinesMatchReferenceBitwise) { check_lines(GetParam()); }

TEST_P(Filter1dIsa, CorrelationMatchesReferenceBitwise) {
  check_corr<float>(GetParam());
  check_corr<double>(GetParam());
  check_sep3(GetParam());
  check_sep3_rows(GetParam());
}

TEST_P(Filter1dIsa, UniformMatchesReferenceBitwise) {
  check_uniform_line<float>(GetParam());
  check_uniform_line<double>(GetParam());
  check_uniform2d(GetParam());
  check_uniform2d_rows(GetParam());
  check_uniform_run(GetParam());
  check_uniform<float>(GetParam());
  check_uniform<double>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, Filter1dIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// ---------------------------------------------------------------------------------------------
// The line extension of 1 2 3 4, 9 elements each side (every mode wraps around the line more
// than once); the expected rows are SciPy's, read off scipy.ndimage.correlate1d with unit
// weights at each offset.

std::vector<int> extended(Border mode, int64_t n, int64_t pad) {
  std::vector<int> buf(n + 2 * pad);
  for (int64_t i = 0; i < n; ++i) buf[pad + i] = static_cast<int>(i + 1);
  ndimage::extend_lines(buf.data(), n, pad, pad, 1, mode, 0);
  return buf;
}

TEST(Filter1dLine, ExtensionEveryMode) {
  using V = std::vector<int>;
  EXPECT_EQ(extended(Border::reflect, 4, 9),
            (V{1, 1, 2, 3, 4, 4, 3, 2, 1, 1, 2, 3, 4, 4, 3, 2, 1, 1, 2, 3, 4, 4}));
  EXPECT_EQ(extended(Border::mirror, 4, 9),
            (V{4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1}));
  EXPECT_EQ(extended(Border::wrap, 4, 9),
            (V{4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1}));
  EXPECT_EQ(extended(Border::nearest, 4, 9),
            (V{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}));
  EXPECT_EQ(extended(Border::fill, 4, 2), (V{0, 0, 1, 2, 3, 4, 0, 0}));
  for (Border m : {Border::reflect, Border::mirror, Border::wrap, Border::nearest})
    EXPECT_EQ(extended(m, 1, 3), (V{1, 1, 1, 1, 1, 1, 1})) << static_cast<int>(m);
}

// One line's fast paths (lanes 1: by the mode's formula within one reflection) against
// map_index, the rule, for every mode, length and reach on both sides.
TEST(Filter1dLine, OneLineExtensionIsMapIndex) {
  for (Border m : {Border::reflect, Border::mirror, Border::wrap, Border::nearest, Border::fill})
    for (int64_t n = 1; n <= 9; ++n)
      for (int64_t before = 0; before <= 2 * n + 1; ++before)
        for (int64_t after = 0; after <= 2 * n + 1; ++after) {
          std::vector<int> buf(static_cast<size_t>(before + n + after), -7);
          for (int64_t i = 0; i < n; ++i) buf[before + i] = static_cast<int>(i + 1);
          ndimage::extend_lines(buf.data(), n, before, after, 1, m, 0);
          for (int64_t i = -before; i < n + after; ++i) {
            const int64_t k = map_index(i, n, m);
            EXPECT_EQ(buf[before + i], k < 0 ? 0 : static_cast<int>(k + 1))
                << "mode " << static_cast<int>(m) << " n " << n << " i " << i;
          }
        }
}

TEST(Filter1dLine, CastsAsScipysC) {
  EXPECT_EQ(ndimage::c_cast<uint8_t>(-14.2), 242);
  EXPECT_EQ(ndimage::c_cast<uint8_t>(-1.4e10), 0);
  EXPECT_EQ(ndimage::c_cast<uint8_t>(std::nan("")), 0);
  EXPECT_EQ(ndimage::c_cast<int32_t>(-1.4e10), INT32_MIN);
  EXPECT_EQ(ndimage::c_cast<int32_t>(2.99), 2);
  EXPECT_EQ(ndimage::c_cast<int16_t>(-2.99), -2);
  EXPECT_EQ(ndimage::c_cast<float>(0.1), 0.1f);
  // uint32 through int64; uint64 by GCC's two ranges (SciPy 1.17 correlate1d, x86-64).
  EXPECT_EQ(ndimage::c_cast<uint32_t>(-2147483649.0), 2147483647u);
  EXPECT_EQ(ndimage::c_cast<uint32_t>(4294967303.0), 7u);
  EXPECT_EQ(ndimage::c_cast<uint32_t>(std::nan("")), 0u);
  EXPECT_EQ(ndimage::c_cast<uint64_t>(9223372036854779904.0), 9223372036854779904u);
  EXPECT_EQ(ndimage::c_cast<uint64_t>(HUGE_VAL), 0u);
  EXPECT_EQ(ndimage::c_cast<uint64_t>(18446744073709551616.0), 0u);
  EXPECT_EQ(ndimage::c_cast<uint64_t>(-HUGE_VAL), uint64_t{1} << 63);
  EXPECT_EQ(ndimage::c_cast<uint64_t>(std::nan("")), uint64_t{1} << 63);
  EXPECT_EQ(ndimage::c_cast<uint64_t>(-5.5), ~uint64_t{4});
  EXPECT_EQ(ndimage::c_cast<int64_t>(9223372036854779904.0), INT64_MIN);
}

// ---------------------------------------------------------------------------------------------
// The operators against their formula over a strided 3-D view, every axis, mode and ISA.

// step 2: every other element along the last axis (lines are copied into blocks); step 1:
// contiguous (lines along axes 0 and 1 are read in place).
void check_op(int64_t step) {
  const int64_t shape[3] = {5, 7, 37};
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> dist(-3.0, 3.0);
  std::vector<double> base(5 * 7 * 37 * step);
  for (auto& v : base) v = dist(rng);
  View in;
  in.data = base.data();
  in.dtype = DType::f64;
  in.ndim = 3;
  for (int k = 0; k < 3; ++k) in.shape[k] = shape[k];
  in.strides[2] = 8 * step;
  in.strides[1] = 37 * 8 * step;
  in.strides[0] = 7 * 37 * 8 * step;
  auto at = [&](int64_t i0, int64_t i1, int64_t i2) {
    return base[((i0 * 7 + i1) * 37 + i2) * step];
  };
  const double w[4] = {0.5, -1.25, 2.0, 0.75};
  for (Isa isa : kernel_isas<Table>()) {
    ScopedIsa scoped(isa);
    for (int axis = 0; axis < 3; ++axis)
      for (Border mode :
           {Border::fill, Border::wrap, Border::reflect, Border::nearest, Border::mirror})
        for (int64_t origin : {-2, 0, 1}) {
          std::vector<double> got(5 * 7 * 37), uni(5 * 7 * 37);
          View out = in;
          out.data = got.data();
          out.strides[2] = 8;
          out.strides[1] = 37 * 8;
          out.strides[0] = 7 * 37 * 8;
          View uout = out;
          uout.data = uni.data();
          correlate1d(in, w, 4, axis, out, mode, 1.5, origin);
          uniform_filter1d(in, 4, axis, uout, mode, 1.5, origin);
          for (int64_t i0 = 0; i0 < 5; ++i0)
            for (int64_t i1 = 0; i1 < 7; ++i1)
              for (int64_t i2 = 0; i2 < 37; ++i2) {
                int64_t idx[3] = {i0, i1, i2};
                double sum = 0, mean = 0;
                for (int64_t j = 0; j < 4; ++j) {
                  int64_t s[3] = {i0, i1, i2};
                  const int64_t m = map_index(idx[axis] + j - 2 - origin, shape[axis], mode);
                  s[axis] = m;
                  const double v = m < 0 ? 1.5 : at(s[0], s[1], s[2]);
                  sum += w[j] * v;
                  mean += v;
                }
                const int64_t o = (i0 * 7 + i1) * 37 + i2;
                ASSERT_NEAR(got[o], sum, 1e-12) << isa_name(isa) << " axis " << axis;
                ASSERT_NEAR(uni[o], mean / 4, 1e-12) << isa_name(isa) << " axis " << axis;
              }
        }
  }
}

TEST(Filter1dOp, MatchesFormulaEveryAxisModeIsa) {
  check_op(2);
  check_op(1);
}

TEST(Filter1dOp, ThreadCountDoesNotChangeBits) {
  const int64_t H = 300, W = 301;
  std::vector<float> x(H * W), a(H * W), b(H * W);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  const View in = view2d(x.data(), DType::f32, H, W, W * 4, 4);
  View oa = in, ob = in;
  oa.data = a.data();
  ob.data = b.data();
  const double w[5] = {0.1, 0.2, 0.4, 0.2, 0.1};
  const ScopedThreads restore(1, 4);  // a lifted cap takes helpers as awake: small jobs thread
  for (int axis = 0; axis < 2; ++axis) {
    set_num_threads(1);
    correlate1d(in, w, 5, axis, oa, Border::reflect, 0, 0);
    set_num_threads(4);
    correlate1d(in, w, 5, axis, ob, Border::reflect, 0, 0);
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "axis " << axis;
  }
}

// Lines read in place (contiguous; float32 running sums in bands of kReanchor positions) and
// lines copied into blocks (a strided view; whole lines) give the same bits.
TEST(Filter1dOp, InPlaceAndCopiedLinesAgreeBitwise) {
  const int64_t H = 300, W = 40;
  std::vector<float> dense(H * W), sparse(H * W * 2), a(H * W), b(H * W);
  std::mt19937 rng(8);
  std::uniform_real_distribution<float> dist(0.0f, 100.0f);
  for (int64_t i = 0; i < H * W; ++i) sparse[2 * i] = dense[i] = dist(rng);
  const View vd = view2d(dense.data(), DType::f32, H, W, W * 4, 4);
  const View vs = view2d(sparse.data(), DType::f32, H, W, W * 8, 8);
  View oa = vd, ob = vd;
  oa.data = a.data();
  ob.data = b.data();
  const double w[3] = {0.25, 0.5, 0.25};
  for (int64_t size : {1, 4, 7}) {
    uniform_filter1d(vd, size, 0, oa, Border::mirror, 0, 0);
    uniform_filter1d(vs, size, 0, ob, Border::mirror, 0, 0);
    ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "uniform size " << size;
  }
  correlate1d(vd, w, 3, 0, oa, Border::fill, 2.0, 0);
  correlate1d(vs, w, 3, 0, ob, Border::fill, 2.0, 0);
  ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "correlate";
}

// The fused pair equals its two passes, both orders, with bands and edges of every kind.
TEST(Filter1dOp, FusedPairEqualsTwoPasses) {
  const int64_t H = 153, W = 301;  // bands of 16 and 64 rows, and partial ones
  std::vector<float> x(H * W), a(H * W), b(H * W);
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  const View in = view2d(x.data(), DType::f32, H, W, W * 4, 4);
  const View oa = view2d(a.data(), DType::f32, H, W, W * 4, 4);
  const View ob = view2d(b.data(), DType::f32, H, W, W * 4, 4);
  const double w0[5] = {0.1, 0.2, 0.4, 0.2, 0.1}, w1[4] = {-1.0, 0.5, 2.0, 0.25};
  for (Isa isa : kernel_isas<Table>()) {
    ScopedIsa scoped(isa);
    for (Border mode :
         {Border::fill, Border::wrap, Border::reflect, Border::nearest, Border::mirror})
      for (int order = 0; order < 2; ++order) {
        const int ax0 = order, ax1 = 1 - order;
        correlate1d_pair(in, w0, 5, ax0, mode, w1, 4, ax1, Border::mirror, oa, 0.5);
        correlate1d(in, w0, 5, ax0, ob, mode, 0.5, 0);
        correlate1d(ob, w1, 4, ax1, ob, Border::mirror, 0.5, 0);
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4))
            << isa_name(isa) << " mode " << static_cast<int>(mode) << " order " << order;
      }
    for (Border mode :
         {Border::fill, Border::wrap, Border::reflect, Border::nearest, Border::mirror}) {
      uniform_filter_pair(in, 6, 0, mode, -2, 5, Border::wrap, 1, oa, 0.5);
      uniform_filter1d(in, 6, 0, ob, mode, 0.5, -2);
      uniform_filter1d(ob, 5, 1, ob, Border::wrap, 0.5, 1);
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4))
          << isa_name(isa) << " uniform mode " << static_cast<int>(mode);
    }
  }
}

// Rows a multiple of 4 KiB apart (float32 1024 wide, double 512: the dense input, and a view
// whose rows are padded by 8 KiB, so 12 KiB apart) take pair_fused's ring (its condition:
// vertical first, out of place, a window over 8 rows, in.strides[a] % 4096 == 0), filled ahead
// by the pass along rows: the two passes' bits with bands of every kind, planes, constant and
// reflected edges, at 1 and 2 threads, gaussian-sized (17) and uniform (11) vertical windows.
TEST(Filter1dOp, FusedPairRingEqualsTwoPasses) {
  const ScopedThreads restore(1, 4);  // a lifted cap takes helpers as awake: small jobs thread
  const double wv[17] = {0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.12, 0.13, 0.14,
                         0.13, 0.12, 0.1,  0.08, 0.06, 0.04, 0.02, 0.01};
  const double wh[5] = {0.1, 0.2, 0.4, 0.2, 0.1};
  for (const int64_t item : {4, 8}) {
    const DType dt = item == 4 ? DType::f32 : DType::f64;
    const int64_t P = 2, H = 75, W = 4096 / item;  // 75 rows: 4 full bands of 16 and a part
    for (const int64_t pitch : {W, W + 8192 / item}) {
      ASSERT_EQ(0, pitch * item % 4096) << "the ring's rows";
      std::vector<char> x(P * H * pitch * item), a(P * H * W * item), b(P * H * W * item);
      std::mt19937 rng(14);
      std::uniform_real_distribution<double> dist(-1.0, 1.0);
      for (int64_t k = 0; k < P * H * pitch; ++k) {
        if (item == 4)
          reinterpret_cast<float*>(x.data())[k] = static_cast<float>(dist(rng));
        else
          reinterpret_cast<double*>(x.data())[k] = dist(rng);
      }
      View in;
      in.data = x.data();
      in.dtype = dt;
      in.ndim = 3;
      in.shape[0] = P, in.shape[1] = H, in.shape[2] = W;
      in.strides[0] = H * pitch * item, in.strides[1] = pitch * item, in.strides[2] = item;
      View oa = in, ob = in;
      oa.data = a.data(), ob.data = b.data();
      oa.strides[0] = ob.strides[0] = H * W * item;
      oa.strides[1] = ob.strides[1] = W * item;
      for (const int threads : {1, 2})
        for (Border mode : {Border::fill, Border::reflect, Border::wrap}) {
          set_num_threads(threads);
          correlate1d_pair(in, wv, 17, 1, mode, wh, 5, 2, Border::mirror, oa, 0.5);
          correlate1d(in, wv, 17, 1, ob, mode, 0.5, 0);
          correlate1d(ob, wh, 5, 2, ob, Border::mirror, 0.5, 0);
          ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size()))
              << "item " << item << " pitch " << pitch << " threads " << threads << " mode "
              << static_cast<int>(mode);
          if (item == 8) continue;
          uniform_filter_pair(in, 11, 1, mode, 1, 5, Border::wrap, 0, oa, 0.5);
          uniform_filter1d(in, 11, 1, ob, mode, 0.5, 1);
          uniform_filter1d(ob, 5, 2, ob, Border::wrap, 0.5, 0);
          ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size()))
              << "uniform pitch " << pitch << " threads " << threads << " mode "
              << static_cast<int>(mode);
        }
    }
  }
}

// A float32 P x H x W view of `data` whose rows lie `pitch` floats apart.
View view3(float* data, int64_t P, int64_t H, int64_t W, int64_t pitch) {
  View v;
  v.data = data;
  v.dtype = DType::f32;
  v.ndim = 3;
  v.shape[0] = P, v.shape[1] = H, v.shape[2] = W;
  v.strides[0] = H * pitch * 4, v.strides[1] = pitch * 4, v.strides[2] = 4;
  return v;
}

// Rows wide enough for the row-by-row fused uniform filter (uniform_rows) at every size0: every
// mode on either axis, origins, vertical windows up to kDirectRows, horizontal ones in and out of
// the kernel's register windows, a 3-D array and a strided output, against the two passes, on every
// ISA and at 1 and 2 threads.
TEST(Filter1dOp, UniformRowsEqualTwoPasses) {
  const int64_t P = 2, H = 37, W = 4100;  // (1 + 1) rows overflow 32 KiB: every case fused
  std::vector<float> x(P * H * W), a(P * H * (W + 5)), b(P * H * W);
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  const View in = view3(x.data(), P, H, W, W), ob = view3(b.data(), P, H, W, W);
  // Rows W + 5 apart, starting off a vector boundary.
  const View oa = view3(a.data() + 1, P, H, W, W + 5);
  const Border modes[] = {Border::fill, Border::wrap, Border::reflect, Border::nearest,
                          Border::mirror};
  struct Case {
    int64_t s0, o0, s1, o1;
    int axis0;
  };
  const Case cases[] = {{5, 0, 5, 0, 1},   {3, 1, 3, -1, 1}, {8, -4, 9, 4, 1}, {6, 2, 7, 0, 0},
                        {2, 0, 11, -5, 1}, {1, 0, 4, 1, 1},  {7, -3, 2, 0, 0}};
  const ScopedThreads restore(1, 4);  // a lifted cap takes helpers as awake: small jobs thread
  for (Isa isa : kernel_isas<Table>()) {
    ScopedIsa scoped(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (const Case& c : cases)
        for (Border m0 : modes)
          for (Border m1 : {Border::reflect, Border::fill, Border::wrap}) {
            uniform_filter_pair(in, c.s0, c.axis0, m0, c.o0, c.s1, m1, c.o1, oa, 0.25);
            uniform_filter1d(in, c.s0, c.axis0, ob, m0, 0.25, c.o0);
            uniform_filter1d(ob, c.s1, 2, ob, m1, 0.25, c.o1);
            for (int64_t r = 0; r < P * H; ++r)
              ASSERT_EQ(0, std::memcmp(a.data() + 1 + r * (W + 5), b.data() + r * W, W * 4))
                  << isa_name(isa) << " sizes " << c.s0 << "," << c.s1 << " modes "
                  << static_cast<int>(m0) << "," << static_cast<int>(m1) << " row " << r;
          }
    }
  }
}

// Rows wide enough for the row-by-row 3 x 3 pair (sep3_rows): sobel's and prewitt's weights,
// every mode on either axis (cval rows and columns), a 3-D array along either outer axis and a
// strided output, against the two passes, on every ISA and at 1 and 2 threads.
TEST(Filter1dOp, Sep3RowsEqualTwoPasses) {
  const int64_t P = 2, H = 21, W = 1100;
  std::vector<float> x(P * H * W), a(P * H * (W + 5)), b(P * H * W);
  std::mt19937 rng(14);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto& v : x) v = dist(rng);
  x[W + 3] = std::numeric_limits<float>::infinity();
  const View in = view3(x.data(), P, H, W, W), ob = view3(b.data(), P, H, W, W);
  // Rows W + 5 apart, starting off a vector boundary.
  const View oa = view3(a.data() + 1, P, H, W, W + 5);
  const Border modes[] = {Border::fill, Border::wrap, Border::reflect, Border::nearest,
                          Border::mirror};
  const double d[3] = {-1, 0, 1}, sobel[3] = {1, 2, 1}, prewitt[3] = {1, 1, 1};
  const ScopedThreads restore(1, 4);  // a lifted cap takes helpers as awake: small jobs thread
  for (Isa isa : kernel_isas<Table>()) {
    ScopedIsa scoped(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (const double* sm : {sobel, prewitt})
        for (int axis1 : {0, 1})
          for (Border m0 : modes)
            for (Border m1 : modes) {
              correlate1d_pair(in, d, 3, 2, m0, sm, 3, axis1, m1, oa, 0.25);
              correlate1d(in, d, 3, 2, ob, m0, 0.25, 0);
              correlate1d(ob, sm, 3, axis1, ob, m1, 0.25, 0);
              for (int64_t r = 0; r < P * H; ++r)
                ASSERT_EQ(0, std::memcmp(a.data() + 1 + r * (W + 5), b.data() + r * W, W * 4))
                    << isa_name(isa) << " axis1 " << axis1 << " modes " << static_cast<int>(m0)
                    << "," << static_cast<int>(m1) << " row " << r;
            }
    }
  }
}

TEST(Filter1dOp, RejectsBadArguments) {
  std::vector<double> x(12), y(12);
  const View in = view2d(x.data(), DType::f64, 3, 4, 32, 8);
  View out = in;
  out.data = y.data();
  const double w[3] = {1, 2, 3};
  EXPECT_THROW(correlate1d(in, w, 3, 2, out, Border::reflect, 0, 0), ValueError);
  EXPECT_THROW(correlate1d(in, w, 0, 1, out, Border::reflect, 0, 0), ValueError);
  EXPECT_THROW(correlate1d(in, w, 3, 1, out, Border::reflect, 0, 2), ValueError);
  EXPECT_THROW(uniform_filter1d(in, 3, 1, out, Border::reflect, 0, -2), ValueError);
  View small = out;
  small.shape[1] = 3;
  EXPECT_THROW(uniform_filter1d(in, 3, 1, small, Border::reflect, 0, 0), ValueError);
}

#if defined(__x86_64__) || defined(__i386__)
// MXCSR with flush-to-zero and denormals-are-zero on (as -ffast-math code sets it), the caller's
// mode back on scope exit, also when an assertion returns early.
class ScopedFtzDaz {
 public:
  ScopedFtzDaz() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040); }
  ~ScopedFtzDaz() { _mm_setcsr(saved_); }
  ScopedFtzDaz(const ScopedFtzDaz&) = delete;
  ScopedFtzDaz& operator=(const ScopedFtzDaz&) = delete;

 private:
  unsigned saved_;
};

// Under FTZ | DAZ the kernels give the reference's bits under that mode: divide_all_by's
// reciprocal correction underflowed there (0x1.800004p-125 / 3 gave 0x1.000004p-126, the
// division 0x1.000002p-126). Sums around 2^-125 .. 2^-122, both signs, zeros and subnormals
// among them, for the heights and widths divide_all_by serves (3, 5 / 3, 5, 7, 9).
TEST(Filter1dOp, UniformUnderFlushToZeroMatchesReference) {
  const Table& ref = *kernels<Table>(Isa::scalar);
  std::mt19937 rng(61);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  std::uniform_int_distribution<int> expo(-128, -121);
  const ScopedFtzDaz ftz;
  volatile float tiny = 0x1p-120f;
  ASSERT_EQ(tiny * 0x1p-10f, 0.0f) << "FTZ not in effect";
  for (Isa isa : kernel_isas<Table>()) {
    const Table& t = *kernels<Table>(isa);
    for (int64_t k0 : {3, 5})
      for (int64_t k1 : {3, 5, 7, 9})
        for (int64_t m : {1, 4}) {
          const int64_t n = 197, nv = n + k1 - 1, nin = m + k0 - 1;
          std::vector<float> x(nin * nv);
          for (size_t i = 0; i < x.size(); ++i)
            x[i] = i % 29 == 0 ? 0.0f : std::ldexp(mant(rng), expo(rng)) * (rng() % 2 ? 1 : -1);
          const Uniform2dWant w(ref, x, m, n, k0, k1);
          for (int nt = 0; nt < 2; ++nt) {
            // Rows 64-byte aligned (pad 16): the streamed groups need equal alignments.
            std::ostringstream what;
            what << isa_name(isa) << " nt=" << nt << " k0=" << k0 << " k1=" << k1 << " m=" << m;
            w.check(t, nt, m, n, k0, k1, 16, 0, what.str());
          }
        }
  }
}
#endif

}  // namespace
}  // namespace filter1d
}  // namespace npfast
