// Scalar GEMM: the oracle (accumulates in double) and the `scalar` ISA's microkernel.
#include <algorithm>
#include <cstdint>

#include "src/kernels/gemm/gemm.h"

namespace npfast {
namespace gemm_kernels {

template <class T>
void gemm_reference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
                    const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const bool use_ab = k > 0 && alpha != T(0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      if (use_ab) {
        for (int64_t p = 0; p < k; ++p) {
          const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
          const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
          acc += static_cast<double>(av) * static_cast<double>(bv);
        }
      }
      const double prev = beta == T(0) ? 0.0 : static_cast<double>(beta) * c[i * ldc + j];
      c[i * ldc + j] = static_cast<T>(static_cast<double>(alpha) * acc + prev);
    }
  }
}

template void gemm_reference<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                    int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_reference<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                     int64_t, const double*, int64_t, double, double*, int64_t);

namespace {

// The scalar microkernel (contract in gemm.h): a 4 x 4 tile in T, one multiply and one add
// per step (the baseline ISA has no FMA instruction).
constexpr int kMr = 4, kNr = 4;

// The tile with A(i, p) = a_at(i, p).
template <class T, class AAt>
void scalar_tile(int64_t k, AAt a_at, const T* b, int64_t rs_b, T* c, int64_t rs_c, int64_t mr,
                 int64_t nr, T alpha, T beta) {
  T acc[kMr][kNr] = {};
  for (int64_t p = 0; p < k; ++p) {
    for (int i = 0; i < kMr; ++i) {
      const T ai = a_at(i, p);
      for (int j = 0; j < kNr; ++j) acc[i][j] += ai * b[j];
    }
    b += rs_b;
  }
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) {
      T* cp = c + i * rs_c + j;
      *cp = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *cp;
    }
}

template <class T>
void ukernel_scalar(int64_t k, const T* a, int64_t rs_a, int64_t cs_a, const T* b, int64_t rs_b,
                    T* c, int64_t rs_c, int64_t mr, int64_t nr, T alpha, T beta) {
  scalar_tile(
      k, [&](int i, int64_t p) { return a[i * rs_a + p * cs_a]; }, b, rs_b, c, rs_c, mr, nr, alpha,
      beta);
}

// On gathered A rows (UkernelRowsFn): the same operations in the same order.
template <class T>
void ukernel_scalar_rows(int64_t k, const T* const* a_rows, const T* b, int64_t rs_b, T* c,
                         int64_t rs_c, int64_t mr, int64_t nr, T alpha, T beta) {
  scalar_tile(
      k, [&](int i, int64_t p) { return a_rows[i][p]; }, b, rs_b, c, rs_c, mr, nr, alpha, beta);
}

// gemv_dot (gemm.h) for the baseline ISA: each row summed in p order, multiply then add.
template <class T>
void gemv_dot_scalar(int64_t m, int64_t k, const T* a, int64_t lda, const T* x, T* y,
                     int64_t incy) {
  for (int64_t i = 0; i < m; ++i) {
    const T* row = a + i * lda;
    T s = T(0);
    for (int64_t p = 0; p < k; ++p) s += row[p] * x[p];
    y[i * incy] = s;
  }
}

// gemv_axpy (gemm.h) for the baseline ISA.
template <class T>
void gemv_axpy_scalar(int64_t k, int64_t n, const T* a, int64_t lda, const T* x, int64_t incx, T* y,
                      bool accumulate) {
  if (!accumulate) std::fill(y, y + n, T(0));
  for (int64_t p = 0; p < k; ++p) {
    const T xp = x[p * incx];
    const T* row = a + p * lda;
    for (int64_t j = 0; j < n; ++j) y[j] += xp * row[j];
  }
}

}  // namespace

const Table table_scalar = {
    {ukernel_scalar<float>, kMr, kNr, 256, 64, 1024, nullptr, nullptr, 0, 0, 4.0,
     ukernel_scalar_rows<float>},
    {ukernel_scalar<double>, kMr, kNr, 256, 64, 1024, nullptr, nullptr, 0, 0, 4.0,
     ukernel_scalar_rows<double>},
    {gemv_dot_scalar<float>, gemv_axpy_scalar<float>},
    {gemv_dot_scalar<double>, gemv_axpy_scalar<double>},
};

}  // namespace gemm_kernels
}  // namespace npfast
