// Row iteration shared by elementwise operators: an N-d array pair seen as rows along the last
// axis, so kernels always get a pointer, a stride and a count.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {
namespace ops {

// Byte offset of row `r` (a linear index over all axes but the last) in `v`.
inline int64_t row_offset(const View& v, int64_t r) {
  int64_t off = 0;
  for (int i = v.ndim - 2; i >= 0; --i) {
    const int64_t n = v.shape[i];
    off += (r % n) * v.strides[i];
    r /= n;
  }
  return off;
}

// A view with every axis merged that can be merged in both `a` and `b` (same shape): a
// C-contiguous pair becomes 1-d. Keeps ndim >= 1.
inline void merge_axes(View* a, View* b) {
  int out = 0;
  View ra = *a, rb = *b;
  for (int i = 0; i < a->ndim; ++i) {
    if (a->shape[i] == 1 && a->ndim > 1) continue;  // size-1 axes carry no stride information
    if (out > 0 && ra.strides[out - 1] == a->shape[i] * a->strides[i] &&
        rb.strides[out - 1] == b->shape[i] * b->strides[i]) {
      ra.shape[out - 1] *= a->shape[i];
      rb.shape[out - 1] *= b->shape[i];
      ra.strides[out - 1] = a->strides[i];
      rb.strides[out - 1] = b->strides[i];
      continue;
    }
    ra.shape[out] = a->shape[i];
    rb.shape[out] = b->shape[i];
    ra.strides[out] = a->strides[i];
    rb.strides[out] = b->strides[i];
    ++out;
  }
  if (out == 0) {  // every axis had size 1
    ra.shape[0] = rb.shape[0] = 1;
    ra.strides[0] = static_cast<int64_t>(itemsize(a->dtype));
    rb.strides[0] = static_cast<int64_t>(itemsize(b->dtype));
    out = 1;
  }
  ra.ndim = rb.ndim = out;
  *a = ra;
  *b = rb;
}

}  // namespace ops
}  // namespace npfast
