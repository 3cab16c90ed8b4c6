// GEMM: every registered microkernel against the double-accumulating oracle on full and edge
// tiles; the operator on every path (packed / in place, threaded) for all transpose
// combinations, odd sizes, k = 0, m or n = 1, beta 0 / 1 / other, lda > k; bitwise identity
// across partitions and thread counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/gemm.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/gemm/gemm.h"
#include "src/ops/gemm_impl.h"
#include "src/ops/gemv.h"
#include "tests/cpp/scoped_threads.h"

namespace npfast {
namespace gemm_kernels {
namespace {

template <class T>
std::vector<T> random_vec(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

// Tolerance: the error of a k-term dot product in T, against sum |a||b| (<= k here).
template <class T>
double tolerance(int64_t k) {
  return 4.0 * (static_cast<double>(k) + 2.0) * std::numeric_limits<T>::epsilon();
}

template <class T>
void expect_close(const std::vector<T>& got, const std::vector<T>& want, int64_t k,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  const double tol = tolerance<T>(k);
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(static_cast<double>(want[i]))) {
      ASSERT_TRUE(std::isnan(static_cast<double>(got[i]))) << what << " at " << i;
      continue;
    }
    ASSERT_NEAR(static_cast<double>(got[i]), static_cast<double>(want[i]),
                tol * (1.0 + std::fabs(static_cast<double>(want[i]))))
        << what << " at " << i;
  }
}

// One microkernel call on a packed MR x k A panel and k x NR B panel, into a C tile with
// a guard band, for mr x nr in {edge..full}.
template <class T>
void check_ukernel(const Ukernel<T>& uk) {
  std::mt19937 rng(7);
  const int MR = uk.mr, NR = uk.nr;
  for (int64_t k : {0, 1, 2, 7, 64, 257}) {
    auto ap = random_vec<T>(static_cast<size_t>(MR * std::max<int64_t>(k, 1)), rng);
    auto bp = random_vec<T>(static_cast<size_t>(NR * std::max<int64_t>(k, 1)), rng);
    for (int mr : {1, MR / 2 + 1, MR - 1, MR}) {
      for (int nr : {1, 3, NR / 2, NR - 1, NR}) {
        if (mr < 1 || nr < 1) continue;
        for (T beta : {T(0), T(1), T(-0.5)}) {
          const int64_t ldc = NR + 5;
          auto c0 = random_vec<T>(static_cast<size_t>((MR + 1) * ldc), rng);
          auto got = c0, want = c0;
          if (beta == T(0)) got[0] = std::numeric_limits<T>::quiet_NaN();  // must not leak
          uk.fn(k, ap.data(), 1, MR, bp.data(), NR, got.data(), ldc, mr, nr, T(1.5), beta);
          // The oracle on the same panels: A^T stored k x MR (lda = MR), B stored k x NR.
          gemm_reference<T>(true, false, mr, nr, k, T(1.5), ap.data(), MR, bp.data(), NR, beta,
                            want.data(), ldc);
          expect_close(got, want, k,
                       base_name(uk) + " k=" + std::to_string(k) + " mr=" + std::to_string(mr) +
                           " nr=" + std::to_string(nr));
        }
      }
    }
  }
}

// The edge kernels give exactly the bits of the full kernel on the tiles they cover.
template <class T>
void check_edge_kernels(const Ukernel<T>& uk) {
  std::mt19937 rng(11);
  const int MR = uk.mr, NR = uk.nr;
  for (int64_t k : {0, 1, 5, 300}) {
    auto ap = random_vec<T>(static_cast<size_t>(MR * std::max<int64_t>(k, 1)), rng);
    auto bp = random_vec<T>(static_cast<size_t>(NR * std::max<int64_t>(k, 1)), rng);
    const int64_t ldc = NR + 3;
    auto c0 = random_vec<T>(static_cast<size_t>(MR * ldc), rng);
    struct Case {
      UkernelFn<T> fn;
      int mr, nr;
    };
    std::vector<Case> cases;
    if (uk.fn_narrow)
      for (int nr = 1; nr <= NR / 2; ++nr) cases.push_back({uk.fn_narrow, MR, nr});
    if (uk.fn_heights)
      for (int mr = 1; mr < MR; ++mr)
        for (int nr : {1, NR - 1, NR}) cases.push_back({uk.fn_heights[mr], mr, nr});
    for (const Case& cs : cases)
      for (T beta : {T(0), T(-0.25)}) {
        auto full = c0, edge = c0;
        uk.fn(k, ap.data(), 1, MR, bp.data(), NR, full.data(), ldc, cs.mr, cs.nr, T(0.5), beta);
        cs.fn(k, ap.data(), 1, MR, bp.data(), NR, edge.data(), ldc, cs.mr, cs.nr, T(0.5), beta);
        ASSERT_EQ(std::memcmp(full.data(), edge.data(), full.size() * sizeof(T)), 0)
            << base_name(uk) << " edge kernel mr=" << cs.mr << " nr=" << cs.nr << " k=" << k;
      }
  }
}

// The gathered-rows kernel gives exactly the bits of fn on the same rows packed (rows
// scattered at uneven distances, one repeated, as the convolution's slack rows are).
template <class T>
void check_rows_kernel(const Ukernel<T>& uk) {
  if (!uk.fn_rows) return;  // an ISA without one: its users keep evenly spaced rows
  std::mt19937 rng(13);
  const int MR = uk.mr, NR = uk.nr;
  for (int64_t k : {0, 1, 5, 192, 300}) {
    const int64_t kk = std::max<int64_t>(k, 1), pitch = kk + 3;
    auto src = random_vec<T>(static_cast<size_t>((2 * MR + 2) * pitch), rng);
    auto bp = random_vec<T>(static_cast<size_t>(NR * kk), rng);
    std::vector<const T*> rows(static_cast<size_t>(MR));
    std::vector<T> ap(static_cast<size_t>(MR * kk));
    for (int i = 0; i < MR; ++i) {
      // Uneven distances and offsets; the last row repeats the one before it (same address).
      const int64_t r = 2 * i + (i > MR / 2);
      rows[static_cast<size_t>(i)] =
          i == MR - 1 && MR > 1 ? rows[static_cast<size_t>(i - 1)] : src.data() + r * pitch + i % 3;
      for (int64_t p = 0; p < k; ++p) ap[static_cast<size_t>(p * MR + i)] = rows[i][p];
    }
    const int64_t ldc = NR + 3;
    auto c0 = random_vec<T>(static_cast<size_t>(MR * ldc), rng);
    for (int mr : {1, MR / 2, MR})
      for (int nr : {1, NR - 1, NR})
        for (T beta : {T(0), T(-0.25)}) {
          auto full = c0, got = c0;
          uk.fn(k, ap.data(), 1, MR, bp.data(), NR, full.data(), ldc, mr, nr, T(0.5), beta);
          uk.fn_rows(k, rows.data(), bp.data(), NR, got.data(), ldc, mr, nr, T(0.5), beta);
          ASSERT_EQ(std::memcmp(full.data(), got.data(), full.size() * sizeof(T)), 0)
              << base_name(uk) << " rows kernel mr=" << mr << " nr=" << nr << " k=" << k;
        }
  }
}

class GemmIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(GemmIsa, RowsKernelMatchesFullKernelBitwise) {
  const Isa isa = GetParam();
  // AVX-512 has none by design (gemm.h); the others must.
  if (isa != Isa::avx512) {
    ASSERT_NE(kernels<Table>(isa)->f32.fn_rows, nullptr);
    ASSERT_NE(kernels<Table>(isa)->f64.fn_rows, nullptr);
  }
  check_rows_kernel(kernels<Table>(isa)->f32);
  check_rows_kernel(kernels<Table>(isa)->f64);
}

TEST_P(GemmIsa, EdgeKernelsMatchFullKernelBitwise) {
  const Isa isa = GetParam();
  check_edge_kernels(kernels<Table>(isa)->f32);
  check_edge_kernels(kernels<Table>(isa)->f64);
}

TEST_P(GemmIsa, MicrokernelsMatchReference) {
  const Isa isa = GetParam();
  const Table* s = kernels<Table>(isa);
  check_ukernel(s->f32);
  check_ukernel(s->f64);
}

// The operator on one shape, every forced path, against the oracle; all paths must agree
// bit for bit with each other (same K blocking, same per-element arithmetic).
template <class T>
void check_op(const Ukernel<T>& uk, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha,
              T beta, int64_t pad) {
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 7 + k));
  const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  auto a = random_vec<T>(static_cast<size_t>((ta ? k : m) * lda + 1), rng);
  auto b = random_vec<T>(static_cast<size_t>((tb ? n : k) * ldb + 1), rng);
  auto c0 = random_vec<T>(static_cast<size_t>(m * ldc + 1), rng);
  auto want = c0;
  gemm_reference<T>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  std::vector<T> first;
  const std::string what = base_name(uk) + " ta=" + std::to_string(ta) +
                           " tb=" + std::to_string(tb) + " m=" + std::to_string(m) +
                           " n=" + std::to_string(n) + " k=" + std::to_string(k);
  for (int pa : {0, 1})
    for (int pb : {0, 1})
      for (int th : {1, 2, 3}) {
        gemm_detail::Options opt;
        opt.pack_a = pa;
        opt.pack_b = pb;
        opt.threads = th;
        auto got = c0;
        if (beta == T(0))
          for (int64_t i = 0; i < m; ++i) got[i * ldc] = std::numeric_limits<T>::quiet_NaN();
        gemm_detail::gemm_run<T>(uk, opt, ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb,
                                 beta, got.data(), ldc);
        // Padding between rows is untouched.
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = n; j < ldc && i * ldc + j < static_cast<int64_t>(got.size()); ++j)
            ASSERT_EQ(got[i * ldc + j], c0[i * ldc + j]) << what << " wrote padding";
        expect_close(got, want, k, what);
        if (first.empty())
          first = got;
        else
          ASSERT_TRUE(std::memcmp(first.data(), got.data(), got.size() * sizeof(T)) == 0)
              << what << " pack_a=" << pa << " pack_b=" << pb << " threads=" << th;
      }
}

