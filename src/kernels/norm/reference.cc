// The scalar oracle of the normalisation family (the `scalar` ISA's kernels): sums in double
// in index order; element-wise passes with the fused operations norm.h specifies.
#include <cmath>
#include <cstdint>

#include "src/kernels/norm/norm.h"

namespace npfast {
namespace norm {
namespace {

template <class T>
T relu_of(T v) {
  return v < T(0) ? T(0) : v;
}

template <class T>
bool passes(const T* y, int64_t i) {
  return !y || !(y[i] <= T(0));  // NaN passes, as torch's threshold_backward
}

template <class T>
void stats_ref(const T* x, int64_t n, double shift, double* sum) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - shift;
    s += d;
    q += d * d;
  }
  sum[0] = s;
  sum[1] = q;
}

template <class T>
void stats_rows_ref(const T* x, int64_t rows, int64_t c, const double* shift, double* sum) {
  for (int64_t j = 0; j < 2 * c; ++j) sum[j] = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const double d = static_cast<double>(x[r * c + j]) - shift[j];
      sum[j] += d;
      sum[c + j] += d * d;
    }
}

template <class T>
void grad_sums_ref(const T* dy, const T* x, const T* y, int64_t n, double mean, double* sum) {
  double s = 0, q = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double g = passes(y, i) ? static_cast<double>(dy[i]) : 0.0;  // 0 * inf is NaN
    s += g;
    q += g * (static_cast<double>(x[i]) - mean);
  }
  sum[0] = s;
  sum[1] = q;
}

template <class T>
void grad_sums_rows_ref(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                        const double* mean, double* sum) {
  for (int64_t j = 0; j < 2 * c; ++j) sum[j] = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t i = r * c + j;
      const double g = passes(y, i) ? static_cast<double>(dy[i]) : 0.0;
      sum[j] += g;
      sum[c + j] += g * (static_cast<double>(x[i]) - mean[j]);
    }
}

template <class T>
void apply_ref(const T* x, int64_t n, const Affine<T>& p, bool relu, T* y) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = std::fma(x[i] - p.mean, p.scale, p.shift);
    y[i] = relu ? relu_of(v) : v;
  }
}

template <class T>
void apply_rows_ref(const T* x, int64_t rows, int64_t c, const AffineRows<T>& p, bool relu, T* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t i = r * c + j;
      const T v = std::fma(x[i] - p.mean[j], p.scale[j], p.shift[j]);
      y[i] = relu ? relu_of(v) : v;
    }
}

template <class T>
void grad_apply_ref(const T* dy, const T* x, const T* y, int64_t n, const GradAffine<T>& p, T* dx) {
  for (int64_t i = 0; i < n; ++i) {
    const T g = passes(y, i) ? dy[i] : T(0);
    dx[i] = x ? std::fma(p.a, g, std::fma(p.k, x[i] - p.mean, p.b)) : p.a * g;
  }
}

template <class T>
void grad_apply_rows_ref(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                         const GradAffineRows<T>& p, T* dx) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) {
      const int64_t i = r * c + j;
      const T g = passes(y, i) ? dy[i] : T(0);
      dx[i] = x ? std::fma(p.a[j], g, std::fma(p.k[j], x[i] - p.mean[j], p.b[j])) : p.a[j] * g;
    }
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/norm/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace norm
}  // namespace npfast
