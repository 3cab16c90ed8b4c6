// A 2-D View over caller memory with any byte strides: the tests' one way to describe an image
// (negative and transposed strides included) without copying it.
#pragma once

#include <cstdint>

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

}  // namespace npfast