template <class T>
void check_op_all(const Ukernel<T>& uk) {
  const int64_t sizes[][3] = {{1, 1, 1},      {1, 17, 5},    {17, 1, 5},   {5, 7, 0},
                              {6, 16, 8},     {7, 17, 9},    {13, 33, 3},  {31, 45, 70},
                              {64, 64, 64},   {50, 3, 300},  {3, 90, 600}, {100, 130, 513},
                              {200, 70, 300}, {301, 40, 100}};
  for (auto& s : sizes)
    for (int ta : {0, 1})
      for (int tb : {0, 1}) {
        check_op<T>(uk, ta, tb, s[0], s[1], s[2], T(1), T(0), 0);
        check_op<T>(uk, ta, tb, s[0], s[1], s[2], T(0.75), T(1), 3);
        check_op<T>(uk, ta, tb, s[0], s[1], s[2], T(-2), T(0.5), 1);
      }
  // More than one column block (NC = 1024 scalar, 4080 / 2040 AVX2) in shared mode.
  check_op<T>(uk, false, false, 150, 4100, 5, T(1), T(0.5), 2);
  check_op<T>(uk, true, true, 70, 1100, 20, T(1), T(0), 0);
  // alpha == 0: C = beta * C without reading A, B.
  check_op<T>(uk, false, false, 9, 10, 11, T(0), T(2), 2);
}

