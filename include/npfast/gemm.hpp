// General matrix multiply on npfast's own kernels (the engine under matmul and conv2d).
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {

// C = alpha * op(A) * op(B) + beta * C, all matrices row-major (the BLAS row-major convention):
//   op(A) is m x k: A stored m x k with row stride lda, or (trans_a) stored k x m.
//   op(B) is k x n: B stored k x n with row stride ldb, or (trans_b) stored n x k.
//   C is m x n with row stride ldc. beta == 0 means C is write-only (NaN in C is ignored).
// Threaded with the pool; results are bitwise identical for any thread count. Safe to call
// from inside a parallel_for (then it runs on the calling thread). No argument checks beyond
// debug asserts: operators validate shapes first.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);


}  // namespace npfast
