// What the correlation kernels need to know of a weight vector, shared by the linear filter
// operators (ndimage_filters.cc, ndimage_volume.cc).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

namespace npfast {
namespace ndimage {

// NI_Correlate1D's test: +1 symmetric, -1 antisymmetric (odd sizes, within DBL_EPSILON).
inline int symmetry(const double* w, int64_t size) {
  if (!(size & 1)) return 0;
  const int64_t c = size / 2;
  bool sym = true, anti = true;
  for (int64_t i = 1; i <= c; ++i) {
    sym = sym && !(std::fabs(w[c + i] - w[c - i]) > DBL_EPSILON);
    anti = anti && !(std::fabs(w[c + i] + w[c - i]) > DBL_EPSILON);
  }
  return sym ? 1 : anti ? -1 : 0;
}

// Whether float32 holds every weight to its own relative precision: each zero, or normal
// (FLT_MIN <= |w| <= FLT_MAX). A float32 image with a float32 output runs in float32 only then;
// otherwise in double, rounded once at the store (probe18a: a weight of 1e39 became inf and gave
// NaN / inf where SciPy's doubles give 1e9; subnormal weights near 3e-41 lost 1.3e-5 relative).
inline bool f32_weights(const double* w, int64_t size) {
  for (int64_t i = 0; i < size; ++i) {
    const double a = std::fabs(w[i]);
    if (!(a == 0 || (a >= FLT_MIN && a <= FLT_MAX))) return false;  // NaN too: double's bits
  }
  return true;
}

}  // namespace ndimage
}  // namespace npfast