TEST_P(GemmIsa, OperatorMatchesReferenceOnEveryPath) {
  const Isa isa = GetParam();
  const Table* s = kernels<Table>(isa);
  check_op_all(s->f32);
  check_op_all(s->f64);
}

// The AVX-512 tile shapes and blocking (MR = 14, NR = 32 / 16, KC 192 / 384) through the
// whole operator, with AVX2 vectors, so they are exercised on machines without AVX-512.
TEST(GemmOp, Avx512GeometryOnAvx2) {
  if (!isa_supported(Isa::avx2)) GTEST_SKIP() << "CPU lacks avx2";
  const Table& s = table_avx512_geometry_on_avx2;
  const Table* real = kernels<Table>(Isa::avx512);
  ASSERT_NE(real, nullptr);
  EXPECT_EQ(s.f32.mr, real->f32.mr);
  EXPECT_EQ(s.f32.nr, real->f32.nr);
  EXPECT_EQ(s.f32.kc, real->f32.kc);
  EXPECT_EQ(s.f64.nr, real->f64.nr);
  EXPECT_EQ(s.f64.kc, real->f64.kc);
  EXPECT_EQ(s.f32.kc_pack, real->f32.kc_pack);
  EXPECT_EQ(s.f64.kc_pack, real->f64.kc_pack);
  EXPECT_EQ(s.f32.inplace_b_bytes, real->f32.inplace_b_bytes);
  EXPECT_EQ(s.f64.inplace_b_bytes, real->f64.inplace_b_bytes);
  check_ukernel(s.f32);
  check_ukernel(s.f64);
  check_edge_kernels(s.f32);
  check_edge_kernels(s.f64);
  check_op_all(s.f32);
  check_op_all(s.f64);
}

