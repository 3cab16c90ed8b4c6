// Views over caller memory with any byte strides: the tests' one way to describe an image or an
// N-D array (negative, gapped and transposed strides included) without copying it.
#pragma once

#include <cstdint>
#include <vector>

#include "npfast/view.hpp"

namespace npfast {

inline View view2d(void* data, DType t, int64_t h, int64_t w, int64_t rs, int64_t cs) {
  View v;
  v.data = data;
  v.dtype = t;
  v.ndim = 2;
  v.shape[0] = h;
  v.shape[1] = w;
  v.strides[0] = rs;
  v.strides[1] = cs;
  return v;
}

inline View make_view(void* data, DType t, std::vector<int64_t> shape,
                      std::vector<int64_t> strides) {
  View v;
  v.data = data;
  v.dtype = t;
  v.ndim = static_cast<int>(shape.size());
  for (int i = 0; i < v.ndim; ++i) {
    v.shape[i] = shape[i];
    v.strides[i] = strides[i];
  }
  return v;
}

}  // namespace npfast
