// GEMM kernel family: the microkernel contract, the per-ISA kernel sets, the scalar oracle.
//
// The operator (src/ops/gemm.cc) owns blocking, packing, threading; a microkernel only
// multiplies one MR x k panel of A by one k x NR panel of B into an MR x NR tile of C.
//
// Microkernel contract, `<dtype>_gemm_<MR>x<NR>__<isa>(k, a, rs_a, cs_a, b, rs_b, c, rs_c, mr, nr,
// alpha, beta)`:
//   k        depth of the product (>= 0; k == 0 gives C = beta * C on the stored part)
//   a        A panel: element (i, p), i < MR, p < k, is a[i * rs_a + p * cs_a]. A packed panel
//            has rs_a = 1, cs_a = MR; a row-major A read in place has rs_a = lda, cs_a = 1; a
//            transposed one rs_a = 1, cs_a = lda. ALL MR rows must be readable: the operator
//            pads a partial panel (zeros) in a packing buffer instead of passing short rows.
//   b        B panel: element (p, j), j < NR, is b[p * rs_b + j] (columns contiguous). Packed:
//            rs_b = NR; row-major in place: rs_b = ldb. ALL NR columns must be readable.
//   c        C tile: element (i, j) is c[i * rs_c + j]. Only i < mr, j < nr is read or written
//            (1 <= mr <= MR, 1 <= nr <= NR); a partial tile goes through a local tile buffer,
//            so the edge arithmetic is exactly the full-tile arithmetic.
//   alpha, beta
//            c = alpha * acc + beta * c, rounded as fma(alpha, acc, beta * c) on FMA ISAs;
//            beta == 0 means c is write-only (a NaN in C does not propagate).
// acc[i][j] is accumulated over p = 0, 1, ..., k-1 in that order, one FMA per step, starting
// from zero: every element of C sees the same operation sequence whatever its position in the
// tile, whether A/B were packed or read in place, and whichever thread runs the tile. That is
// what makes the operator's results independent of its partition and thread count.
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstdint>
#include <string>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace gemm_kernels {

template <class T>
using UkernelFn = void (*)(int64_t k, const T* a, int64_t rs_a, int64_t cs_a, const T* b,
                           int64_t rs_b, T* c, int64_t rs_c, int64_t mr, int64_t nr, T alpha,
                           T beta);

// The microkernel on gathered A rows: row i of the A panel is a_rows[i][0..k) (contiguous;
// rows anywhere), otherwise the contract above (b, rs_b, c, rs_c, mr, nr, alpha, beta) and the
// same per-element operation sequence, so a C element gets the bits fn gives it on the same A
// row and B. All MR row pointers must be readable for k elements. The implicit-GEMM
// convolution runs its tiles over the valid output pixels only, across the ends of output rows
// (whose A rows are not evenly spaced): AVX2's 6-row tiles divide neither 28 nor the 29- and
// 30-pixel wide rows of a stride-2 or dilation-2 layer at 56^2 (3.5-7% of its flops wasted).
template <class T>
using UkernelRowsFn = void (*)(int64_t k, const T* const* a_rows, const T* b, int64_t rs_b, T* c,
                               int64_t rs_c, int64_t mr, int64_t nr, T alpha, T beta);

// A microkernel and the cache blocking tuned for it.
template <class T>
struct Ukernel {
  UkernelFn<T> fn;
  int mr, nr;  // register tile
  int kc;      // largest K block; the operator's K split depends on k and this only, so it
               // fixes the reduction order of every element (see the operator)
  int mc;      // rows of A per packed block (kept in L2 with the B panel in L1)
  int nc;      // columns of B per packed block (in L3)
  // Edge variants with the same contract and per-element arithmetic (so the same bits):
  // MR x NR/2 for a last panel of at most NR/2 columns (reads only those columns of B), and
  // fn_heights[r], r x NR for r = 1..MR-1 (index 0 unused), for a last panel of r rows (reads
  // only those rows of A). Null: use fn. Exact heights rather than one half-height kernel:
  // f64 64^3 on one thread spent a full 14-row panel's FMAs on its 8-row edge, and 57^3 a
  // 7-row one on its single row (docs/gemm.md, "edge19").
  UkernelFn<T> fn_narrow = nullptr;
  const UkernelFn<T>* fn_heights = nullptr;
  // Largest span of a row-major B K block (kc rows of ldb elements, in bytes) that the operator
  // reads in place rather than packs (0: only narrow rows, see src/ops/gemm.cc). On the Xeon
  // (AVX-512, 48 KB L1, 2 MB L2) B of up to ~128 KB read in place ran 10-18% faster than packed
  // (96^3-160^3 f32, 64^3-128^3 f64): packing wrote a second copy that pushed the first out of L1.
  // Twice this span is read in place where at most 16 A panels reuse B (m <= 16 MR).
  int64_t inplace_b_bytes = 0;
  // Depth of the packed A and B panels where C does not stay in L2 (0: one K block).
  // Consecutive K blocks are packed together up to this depth and each C tile takes their
  // updates back to back, the later ones from L1: C comes from memory once per group instead
  // of once per K block. The K blocks themselves (kc), hence the bits, are unchanged. On the
  // Xeon, 3000^3 on one thread ran 5% (f32, 768) and 21% (f64, 512 with KC 128) faster; f64 has
  // groups of two 384-deep blocks since docs/gemm.md "gemm14".
  int kc_pack = 0;
  // One core's rate on this kernel for mid and large products, in flops per ns: the thread cost
  // model gives each thread at least kMinChunkNs of work (npfast/threads.hpp).
  double flops_per_ns = 100.0;
  // fn on gathered A rows (UkernelRowsFn); null where an ISA has none (its users then keep
  // evenly spaced rows).
  UkernelRowsFn<T> fn_rows = nullptr;