// The gemv kernels against gemm_reference (a product with one column), over widths around the
// vector lengths and their multiples, padded rows and strided x / y; and the bits unchanged when
// the rows (dot) or the columns and the depth (axpy) are split into several calls, which is
// what the operator's thread partition and K blocks do.
template <class T>
void check_gemv(const gemm_kernels::Gemv<T>& g, const std::string& what) {
  ASSERT_NE(g.dot, nullptr) << what;
  ASSERT_NE(g.axpy, nullptr) << what;
  std::mt19937 rng(13);
  const int64_t ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 129, 300};
  for (int64_t k : ks)
    for (int64_t m : {1, 2, 3, 4, 5, 7, 8, 9, 13}) {
      const int64_t lda = k + 3;
      auto a = random_vec<T>(static_cast<size_t>(m * lda), rng);
      auto x = random_vec<T>(static_cast<size_t>(k), rng);
      for (int64_t incy : {1, 3}) {
        std::vector<T> y(static_cast<size_t>(m * incy), T(-7)), want = y, parts = y;
        g.dot(m, k, a.data(), lda, x.data(), y.data(), incy);
        gemm_reference<T>(false, false, m, 1, k, T(1), a.data(), lda, x.data(), 1, T(0),
                          want.data(), incy);
        expect_close(y, want, k, what + " dot m=" + std::to_string(m) + " k=" + std::to_string(k));
        for (int64_t i = 0; i < m; ++i)
          g.dot(1, k, a.data() + i * lda, lda, x.data(), parts.data() + i * incy, incy);
        ASSERT_EQ(std::memcmp(y.data(), parts.data(), y.size() * sizeof(T)), 0)
            << what << " dot rows one by one, m=" << m << " k=" << k;
      }
    }
  const int64_t ns[] = {1,  3,  4,  5,  8,  9,   15,  16,  17,  31,
                        32, 33, 63, 64, 65, 127, 128, 129, 200, 300};
  for (int64_t n : ns)
    for (int64_t k : {1, 2, 5, 17, 64, 100}) {
      const int64_t lda = n + 5;
      auto a = random_vec<T>(static_cast<size_t>(k * lda), rng);
      auto x = random_vec<T>(static_cast<size_t>(2 * k), rng);
      for (int64_t incx : {1, 2}) {
        // x as a k x 1 column of stride incx, for the reference: y^T = x^T A.
        std::vector<T> xc(static_cast<size_t>(k));
        for (int64_t p = 0; p < k; ++p)
          xc[static_cast<size_t>(p)] = x[static_cast<size_t>(p * incx)];
        std::vector<T> y(static_cast<size_t>(n) + 1, T(-7)), want = y;
        g.axpy(k, n, a.data(), lda, x.data(), incx, y.data(), false);
        gemm_reference<T>(false, false, 1, n, k, T(1), xc.data(), k, a.data(), lda, T(0),
                          want.data(), n);
        expect_close(y, want, k, what + " axpy n=" + std::to_string(n) + " k=" + std::to_string(k));
        // Columns one at a time, and the depth in two calls: the same bits.
        std::vector<T> parts(y.size(), T(-7));
        const int64_t k1 = k / 2;
        for (int64_t j = 0; j < n; ++j) {
          if (k1 > 0) g.axpy(k1, 1, a.data() + j, lda, x.data(), incx, parts.data() + j, false);
          g.axpy(k - k1, 1, a.data() + k1 * lda + j, lda, x.data() + k1 * incx, incx,
                 parts.data() + j, k1 > 0);
        }
        ASSERT_EQ(std::memcmp(y.data(), parts.data(), y.size() * sizeof(T)), 0)
            << what << " axpy split, n=" << n << " k=" << k;
      }
    }
}

TEST_P(GemmIsa, GemvKernelsMatchReference) {
  const Table& t = *kernels<Table>(GetParam());
  const std::string isa = isa_name(GetParam());
  check_gemv(t.f32_gemv, "f32_gemv__" + isa);
  check_gemv(t.f64_gemv, "f64_gemv__" + isa);
}

