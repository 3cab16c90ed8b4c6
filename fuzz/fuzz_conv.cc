// Fuzzes conv2d forward and backward: shapes (N, C, H, W and the weight), stride, padding,
// dilation and groups from tiny to huge, bias on/off, strided views.
#include <cstdint>

#include "fuzz/input.h"
#include "npfast/conv.hpp"
#include "npfast/error.hpp"

namespace {

// Mostly small values; sometimes zero, negative or astronomically large (must be refused by
// the checked shape arithmetic). The middle range (2^12..2^40) is left out on purpose: there a
// valid call legitimately pads a plane of gigabytes, which is slow, not wrong.
int64_t param(npfast::fuzz::Input& in, int64_t lo, int64_t hi) {
  switch (in.range(0, 15)) {
    case 0:
      return -in.range(0, 3);
    case 1:
      return int64_t{1} << in.range(40, 62);
    default:
      return in.range(lo, hi);
  }
}

}  // namespace

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
  p.stride_h = param(in, 1, 3);
  p.stride_w = param(in, 1, 3);
  p.pad_top = p.pad_bottom = param(in, 0, 2);
  p.pad_left = p.pad_right = param(in, 0, 2);
  p.dilation_h = param(in, 1, 2);
  p.dilation_w = param(in, 1, 2);
  p.groups = param(in, 1, 3);
  try {
    const Shape s = conv2d_shape(x.view, w.view, with_bias ? &b.view : nullptr, p);
    const int64_t oh = s[2], ow = s[3];
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