  // The kernel for a tile of `rows` rows (1 <= rows <= mr): exactly that height where the
  // table has edge kernels, else fn (which computes all mr rows and stores `rows`).
  UkernelFn<T> for_rows(int64_t rows) const {
    return rows < mr && fn_heights ? fn_heights[rows] : fn;
  }
};

// Matrix x vector kernels (npfast.matmul where one operand is a single row or column; the
// operator is src/ops/gemv.cc). Memory-bound: each element of the matrix is read once.
//
// `<dtype>_gemv_dot__<isa>(m, k, a, lda, x, y, incy)`: rows dotted with a vector,
//   y[i * incy] = sum_p a[i * lda + p] * x[p] for i < m (a row-major m x k, any lda sign; x
//   contiguous, k >= 1). Each row's sum is vectorised along k (lane l takes p = l mod lanes, in
//   p order, two vectors of lanes), then the lanes are added in a fixed tree: the operations on
//   a row do not depend on m, on the row's position or on its neighbours, so any split of the
//   rows gives the same bits. (They differ from the GEMM microkernel's k-ordered sum.)
template <class T>
using GemvDotFn = void (*)(int64_t m, int64_t k, const T* a, int64_t lda, const T* x, T* y,
                           int64_t incy);
// `<dtype>_gemv_axpy__<isa>(k, n, a, lda, x, incx, y, accumulate)`: scaled rows accumulated,
//   y[j] = (accumulate ? y[j] : 0) + sum_p x[p * incx] * a[p * lda + j] for j < n (y
//   contiguous), in order p = 0..k-1, one FMA (scalar ISA: multiply, add) per step. Per element
//   the sequence is the same whatever n and the element's position, and splitting k into
//   consecutive calls (accumulate after the first) is exact, so the operator may block rows and
//   columns freely without changing a bit. k >= 1.
template <class T>
using GemvAxpyFn = void (*)(int64_t k, int64_t n, const T* a, int64_t lda, const T* x, int64_t incx,
                            T* y, bool accumulate);

template <class T>
struct Gemv {
  GemvDotFn<T> dot = nullptr;
  GemvAxpyFn<T> axpy = nullptr;
};

// The family's table: one microkernel per dtype, whose tile and blocking differ per ISA, so
// each ISA's table is written out (reference.cc, x86_*.cc) rather than expanded from kernel
// lines. One constant per ISA, table_<isa> (src/core/kernels.inc); kernels<Table>() looks it
// up; config() names a microkernel `<dtype>_gemm_<mr>x<nr>__<isa>`.
struct Table {
  Ukernel<float> f32;
  Ukernel<double> f64;
  // Null (a test-only table): matmul keeps the GEMM path for matrix x vector.
  Gemv<float> f32_gemv = {};
  Gemv<double> f64_gemv = {};
};

// A microkernel's name without the ISA, from its tile: "f32_gemm_14x32" (docs/naming.md).
template <class T>
std::string base_name(const Ukernel<T>& uk) {
  return std::string(sizeof(T) == 4 ? "f32" : "f64") + "_gemm_" + std::to_string(uk.mr) + "x" +
         std::to_string(uk.nr);
}

// Tests only: AVX-512's tile shapes and blocking on AVX2 vectors (x86_avx2.cc).
extern const Table table_avx512_geometry_on_avx2;

// The oracle: C = alpha * op(A) op(B) + beta * C, row-major (see npfast/gemm.hpp), accumulated
// in double. alpha == 0 or k == 0 leaves A and B unread (C = beta * C), as BLAS.
template <class T>
void gemm_reference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                    const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace gemm_kernels
}  // namespace npfast
