// SIMD body of the GEMM family, written once against src/core/simd/ and instantiated per ISA
// by x86_<isa>.cc (which includes the ISA header and defines NPFAST_TARGET first). No include
// guard: one inclusion per ISA file. The contract is in gemm.h.
#include <array>
#include <cstdint>
#include <utility>

#include "src/kernels/gemm/gemm.h"
#include "src/kernels/row_prefetch.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace gemm {

// MR x (NV * lanes) register tile: MR * NV accumulators, NV vectors of B, one broadcast of A.
template <class T, int MR, int NV>
struct Tile {
  static constexpr int L = kLanes<T>;
  static constexpr int NR = NV * L;
  V<T> acc[MR][NV];

  // acc = sum_p A(i, p) * B(p, :), in order p = 0..k-1. kUnitRows: rs_a == 1 (packed or
  // transposed A), which keeps the row offsets out of registers (MR = 14 has too few GPRs).
  template <bool kUnitRows>
  inline void multiply(int64_t k, const T* a, int64_t rs_a, int64_t cs_a, const T* b,
                       int64_t rs_b) {
    if (kUnitRows) rs_a = 1;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = zero<T>();
    // Rows read in place (rs_a > 1) go by groups of kGroup sharing one moving pointer, so the
    // loop keeps kGroup - 1 row offsets in registers rather than MR - 1: with 13, six were
    // reloaded from the stack every step and the f64 14x16 kernel ran 5-7% slower per step on a
    // row-major A than on a packed one. Same loads, same FMAs in the same order: same bits.
    constexpr int kGroup = kUnitRows ? MR : 7;
    constexpr int kGroups = (MR + kGroup - 1) / kGroup;
    const T* ag[kGroups];
#pragma GCC unroll 4
    for (int g = 0; g < kGroups; ++g) ag[g] = a + g * kGroup * rs_a;
    for (int64_t p = 0; p < k; ++p) {
      V<T> bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = load(b + v * L);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const V<T> ai = set1<T>(ag[i / kGroup][(i % kGroup) * rs_a]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = fma(ai, bv[v], acc[i][v]);
      }
#pragma GCC unroll 4
      for (int g = 0; g < kGroups; ++g) ag[g] += cs_a;
      b += rs_b;
    }
  }

  // multiply() on gathered rows: row i at ar[i], contiguous (UkernelRowsFn). The same loads
  // and FMAs in the same order, so the same bits as multiply() on those rows.
  inline void multiply_rows(int64_t k, const T* const* ar, const T* b, int64_t rs_b) {
    const T* r[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      r[i] = ar[i];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = zero<T>();
    }
    for (int64_t p = 0; p < k; ++p) {
      V<T> bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = load(b + v * L);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const V<T> ai = set1<T>(r[i][p]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = fma(ai, bv[v], acc[i][v]);
      }
      b += rs_b;
    }
  }

  // c = alpha * acc + beta * c over the full tile at c (row stride rs_c).
  inline void store(T* c, int64_t rs_c, T alpha, T beta) const {
    const V<T> va = set1<T>(alpha);
    if (beta == T(0)) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          npfast::NPFAST_TARGET::store(c + i * rs_c + v * L, mul(va, acc[i][v]));
    } else {
      const V<T> vb = set1<T>(beta);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          T* cp = c + i * rs_c + v * L;
          npfast::NPFAST_TARGET::store(cp, fma(va, acc[i][v], mul(vb, load(cp))));
        }
    }
  }
};

// Warm the C tile while the product runs (it is needed only at the end).
// (A tile row spans two cache lines unless C happens to be aligned: fetch both ends.)
template <class T>
inline void prefetch_tile(const T* c, int64_t rs_c, int64_t mr, int64_t nr) {
  for (int64_t i = 0; i < mr; ++i) {
    __builtin_prefetch(c + i * rs_c, 1);
    __builtin_prefetch(c + i * rs_c + nr - 1, 1);
  }
}

// The tile's mr x nr corner into c: a full tile directly; an edge tile through the same vector
// arithmetic on a local copy, of which only mr x nr goes back.
template <class T, int MR, int NV>
inline void store_tile(const Tile<T, MR, NV>& t, T* c, int64_t rs_c, int64_t mr, int64_t nr,
                       T alpha, T beta) {
  constexpr int NR = Tile<T, MR, NV>::NR;
  if (mr == MR && nr == NR) {
    t.store(c, rs_c, alpha, beta);
    return;
  }
  alignas(64) T buf[MR * NR];
  if (beta != T(0)) {
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < nr; ++j) buf[i * NR + j] = c[i * rs_c + j];
  }
  t.store(buf, NR, alpha, beta);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) c[i * rs_c + j] = buf[i * NR + j];
}

template <class T, int MR, int NV>
void ukernel(int64_t k, const T* a, int64_t rs_a, int64_t cs_a, const T* b, int64_t rs_b, T* c,
             int64_t rs_c, int64_t mr, int64_t nr, T alpha, T beta) {
  prefetch_tile(c, rs_c, mr, nr);
  Tile<T, MR, NV> t;
  if (rs_a == 1)
    t.template multiply<true>(k, a, rs_a, cs_a, b, rs_b);
  else
    t.template multiply<false>(k, a, rs_a, cs_a, b, rs_b);
  store_tile(t, c, rs_c, mr, nr, alpha, beta);
}

// ukernel<T, r, NV> at index r for r = 1..MR-1 (Ukernel::fn_heights; index 0 unused).
template <class T, int MR, int NV, int... R>
constexpr std::array<gemm_kernels::UkernelFn<T>, MR> heights_of(std::integer_sequence<int, R...>) {
  return {nullptr, ukernel<T, R + 1, NV>...};
}
template <class T, int MR, int NV>
inline constexpr std::array<gemm_kernels::UkernelFn<T>, MR> kHeights =
    heights_of<T, MR, NV>(std::make_integer_sequence<int, MR - 1>{});

