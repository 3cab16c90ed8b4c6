// Fuzzes the pooling operators: shapes, kernel/stride/padding/dilation values from tiny to
// 2^62, ceil_mode, and user-supplied indices for backward and unpool.
#include <cstdint>

#include "fuzz/input.h"
#include "npfast/error.hpp"
#include "npfast/pool.hpp"

namespace {

using namespace npfast;

bool make_out(fuzz::Input& in, DType t, const Shape& s, fuzz::Array* out) {
  int64_t n = 1;
  for (int i = 0; i < s.ndim; ++i) {
    if (s.dims[i] < 0 || s.dims[i] > 4096) return false;
    n *= s.dims[i];
  }
  if (n > (1 << 16)) return false;
  return fuzz::make_array(in, t, s.ndim, s.dims, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const DType t = in.range(0, 1) ? DType::f32 : DType::f64;
  const int ndim = static_cast<int>(in.range(2, 4));
  int64_t shape[4];
  for (int i = 0; i < ndim; ++i) shape[i] = in.range(0, 9);
  fuzz::Array x;
  if (!fuzz::make_array(in, t, ndim, shape, &x)) return 0;
  Pool2dArgs a;
  for (int i = 0; i < 2; ++i) {
    a.kernel[i] = in.size_like();
    a.stride[i] = in.size_like();
    a.padding[i] = in.size_like() - 1;
    a.dilation[i] = in.range(0, 7) == 0 ? in.size_like() : 1;
  }
  a.ceil_mode = in.range(0, 1);
  try {
    switch (in.range(0, 4)) {
      case 0: {
        const Shape s = max_pool2d_shape(x.view, a);
        fuzz::Array out, idx;
        if (!make_out(in, t, s, &out) || !make_out(in, DType::i64, s, &idx)) return 0;
        max_pool2d(x.view, a, out.view, in.range(0, 1) ? &idx.view : nullptr);
        break;
      }
      case 1: {
        const Shape s = avg_pool2d_shape(x.view, a);
        fuzz::Array out;
        if (!make_out(in, t, s, &out)) return 0;
        avg_pool2d(x.view, a, in.range(0, 1), in.range(-1, 5), out.view);
        break;
      }
      case 2: {  // backward with arbitrary (possibly out-of-range) indices
        fuzz::Array g, idx, gi;
        Shape s;
        s.ndim = ndim;
        for (int i = 0; i < ndim; ++i) s.dims[i] = shape[i];
        if (!make_out(in, t, s, &g) || !make_out(in, DType::i64, s, &idx)) return 0;
        Shape si = s;
        si.dims[ndim - 1] = in.range(0, 9);
        si.dims[ndim - 2] = in.range(0, 9);
        if (!make_out(in, t, si, &gi)) return 0;
        max_pool2d_backward(g.view, idx.view, gi.view);
        break;
      }
      case 3: {
        fuzz::Array idx;
        if (!fuzz::make_array(in, DType::i64, ndim, shape, &idx)) return 0;
        const int64_t size[2] = {in.size_like(), in.size_like()};
        const Shape s = max_unpool2d_shape(x.view, idx.view, a, in.range(0, 1) ? size : nullptr);
        fuzz::Array out;
        if (!make_out(in, t, s, &out)) return 0;
        max_unpool2d(x.view, idx.view, out.view);
        break;
      }
      default: {
        const Shape s = adaptive_avg_pool2d_shape(x.view, in.size_like(), in.size_like());
        fuzz::Array out;
        if (!make_out(in, t, s, &out)) return 0;
        adaptive_avg_pool2d(x.view, out.view);
        break;
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
