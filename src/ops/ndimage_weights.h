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

}  // namespace ndimage
}  // namespace npfast
