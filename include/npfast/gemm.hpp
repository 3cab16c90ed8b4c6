// General matrix multiply on npfast's own kernels (the engine under matmul and conv2d).
//
// Design and measured speed: docs/gemm.md.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {

// C = alpha * op(A) * op(B) + beta * C, all matrices row-major (the BLAS row-major convention):
//   op(A) is m x k: A stored m x k with row stride lda, or (trans_a) stored k x m.
//   op(B) is k x n: B stored k x n with row stride ldb, or (trans_b) stored n x k.
//   C is m x n with row stride ldc. beta == 0 means C is write-only (NaN in C is ignored).
//   k == 0 or alpha == 0 gives C = beta * C without reading A or B (as BLAS).
// Strides are in elements, the column stride is 1; any row stride works (also smaller than the
// row length, 0, or negative) as long as every addressed element is readable; C must not
// overlap A or B. m, n or k == 0 is fine.
// How it runs: operands are packed into cache-sized panels (workspaces from npfast's pool,
// kept per thread) and multiplied by register-blocked microkernels (AVX-512 14x32 / 14x16,
// AVX2 6x16 / 6x8, scalar 4x4; the widest the CPU has, capped by NPFAST_ISA); small products
// skip packing and run on the caller with ~microsecond overhead.
// Threaded with the pool by a cost model; results are bitwise identical for any thread count
// (each element is reduced over K in a fixed order that depends on k and the ISA only). Safe to
// call from inside a parallel_for (then it runs on the calling thread). No argument checks
// beyond debug asserts: operators validate shapes first.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

// Strided batch: for i in [0, batch),
//   C_i = alpha * op(A_i) * op(B_i) + beta * C_i,  A_i = a + i * stride_a, B_i = b + i * stride_b,
//   C_i = c + i * stride_c   (element strides; stride_a or stride_b 0 reuses one operand).
// Equals `batch` gemm calls bit for bit. When each product is too small to thread on its own
// the batch is split across threads instead. The C_i must not overlap each other.
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                  float alpha, const float* a, int64_t lda, int64_t stride_a, const float* b,
                  int64_t ldb, int64_t stride_b, float beta, float* c, int64_t ldc,
                  int64_t stride_c);
void gemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                  double alpha, const double* a, int64_t lda, int64_t stride_a, const double* b,
                  int64_t ldb, int64_t stride_b, double beta, double* c, int64_t ldc,
                  int64_t stride_c);

// np.matmul for float32 / float64 views: a (k,), (m, k) or (batch, m, k); b (k,), (k, n) or
// (batch, k, n); a 2-D operand (or a batch of 1) is broadcast over the other's batch; 1-D
// operands are treated as NumPy does (a row / a column, removed from the result).
// matmul_shape validates dtypes (TypeError: not float32/float64, or a and b differ) and shapes
// (ValueError naming "a" or "b" and both shapes) and returns the result shape.
Shape matmul_shape(const View& a, const View& b);
// Computes out = a @ b. `out` must have the shape from matmul_shape and a's dtype (checked,
// ValueError/TypeError otherwise, nothing written) and must not overlap a or b. Any strides
// (operands that are not row- or column-contiguous are copied to a pool workspace first).
void matmul(const View& a, const View& b, const View& out);

// np.matmul with any number of batch dimensions: a (..., m, k) or (k,), b (..., k, n) or (k,);
// the batch dimensions broadcast as NumPy's (right-aligned, 1 stretches). Checks as
// matmul_shape (the messages give the full shapes) and returns the result shape. matmul_nd runs
// batches that one stride addresses as one strided matmul call (bitwise equal to it) and loops over
// the rest.
Shape matmul_nd_shape(const View& a, const View& b);
void matmul_nd(const View& a, const View& b, const View& out);

}  // namespace npfast