// ukernel on gathered A rows (UkernelRowsFn, gemm.h).
template <class T, int MR, int NV>
void ukernel_rows(int64_t k, const T* const* a_rows, const T* b, int64_t rs_b, T* c, int64_t rs_c,
                  int64_t mr, int64_t nr, T alpha, T beta) {
  prefetch_tile(c, rs_c, mr, nr);
  Tile<T, MR, NV> t;
  t.multiply_rows(k, a_rows, b, rs_b);
  store_tile(t, c, rs_c, mr, nr, alpha, beta);
}

// gemv_dot (gemm.h): kRows rows at a time, two accumulators per row, so 8 independent FMA
// chains share each pair of x vectors. The per-row arithmetic does not depend on kRows.
template <class T, int kRows>
inline void dot_rows(int64_t k, const T* a, int64_t lda, const T* x, T* y, int64_t incy) {
  constexpr int L = kLanes<T>;
  V<T> acc0[kRows], acc1[kRows];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) acc0[r] = acc1[r] = zero<T>();
  int64_t p = 0;
  // Each row is asked for 1 KB ahead (the lines of the step after next few): from L3, 1000^2-
  // 1500^2 f32 on one thread ran 3-8% faster than on the hardware prefetchers alone, 2 KB no
  // better (docs/gemm.md, gemv).
  constexpr int64_t kAhead = 1024 / sizeof(T);
  for (; p + 2 * L <= k; p += 2 * L) {
    const V<T> x0 = load(x + p), x1 = load(x + p + L);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      // Up to 1 KB past the row's end: the address as an integer (row_prefetch.h).
      prefetch_past(a + r * lda + p, kAhead * sizeof(T));
      if (2 * L * sizeof(T) > 64) prefetch_past(a + r * lda + p, kAhead * sizeof(T) + 64);
      acc0[r] = fma(load(a + r * lda + p), x0, acc0[r]);
      acc1[r] = fma(load(a + r * lda + p + L), x1, acc1[r]);
    }
  }
  // The tail through zero-filled lanes (0 * 0 adds nothing, and no NaN from beyond k).
  const int rest = static_cast<int>(k - p);
  if (rest > L) {
    const V<T> x0 = load(x + p), x1 = loadn(x + p + L, rest - L);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      acc0[r] = fma(load(a + r * lda + p), x0, acc0[r]);
      acc1[r] = fma(loadn(a + r * lda + p + L, rest - L), x1, acc1[r]);
    }
  } else if (rest > 0) {
    const V<T> x0 = loadn(x + p, rest);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) acc0[r] = fma(loadn(a + r * lda + p, rest), x0, acc0[r]);
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) y[r * incy] = reduce_add(add(acc0[r], acc1[r]));
}

template <class T>
void gemv_dot(int64_t m, int64_t k, const T* a, int64_t lda, const T* x, T* y, int64_t incy) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) dot_rows<T, 4>(k, a + i * lda, lda, x, y + i * incy, incy);
  for (; i < m; ++i) dot_rows<T, 1>(k, a + i * lda, lda, x, y + i * incy, incy);
}

// gemv_axpy (gemm.h): kVecs vectors of columns held in registers over all k rows; kMasked: the
// last vector has `last` lanes (loaded and stored masked). One broadcast of x per row.
template <class T, int kVecs, bool kMasked>
inline void axpy_cols(int64_t k, const T* a, int64_t lda, const T* x, int64_t incx, T* y,
                      bool accumulate, int last) {
  constexpr int L = kLanes<T>;
  V<T> acc[kVecs];
#pragma GCC unroll 8
  for (int v = 0; v < kVecs; ++v) {
    const bool masked = kMasked && v == kVecs - 1;
    acc[v] = !accumulate ? zero<T>() : masked ? loadn(y + v * L, last) : load(y + v * L);
  }
  for (int64_t p = 0; p < k; ++p) {
    const V<T> xp = set1<T>(x[p * incx]);
    const T* ap = a + p * lda;
#pragma GCC unroll 8
    for (int v = 0; v < kVecs; ++v) {
      const bool masked = kMasked && v == kVecs - 1;
      acc[v] = fma(xp, masked ? loadn(ap + v * L, last) : load(ap + v * L), acc[v]);
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < kVecs; ++v) {
    if (kMasked && v == kVecs - 1)
      storen(y + v * L, acc[v], last);
    else
      store(y + v * L, acc[v]);
  }
}

template <class T>
void gemv_axpy(int64_t k, int64_t n, const T* a, int64_t lda, const T* x, int64_t incx, T* y,
               bool accumulate) {
  constexpr int L = kLanes<T>;
  int64_t j = 0;
  for (; j + 8 * L <= n; j += 8 * L)
    axpy_cols<T, 8, false>(k, a + j, lda, x, incx, y + j, accumulate, L);
  if (j + 4 * L <= n) {
    axpy_cols<T, 4, false>(k, a + j, lda, x, incx, y + j, accumulate, L);
    j += 4 * L;
  }
  if (j + 2 * L <= n) {
    axpy_cols<T, 2, false>(k, a + j, lda, x, incx, y + j, accumulate, L);
    j += 2 * L;
  }
  if (j + L <= n) {
    axpy_cols<T, 1, false>(k, a + j, lda, x, incx, y + j, accumulate, L);
    j += L;
  }
  if (j < n)
    axpy_cols<T, 1, true>(k, a + j, lda, x, incx, y + j, accumulate, static_cast<int>(n - j));
}

}  // namespace gemm
}  // namespace NPFAST_TARGET
}  // namespace npfast