// The scalar instance is honest: every kernel is checked against gemm_reference, which
// accumulates in double, not against the scalar microkernel.
INSTANTIATE_TEST_SUITE_P(All, GemmIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

// Grouping K blocks (kc_pack, where C does not stay in L2) changes the order in which tiles get
// their K blocks, never the K blocks of a tile or their order: the bits equal one block per pass.
template <class T>
void check_k_groups(const Ukernel<T>& uk, int64_t m, int64_t n, int64_t k) {
  Ukernel<T> one = uk;
  one.kc_pack = 0;
  std::mt19937 rng(11);
  auto a = random_vec<T>(static_cast<size_t>(m * k), rng);
  auto b = random_vec<T>(static_cast<size_t>(k * n), rng);
  auto c0 = random_vec<T>(static_cast<size_t>(m * n), rng);
  for (int ta : {0, 1})
    for (int th : {1, 3}) {
      gemm_detail::Options opt;
      opt.threads = th;
      auto want = c0, got = c0;
      const int64_t lda = ta ? m : k;
      gemm_detail::gemm_run<T>(one, opt, ta, false, m, n, k, T(0.5), a.data(), lda, b.data(), n,
                               T(0.25), want.data(), n);
      gemm_detail::gemm_run<T>(uk, opt, ta, false, m, n, k, T(0.5), a.data(), lda, b.data(), n,
                               T(0.25), got.data(), n);
      ASSERT_EQ(std::memcmp(want.data(), got.data(), got.size() * sizeof(T)), 0)
          << base_name(uk) << " ta=" << ta << " threads=" << th;
    }
}

TEST(GemmOp, KGroupsKeepTheBits) {
  // C over 1 MB, K of several blocks (KC 192 / 384) and, for f64, a short last group.
  std::vector<const Table*> tables = {&table_avx512_geometry_on_avx2};
  if (const Table* real = kernels<Table>(Isa::avx512); real && isa_supported(Isa::avx512))
    tables.push_back(real);
  for (const Table* t : tables) {
    if (t == &table_avx512_geometry_on_avx2 && !isa_supported(Isa::avx2)) continue;
    ASSERT_GT(t->f32.kc_pack, t->f32.kc);
    ASSERT_GT(t->f64.kc_pack, t->f64.kc);
    check_k_groups(t->f32, 530, 520, 700);
    check_k_groups(t->f64, 400, 420, 1000);
  }
}

// The thread cost model: one thread below kPairNs (5 us) of work, two from there up to
// three kMinChunkNs, else at least kMinChunkNs per thread, never more than available (with the
// helpers taken as awake: the core-cap override does that).
TEST(GemmOp, ThreadsFollowTheWork) {
  const ScopedThreads restore(16, 16);
  EXPECT_EQ(gemm_detail::gemm_threads(16, 16, 16, 16, 150.0), 1);
  EXPECT_EQ(gemm_detail::gemm_threads(64, 64, 64, 16, 150.0), 1);     // 3.5 us
  EXPECT_EQ(gemm_detail::gemm_threads(64, 64, 64, 16, 70.0), 2);      // 7.5 us (f64)
  EXPECT_EQ(gemm_detail::gemm_threads(96, 96, 96, 16, 150.0), 2);     // 11.8 us
  EXPECT_EQ(gemm_detail::gemm_threads(128, 128, 128, 16, 150.0), 2);  // 28 us
  EXPECT_EQ(gemm_detail::gemm_threads(128, 128, 128, 1, 150.0), 1);
  EXPECT_EQ(gemm_detail::gemm_threads(4000, 4000, 4000, 16, 150.0), 16);
  EXPECT_EQ(gemm_detail::gemm_threads(4000, 4000, 4000, 1, 150.0), 1);
  int last = 1;
  for (int64_t s = 16; s <= 2048; s += s / 4) {
    const int t = gemm_detail::gemm_threads(s, s, s, 16, 150.0);
    const double ns = gemm_detail::gemm_ns(s, s, s, 150.0);
    EXPECT_GE(t, last) << s;
    EXPECT_LE(t, 16) << s;
    EXPECT_EQ(t > 1, ns >= 5000.0) << s;
    if (t > 2) {
      EXPECT_GE(ns / t, kMinChunkNs) << s;
    }
    last = t;
  }
}

TEST(GemmOp, KBlockDependsOnKOnly) {
  EXPECT_EQ(gemm_detail::k_block(0, 256), 1);
  EXPECT_EQ(gemm_detail::k_block(256, 256), 256);
  EXPECT_EQ(gemm_detail::k_block(257, 256), 129);
  EXPECT_EQ(gemm_detail::k_block(1000, 256), 250);
}

TEST(GemmOp, PublicEntryThreadCountInvariant) {
  // Large enough for the cost model to thread; 1 vs 2 threads bitwise identical.
  const int64_t m = 301, n = 257, k = 611;
  std::mt19937 rng(3);
  auto a = random_vec<float>(static_cast<size_t>(m * k), rng);
  auto b = random_vec<float>(static_cast<size_t>(k * n), rng);
  std::vector<float> c1(static_cast<size_t>(m * n)), c2(c1.size());
  const ScopedThreads restore;
  set_num_threads(1);
  gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c1.data(), n);
  set_num_threads(2);
  gemm(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c2.data(), n);
  EXPECT_EQ(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)), 0);
  std::vector<float> want(c1.size());
  gemm_reference<float>(false, false, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, want.data(),
                        n);
  expect_close(c1, want, k, "public f32");
}

