// GEMM operator. First version: rows of C split across threads, each computed by the reference
// kernel. To be replaced by packing + per-ISA microkernels.
#include <algorithm>
#include <string>

#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/gemm/gemm.h"

namespace npfast {
namespace {

template <class T>
void gemm_impl(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
               const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const double cost = 2.0 * static_cast<double>(n) * static_cast<double>(k);
  parallel_for(m, grain_for(m, cost), [&](int64_t r0, int64_t r1) {
    const T* ar = ta ? a + r0 : a + r0 * lda;
    gemm_kernels::gemm_reference<T>(ta, tb, r1 - r0, n, k, alpha, ar, lda, b, ldb, beta,
                                    c + r0 * ldc, ldc);
  });
}

}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace npfast
