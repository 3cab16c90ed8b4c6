// Scalar probes (what the scalar path can reach).
#include "src/kernels/limits/limits.h"

#include <cmath>

namespace npfast {
namespace limits {
namespace {

template <class T>
int64_t fma_loop(int64_t iters, double* sink) {
  T a[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  const T m = T(0.999999), c = T(1e-7);
  for (int64_t i = 0; i < iters; ++i)
    for (int j = 0; j < 8; ++j) a[j] = std::fma(a[j], m, c);
  double s = 0;
  for (T v : a) s += v;
  *sink = s;
  return iters * 8 * 2;
}

double read(const double* x, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i];
    s1 += x[i + 1];
    s2 += x[i + 2];
    s3 += x[i + 3];
  }
  for (; i < n; ++i) s0 += x[i];
  return s0 + s1 + s2 + s3;
}

void write(double* y, int64_t n, double v) {
  for (int64_t i = 0; i < n; ++i) y[i] = v;
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/limits/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace limits
}  // namespace npfast