TEST(GemmOp, CallableFromInsideParallelFor) {
  const int64_t m = 40, n = 50, k = 60;
  std::mt19937 rng(5);
  auto a = random_vec<double>(static_cast<size_t>(m * k), rng);
  auto b = random_vec<double>(static_cast<size_t>(k * n), rng);
  std::vector<double> c(static_cast<size_t>(4 * m * n)), want(static_cast<size_t>(m * n));
  parallel_for(4, 1, [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i)
      gemm(false, false, m, n, k, 1.0, a.data(), k, b.data(), n, 0.0, c.data() + i * m * n, n);
  });
  gemm_reference<double>(false, false, m, n, k, 1.0, a.data(), k, b.data(), n, 0.0, want.data(), n);
  for (int i = 0; i < 4; ++i) {
    std::vector<double> part(c.begin() + i * m * n, c.begin() + (i + 1) * m * n);
    expect_close(part, want, k, "nested");
  }
}

// A product the pair rule puts on two threads (96^3 f32, 11.8 us at 150 flops/ns) gives the same
// bits inside a parallel_for, where it is planned for one thread.
TEST(GemmOp, InsideParallelForSameBits) {
  const int64_t s = 96;
  std::mt19937 rng(9);
  auto a = random_vec<float>(static_cast<size_t>(s * s), rng);
  auto b = random_vec<float>(static_cast<size_t>(s * s), rng);
  const ScopedThreads restore(2, 2);  // helpers taken as awake: the 11.8 us product is threaded
  std::vector<float> top(static_cast<size_t>(s * s)), inside(2 * top.size());
  gemm(false, false, s, s, s, 1.0f, a.data(), s, b.data(), s, 0.0f, top.data(), s);
  parallel_for(2, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      gemm(false, false, s, s, s, 1.0f, a.data(), s, b.data(), s, 0.0f, inside.data() + i * s * s,
           s);
  });
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(std::memcmp(top.data(), inside.data() + i * s * s, top.size() * sizeof(float)), 0);
}

// ops::matvec splits rows (dot) or columns (axpy) of the whole batch by thread count: the bits
// must not move at 1, 2, 3, 7 or 16 threads (the core cap lifted so each count really splits).
template <class T>
void check_matvec_threads() {
  std::mt19937 rng(17);
  const int64_t batch = 2, rows = 1001, k = 1999;
  auto a = random_vec<T>(static_cast<size_t>(batch * rows * k), rng);
  auto x = random_vec<T>(static_cast<size_t>(batch * k * 2), rng);
  for (bool dot : {true, false}) {
    std::vector<T> first;
    for (int th : {1, 2, 3, 7, 16}) {
      ScopedThreads scope(th, 16);
      std::vector<T> y(static_cast<size_t>(batch * rows), T(-1));
      // dot: rows of a contiguous, x contiguous per batch entry. axpy: a (k x rows) row-major,
      // read as its transpose, x strided 2.
      const ops::MatVec<T> mv =
          dot ? ops::MatVec<T>{a.data(), k, 1,    rows * k, x.data(), 1, k,
                               y.data(), 1, rows, batch,    rows,     k}
              : ops::MatVec<T>{a.data(), 1, rows, rows * k, x.data(), 2, 2 * k,
                               y.data(), 1, rows, batch,    rows,     k};
      ASSERT_TRUE(ops::matvec(mv));
      if (first.empty())
        first = y;
      else
        ASSERT_EQ(std::memcmp(first.data(), y.data(), y.size() * sizeof(T)), 0)
            << (dot ? "dot" : "axpy") << " threads=" << th;
    }
  }
}

TEST(GemmOp, MatvecThreadCountInvariant) {
  check_matvec_threads<float>();
  check_matvec_threads<double>();
}

}  // namespace
}  // namespace gemm_kernels
}  // namespace npfast
