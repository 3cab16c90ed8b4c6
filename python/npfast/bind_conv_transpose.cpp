// npfast.conv_transpose2d and npfast.conv_transpose2d_backward.
#include <string>

#include "npfast/conv.hpp"
#include "npfast/error.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

struct TransposeArgs {
  Conv2dParams p;
  int64_t oph = 0, opw = 0;
};

// stride, padding, output_padding, dilation: ints or pairs (no padding strings, as PyTorch's
// conv_transpose2d); groups an int; layout "NCHW" or "NHWC".
TransposeArgs parse(nb::handle stride, nb::handle padding, nb::handle output_padding,
                    nb::handle groups, nb::handle dilation, nb::handle layout) {
  TransposeArgs a;
  a.p.layout = channels_last_arg(layout) ? Layout::nhwc : Layout::nchw;
  int64_t v[2];
  required_pair(stride, "stride", v);
  a.p.stride_h = v[0], a.p.stride_w = v[1];
  required_pair(padding, "padding", v);
  a.p.pad_top = a.p.pad_bottom = v[0];
  a.p.pad_left = a.p.pad_right = v[1];
  required_pair(output_padding, "output_padding", v);
  a.oph = v[0], a.opw = v[1];
  required_pair(dilation, "dilation", v);
  a.p.dilation_h = v[0], a.p.dilation_w = v[1];
  a.p.groups = int_arg(groups, "groups");
  return a;
}

nb::object forward_py(nb::handle input, nb::handle weight, nb::handle bias, nb::handle stride,
                      nb::handle padding, nb::handle output_padding, nb::handle groups,
                      nb::handle dilation, nb::handle out, nb::handle layout) {
  Array x = as_array(input, "input", kFloatsOnly);
  Array w = as_array(weight, "weight", kFloatsOnly);
  Array b;
  const View* bv = optional_array(bias, "bias", kFloatsOnly, &b);
  check_image_ndim(x.view, "input", "C_in", channels_last_arg(layout));
  const TransposeArgs a = parse(stride, padding, output_padding, groups, dilation, layout);
  const bool unbatched = x.view.ndim == 3;
  const View xv = batched(x.view);
  const Shape s = conv_transpose2d_shape(xv, w.view, bv, a.p, a.oph, a.opw);
  View y;
  nb::object result =
      out_or_new(out, xv.dtype, unbatched ? 3 : 4, s.dims + (unbatched ? 1 : 0), &y);
  check_no_overlap(y, {&x.view, &w.view, bv});
  const View yv = batched(y);
  {
    ReleaseGil release;
    conv_transpose2d(xv, w.view, bv, a.p, a.oph, a.opw, yv);
  }
  return result;
}

nb::object backward_py(nb::handle grad_output, nb::handle input, nb::handle weight,
                       nb::handle stride, nb::handle padding, nb::handle output_padding,
                       nb::handle groups, nb::handle dilation, nb::handle output_mask,
                       nb::handle layout) {
  Array gy = as_array(grad_output, "grad_output", kFloatsOnly);
  Array x = as_array(input, "input", kFloatsOnly);
  Array w = as_array(weight, "weight", kFloatsOnly);
  check_image_ndim(x.view, "input", "C_in", channels_last_arg(layout));
  bool mask[3];
  mask3_arg(output_mask, "output_mask", mask);
  const TransposeArgs a = parse(stride, padding, output_padding, groups, dilation, layout);
  if (gy.view.ndim != x.view.ndim)
    throw ValueError("grad_output: expected a " + std::to_string(x.view.ndim) +
                     "-d array like input, got shape " + shape_str(gy.view));
  const View xv = batched(x.view), gv = batched(gy.view);
  const Shape s = conv_transpose2d_shape(xv, w.view, nullptr, a.p, a.oph, a.opw);
  nb::object gx_o = nb::none(), gw_o = nb::none(), gb_o = nb::none();
  View gx, gw, gb;
  if (mask[0]) gx_o = new_array(xv.dtype, x.view.ndim, x.view.shape, &gx);
  if (mask[1]) gw_o = new_array(xv.dtype, 4, w.view.shape, &gw);
  const int64_t cout = s[a.p.layout == Layout::nhwc ? 3 : 1];
  if (mask[2]) gb_o = new_array(xv.dtype, 1, &cout, &gb);
  const View gx4 = batched(gx);
  {
    ReleaseGil release;
    conv_transpose2d_backward(gv, xv, w.view, a.p, a.oph, a.opw, mask[0] ? &gx4 : nullptr,
                              mask[1] ? &gw : nullptr, mask[2] ? &gb : nullptr);
  }
  return nb::make_tuple(gx_o, gw_o, gb_o);
}

}  // namespace

