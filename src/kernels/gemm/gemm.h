// GEMM kernel family. (First version: the reference only; the packed, register-blocked
// microkernels per ISA replace the operator's inner loops.)
#pragma once

#include <cstdint>

namespace npfast {
namespace gemm_kernels {

// C = alpha * op(A) op(B) + beta * C, row-major, accumulated in double (see npfast/gemm.hpp).
template <class T>
void gemm_reference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                    const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace gemm_kernels
}  // namespace npfast
