// Every registered normalisation kernel: the scalar reference against sums written out in the
// test (in double), then every SIMD table against the reference: element-wise passes bit for
// bit, reductions to rounding; lengths and channel counts around the vector widths, with and
// without the ReLU mask (NaN outputs included), and a large mean (the shifted sums keep the
// variance).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "npfast/dispatch.hpp"
#include "src/kernels/norm/norm.h"
#include "tests/cpp/scoped_isa.h"

namespace npfast {
namespace norm {
namespace {

template <class T>
std::vector<T> values(size_t n, std::mt19937& rng, double offset) {
  std::normal_distribution<double> d(offset, 2.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  // memcmp's pointers must not be null, even for zero bytes (UBSan): empty runs compare equal.
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

template <class T>
double tol(double scale) {
  return (sizeof(T) == 4 ? 1e-9 : 1e-12) * (1 + std::fabs(scale));
}

template <class T>
void check_run(const Table& t, const Table& ref, int64_t n, double offset, std::mt19937& rng) {
  const auto stats = of<T>(t.f32_bn_stats, t.f64_bn_stats);
  const auto sums = of<T>(t.f32_bn_grad_sums, t.f64_bn_grad_sums);
  const auto apply = of<T>(t.f32_bn_apply, t.f64_bn_apply);
  const auto gapply = of<T>(t.f32_bn_grad_apply, t.f64_bn_grad_apply);
  std::vector<T> x = values<T>(n, rng, offset), dy = values<T>(n, rng, 0.0);
  std::vector<T> y = values<T>(n, rng, 0.0);
  if (n > 3) y[3] = std::numeric_limits<T>::quiet_NaN();
  const double shift = n ? static_cast<double>(x[0]) : 0.0;
  // Written out here in double: what every table must reproduce.
  double s = 0, q = 0, gs = 0, gq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - shift;
    s += d;
    q += d * d;
    if (!(y[i] <= T(0))) {  // NaN passes (torch)
      gs += static_cast<double>(dy[i]);
      gq += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - offset);
    }
  }
  double r[2];
  stats(x.data(), n, shift, r);
  EXPECT_NEAR(r[0], s, tol<T>(s) * n) << "stats n=" << n;
  EXPECT_NEAR(r[1], q, tol<T>(q) * n) << "stats n=" << n;
  sums(dy.data(), x.data(), y.data(), n, offset, r);
  EXPECT_NEAR(r[0], gs, tol<T>(gs) * n) << "grad_sums n=" << n;
  EXPECT_NEAR(r[1], gq, tol<T>(gq) * n) << "grad_sums n=" << n;
  for (const bool relu : {false, true}) {
    const Affine<T> a{static_cast<T>(offset), T(0.7), T(-0.2)};
    std::vector<T> got(n), want(n);
    apply(x.data(), n, a, relu, got.data());
    of<T>(ref.f32_bn_apply, ref.f64_bn_apply)(x.data(), n, a, relu, want.data());
    EXPECT_TRUE(same_bits(got, want)) << "apply n=" << n << " relu=" << relu;
    for (int64_t i = 0; i < n; ++i) {
      const T v = std::fma(x[i] - a.mean, a.scale, a.shift);
      EXPECT_EQ(want[i], relu && v < 0 ? T(0) : v);
    }
    const GradAffine<T> g{static_cast<T>(offset), T(0.5), T(-0.03), T(0.1)};
    const T* mask = relu ? y.data() : nullptr;
    gapply(dy.data(), x.data(), mask, n, g, got.data());
    of<T>(ref.f32_bn_grad_apply, ref.f64_bn_grad_apply)(dy.data(), x.data(), mask, n, g,
                                                        want.data());
    EXPECT_TRUE(same_bits(got, want)) << "grad_apply n=" << n << " relu=" << relu;
    // Without x (eval): a * g, whatever x holds.
    gapply(dy.data(), nullptr, mask, n, g, got.data());
    of<T>(ref.f32_bn_grad_apply, ref.f64_bn_grad_apply)(dy.data(), nullptr, mask, n, g,
                                                        want.data());
    EXPECT_TRUE(same_bits(got, want)) << "grad_apply without x n=" << n << " relu=" << relu;
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(want[i], g.a * ((!mask || !(y[i] <= T(0))) ? dy[i] : T(0))) << "without x i=" << i;
    // In place over x (dx == x), as relu_grad_add runs it: x + the masked dy.
    const GradAffine<T> acc{T(0), T(1), T(1), T(0)};
    got = x;
    gapply(dy.data(), got.data(), mask, n, acc, got.data());
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(got[i], x[i] + (!mask || !(y[i] <= T(0)) ? dy[i] : T(0))) << "in place i=" << i;
  }
}

template <class T>
void check_rows(const Table& t, const Table& ref, int64_t rows, int64_t c, std::mt19937& rng) {
  const int64_t n = rows * c;
  std::vector<T> x = values<T>(n, rng, 100.0), dy = values<T>(n, rng, 0.0);
  std::vector<T> y = values<T>(n, rng, 0.0);
  std::vector<double> shift(c), mean(c);
  std::vector<T> tm(c), ts(c), tb(c), ta(c), tk(c);
  for (int64_t j = 0; j < c; ++j) {
    shift[j] = static_cast<double>(x[j]);
    mean[j] = 100.0 + 0.01 * j;
    tm[j] = static_cast<T>(mean[j]);
    ts[j] = T(0.5 + 0.1 * j);
    tb[j] = T(-0.25 * j);
    ta[j] = T(0.3 - 0.01 * j);
    tk[j] = T(0.02 * j);
  }
  std::vector<double> got(2 * c), want(2 * c);
  for (int64_t j = 0; j < c; ++j) {
    double s = 0, q = 0, gs = 0, gq = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r * c + j;
      const double d = static_cast<double>(x[i]) - shift[j];
      s += d;
      q += d * d;
      if (!(y[i] <= T(0))) {  // NaN passes (torch)
        gs += static_cast<double>(dy[i]);
        gq += static_cast<double>(dy[i]) * (static_cast<double>(x[i]) - mean[j]);
      }
    }
    want[j] = s, want[c + j] = q;
    got[j] = gs, got[c + j] = gq;  // reused below as the gradient sums' expectation
  }
  std::vector<double> r(2 * c), grad_want = got;
  of<T>(t.f32_bn_stats_rows, t.f64_bn_stats_rows)(x.data(), rows, c, shift.data(), r.data());
  for (int64_t j = 0; j < 2 * c; ++j)
    EXPECT_NEAR(r[j], want[j], tol<T>(want[j]) * rows) << "stats_rows c=" << c;
  of<T>(t.f32_bn_grad_sums_rows, t.f64_bn_grad_sums_rows)(dy.data(), x.data(), y.data(), rows, c,
                                                          mean.data(), r.data());
  for (int64_t j = 0; j < 2 * c; ++j)
    EXPECT_NEAR(r[j], grad_want[j], tol<T>(grad_want[j]) * rows) << "grad_sums_rows c=" << c;
  for (const bool relu : {false, true}) {
    std::vector<T> a(n), b(n);
    const AffineRows<T> p{tm.data(), ts.data(), tb.data()};
    of<T>(t.f32_bn_apply_rows, t.f64_bn_apply_rows)(x.data(), rows, c, p, relu, a.data());
    of<T>(ref.f32_bn_apply_rows, ref.f64_bn_apply_rows)(x.data(), rows, c, p, relu, b.data());
    EXPECT_TRUE(same_bits(a, b)) << "apply_rows c=" << c;
    const GradAffineRows<T> g{tm.data(), ta.data(), tk.data(), tb.data()};
    const T* mask = relu ? y.data() : nullptr;
    of<T>(t.f32_bn_grad_apply_rows, t.f64_bn_grad_apply_rows)(dy.data(), x.data(), mask, rows, c, g,
                                                              a.data());
    of<T>(ref.f32_bn_grad_apply_rows, ref.f64_bn_grad_apply_rows)(dy.data(), x.data(), mask, rows,
                                                                  c, g, b.data());
    EXPECT_TRUE(same_bits(a, b)) << "grad_apply_rows c=" << c;
    of<T>(t.f32_bn_grad_apply_rows, t.f64_bn_grad_apply_rows)(dy.data(), nullptr, mask, rows, c, g,
                                                              a.data());
    of<T>(ref.f32_bn_grad_apply_rows, ref.f64_bn_grad_apply_rows)(dy.data(), nullptr, mask, rows, c,
                                                                  g, b.data());
    EXPECT_TRUE(same_bits(a, b)) << "grad_apply_rows without x c=" << c;
  }
}

class NormIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(NormIsa, MatchesReference) {
  const Table& t = *kernels<Table>(GetParam());
  const Table& ref = *kernels<Table>(Isa::scalar);
  std::mt19937 rng(7);
  for (int64_t n : {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000})
    for (double offset : {0.0, 1e4}) {
      check_run<float>(t, ref, n, offset, rng);
      check_run<double>(t, ref, n, offset, rng);
    }
  for (int64_t rows : {1, 2, 5})
    for (int64_t c : {1, 3, 4, 8, 9, 16, 17, 32, 64, 67}) {
      check_rows<float>(t, ref, rows, c, rng);
      check_rows<double>(t, ref, rows, c, rng);
    }
}

// A large mean: the shifted sums give the variance of values around 1e4 to float32 accuracy
// (plain sums of squares would lose it to cancellation).
TEST_P(NormIsa, LargeMeanVariance) {
  const Table& t = *kernels<Table>(GetParam());
  std::vector<float> x(4096);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 10000.0f + static_cast<float>(i % 2 ? 1 : -1);
  double r[2];
  t.f32_bn_stats(x.data(), static_cast<int64_t>(x.size()), x[0], r);
  const double m = r[0] / 4096, var = r[1] / 4096 - m * m;
  EXPECT_NEAR(var, 1.0, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(All, NormIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace norm
}  // namespace npfast