NPFAST_BIND(conv_transpose) {
  m.def(
      "conv_transpose2d", runtime_anchored<&forward_py>,
      nb::sig("def conv_transpose2d(input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, "
              "bias: numpy.typing.ArrayLike | None = None, stride: int | tuple[int, ...] = 1, "
              "padding: int | tuple[int, ...] = 0, output_padding: int | tuple[int, ...] = 0, "
              "groups: int = 1, dilation: int | tuple[int, ...] = 1, *, "
              "out: numpy.ndarray | None = None, layout: str = 'NCHW') -> numpy.ndarray"),
      nb::arg("input").none(), nb::arg("weight").none(), nb::arg("bias").none() = nb::none(),
      nb::arg("stride").none() = 1, nb::arg("padding").none() = 0,
      nb::arg("output_padding").none() = 0, nb::arg("groups").none() = 1,
      nb::arg("dilation").none() = 1, nb::kw_only(), nb::arg("out").none() = nb::none(),
      nb::arg("layout").none() = "NCHW",
      R"doc(2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

The adjoint of :func:`conv2d`: each input pixel scatters ``weight[c]`` (dilated) into the output
at ``stride`` steps, then ``padding`` rows/columns are cut from each side.

Parameters
----------
input : array_like, float32 or float64
    ``(N, C_in, H, W)``, or ``(C_in, H, W)`` (unbatched: the result is 3-d). Any strides.
weight : array_like, same dtype
    ``(C_in, C_out / groups, kH, kW)`` (PyTorch's layout).
bias : array_like, same dtype, optional
    ``(C_out,)``.
stride, padding, output_padding, dilation : int, (int,) or (int, int)
    stride and dilation >= 1, padding >= 0; output_padding >= 0 and smaller than the stride or
    the dilation, adds rows/columns at the bottom/right.
groups : int
    Divides C_in.
out : ndarray, optional
    Exactly the result's shape and dtype, not overlapping the inputs; never converted.
layout : 'NCHW' or 'NHWC' (keyword only)
    Axis order of input and result: 'NHWC' takes ``(N, H, W, C_in)`` (or ``(H, W, C_in)``) and
    returns ``(N, OH, OW, C_out)``, as torch with ``memory_format=torch.channels_last``,
    computed natively on that layout; the weight stays ``(C_in, C_out / groups, kH, kW)``.

Returns
-------
ndarray ``(N, C_out, OH, OW)`` (``(N, OH, OW, C_out)`` for NHWC) with
``OH = (H-1)*sH - 2*pH + dH*(kH-1) + opH + 1`` (likewise OW). Each of the stride's output
phases is a stride-1 correlation with its part of the kernel, computed on one channels-last
copy of the input (few-channel NCHW layers and stride-1 NCHW ones: conv2d's paths); bitwise
identical for any thread count. Those correlations multiply every tap, the padding's zeros
included, so a weight with an inf or NaN takes conv2d's input gradient (GEMM + col2im, which
multiplies input pixels only), as PyTorch's scatter: the same inf / NaN pattern in both layouts
(docs/conv.md "probe20b").

Raises
------
TypeError  for non-float or mixed dtypes, or non-int stride/padding/output_padding/dilation/groups.
ValueError for an unknown layout, wrong ndim, weight.shape[0] != C_in, groups not dividing
           C_in, stride or dilation < 1, negative padding, output_padding too large, a negative
           output size (a size of 0 gives an empty result, as PyTorch's batched float32 path;
           docs/conv.md "probe12"), an empty input height or width (an empty batch or channels
           pass: C_in = 0 gives the bias broadcast, zeros without one, and C_out = 0 an empty
           result, where PyTorch raises), a wrong bias shape, or a bad ``out``. Nothing is
           written on error.
)doc");
  m.def("conv_transpose2d_backward", runtime_anchored<&backward_py>,
        nb::sig("def conv_transpose2d_backward(grad_output: numpy.typing.ArrayLike, "
                "input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, "
                "stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0, "
                "output_padding: int | tuple[int, ...] = 0, groups: int = 1, "
                "dilation: int | tuple[int, ...] = 1, "
                "output_mask: tuple[bool, bool, bool] = (True, True, True), *, "
                "layout: str = 'NCHW') -> "
                "tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]"),
        nb::arg("grad_output").none(), nb::arg("input").none(), nb::arg("weight").none(),
        nb::arg("stride").none() = 1, nb::arg("padding").none() = 0,
        nb::arg("output_padding").none() = 0, nb::arg("groups").none() = 1,
        nb::arg("dilation").none() = 1,
        nb::arg("output_mask").none() = nb::make_tuple(true, true, true), nb::kw_only(),
        nb::arg("layout").none() = "NCHW",
        R"doc(Gradients of :func:`conv_transpose2d`, as PyTorch's autograd.

Parameters
----------
grad_output : array_like
    ``(N, C_out, OH, OW)`` (``(N, OH, OW, C_out)`` for NHWC; 3-d for unbatched input), the
    input's dtype.
input, weight, stride, padding, output_padding, groups, dilation, layout
    As given to :func:`conv_transpose2d`.
output_mask : 3 bools
    Which of (grad_input, grad_weight, grad_bias) to compute: each a bool (or NumPy bool;
    a bool array of 3 too), as torch's bool[3].

Returns
-------
(grad_input, grad_weight, grad_bias) shaped like input, weight and ``(C_out,)``; ``None`` where
masked. grad_input is :func:`conv2d` of grad_output with the same weight (in the same layout),
grad_weight the output phases' products of the channels-last input copy with grad_output; the
reductions have a fixed order, so results are bitwise identical for any thread count.

Raises
------
TypeError, ValueError as :func:`conv_transpose2d` (an unknown layout included), and ValueError
for a grad_output of the wrong shape or an ``output_mask`` that is not 3 bools.
)doc");
}

}  // namespace py
}  // namespace npfast
