// Fuzzes conv2d forward and backward: shapes (N, C, H, W and the weight), stride, padding,
// dilation and groups from tiny to huge, bias on/off, strided views.
#include <cstdint>

#include "fuzz/input.h"
#include "npfast/conv.hpp"
#include "npfast/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npfast;
  fuzz::Input in(data, size);
  const DType t = in.range(0, 1) ? DType::f32 : DType::f64;
  const int ndim = static_cast<int>(in.range(3, 4));
  int64_t xs[4], ws[4] = {in.range(0, 5), in.range(0, 5), in.range(0, 4), in.range(0, 4)};
  for (int i = 0; i < ndim; ++i) xs[i] = in.range(0, i < ndim - 2 ? 4 : 9);
  fuzz::Array x, w, b;
  if (!fuzz::make_array(in, t, ndim, xs, &x) || !fuzz::make_array(in, t, 4, ws, &w)) return 0;
  const int64_t bs[1] = {in.range(0, 6)};
  const bool with_bias = in.range(0, 1);
  if (with_bias && !fuzz::make_array(in, t, 1, bs, &b)) return 0;
  Conv2dParams p;
  p.stride_h = in.range(0, 9) == 0 ? in.size_like() : in.range(1, 3);
  p.stride_w = in.range(0, 9) == 0 ? in.size_like() : in.range(1, 3);
  p.pad_top = p.pad_bottom = in.range(0, 9) == 0 ? in.size_like() : in.range(0, 2);
  p.pad_left = p.pad_right = in.range(0, 9) == 0 ? in.size_like() : in.range(0, 2);
  p.dilation_h = in.range(0, 9) == 0 ? in.size_like() : in.range(1, 2);
  p.dilation_w = in.range(0, 9) == 0 ? in.size_like() : in.range(1, 2);
  p.groups = in.range(0, 9) == 0 ? in.size_like() : in.range(1, 3);
  try {
    int64_t oh, ow;
    conv2d_check(x.view, w.view, with_bias ? &b.view : nullptr, p, &oh, &ow);
    int64_t os[4];
    const int lead = ndim - 3;
    if (lead) os[0] = xs[0];
    os[lead] = ws[0];
    os[lead + 1] = oh;
    os[lead + 2] = ow;
    if (oh > 64 || ow > 64) return 0;
    fuzz::Array y;
    if (!fuzz::make_array(in, t, ndim, os, &y)) return 0;
    conv2d(x.view, w.view, with_bias ? &b.view : nullptr, p, y.view,
           in.range(0, 1) ? Activation::relu : Activation::none);
    if (in.range(0, 1)) {
      fuzz::Array gx, gw, gb;
      if (!fuzz::make_array(in, t, ndim, xs, &gx) || !fuzz::make_array(in, t, 4, ws, &gw) ||
          !fuzz::make_array(in, t, 1, ws, &gb))
        return 0;
      conv2d_backward(y.view, x.view, w.view, p, &gx.view, in.range(0, 1) ? &gw.view : nullptr,
                      in.range(0, 1) ? &gb.view : nullptr);
    }
  } catch (const Error&) {
  }
  return 0;
}
