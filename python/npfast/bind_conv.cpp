// npfast.conv2d, npfast.conv2d_backward, and the private _conv2d_reference / _conv2d_algorithm.
#include <nanobind/stl/string.h>

#include <string>

#include "npfast/conv.hpp"
#include "npfast/error.hpp"
#include "python/npfast/bind.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace py {
namespace {

// stride, padding (int, pair, "valid", "same"), dilation, groups; kh/kw for "same".
Conv2dParams parse_params(nb::handle stride, nb::handle padding, nb::handle dilation,
                          nb::handle groups, int64_t kh, int64_t kw) {
  Conv2dParams p;
  int64_t v[2];
  required_pair(stride, "stride", v);
  p.stride_h = v[0], p.stride_w = v[1];
  required_pair(dilation, "dilation", v);
  p.dilation_h = v[0], p.dilation_w = v[1];
  p.groups = int_arg(groups, "groups");
  if (PyUnicode_Check(padding.ptr())) {
    const std::string s = nb::cast<std::string>(padding);
    if (s == "valid") return p;
    if (s != "same")
      throw ValueError("padding: expected an int, a pair, 'valid' or 'same', got " +
                       py_repr(padding));
    if (p.stride_h != 1 || p.stride_w != 1)
      throw ValueError("padding: 'same' is not supported for strided convolutions (stride = " +
                       py_repr(stride) + ")");
    if (p.dilation_h < 1 || p.dilation_w < 1)
      throw ValueError("dilation: must be >= 1, got " + py_repr(dilation));
    conv2d_same_padding(kh, kw, p.dilation_h, p.dilation_w, &p);
    return p;
  }
  required_pair(padding, "padding", v);
  p.pad_top = p.pad_bottom = v[0];
  p.pad_left = p.pad_right = v[1];
  return p;
}

Layout parse_layout(nb::handle layout) {
  return channels_last_arg(layout) ? Layout::nhwc : Layout::nchw;
}

int64_t kernel_dim(const View& w, int i) { return w.ndim == 4 ? w.shape[i] : 1; }

nb::object conv2d_py(nb::handle input, nb::handle weight, nb::handle bias, nb::handle stride,
                     nb::handle padding, nb::handle dilation, nb::handle groups, nb::handle out,
                     nb::handle activation, nb::handle layout, nb::handle residual) {
  Array x = as_array(input, "input", kFloatsOnly);
  Array w = as_array(weight, "weight", kFloatsOnly);
  Array b;
  const View* bv = optional_array(bias, "bias", kFloatsOnly, &b);
  Array r;
  const View* rv = optional_array(residual, "residual", kFloatsOnly, &r);
  check_image_ndim(x.view, "input", "C", channels_last_arg(layout));
  Activation act = Activation::none;
  if (!activation.is_none()) {
    if (!PyUnicode_Check(activation.ptr()) || nb::cast<std::string>(activation) != "relu")
      throw ValueError("activation: expected None or 'relu', got " + py_repr(activation));
    act = Activation::relu;
  }
  Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  p.layout = parse_layout(layout);
  const bool unbatched = x.view.ndim == 3;
  const View xv = batched(x.view);
  const Shape s = conv2d_shape(xv, w.view, bv, p);
  const int64_t shape4[4] = {s[0], s[1], s[2], s[3]};
  View y;
  nb::object result =
      out_or_new(out, xv.dtype, unbatched ? 3 : 4, unbatched ? shape4 + 1 : shape4, &y);
  check_no_overlap(y, {&x.view, &w.view, bv, rv});
  const View yv = batched(y);
  View rb;
  if (rv) {
    if (rv->ndim != x.view.ndim)
      throw ValueError("residual: expected a " + std::to_string(x.view.ndim) +
                       "-d array like input, got shape " + shape_str(*rv));
    rb = batched(*rv);
  }
  {
    ReleaseGil release;
    conv2d(xv, w.view, bv, p, yv, act, rv ? &rb : nullptr);
  }
  return result;
}

nb::object backward_py(nb::handle grad_output, nb::handle input, nb::handle weight,
                       nb::handle stride, nb::handle padding, nb::handle dilation,
                       nb::handle groups, nb::handle output_mask, nb::handle layout,
                       nb::handle residual) {
  Array gy = as_array(grad_output, "grad_output", kFloatsOnly);
  Array x = as_array(input, "input", kFloatsOnly);
  Array w = as_array(weight, "weight", kFloatsOnly);
  Array r;
  const View* rv = optional_array(residual, "residual", kFloatsOnly, &r);
  check_image_ndim(x.view, "input", "C", channels_last_arg(layout));
  bool mask[3];
  mask3_arg(output_mask, "output_mask", mask);
  Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  p.layout = parse_layout(layout);
  const bool unbatched = x.view.ndim == 3;
  if (gy.view.ndim != x.view.ndim)
    throw ValueError("grad_output: expected a " + std::to_string(x.view.ndim) +
                     "-d array like input, got shape " + shape_str(gy.view));
  const View xv = batched(x.view), gv = batched(gy.view);
  const Shape s = conv2d_shape(xv, w.view, nullptr, p);
  if (gv.dtype != xv.dtype)
    throw TypeError(std::string("grad_output: dtype ") + dtype_name(gv.dtype) +
                    " does not match input dtype " + dtype_name(xv.dtype));
  const int64_t gshape[4] = {s[0], s[1], s[2], s[3]};
  for (int i = 0; i < 4; ++i)
    if (gv.shape[i] != gshape[i]) {
      View want;
      want.ndim = unbatched ? 3 : 4;
      for (int j = 0; j < want.ndim; ++j) want.shape[j] = gshape[j + (unbatched ? 1 : 0)];
      throw ValueError("grad_output: expected shape " + shape_str(want) + ", got " +
                       shape_str(gy.view));
    }
  View rb;
  if (rv) {
    if (!mask[0])
      throw ValueError("residual: given, but output_mask[0] is False (no grad_input to add it to)");
    if (rv->ndim != x.view.ndim)
      throw ValueError("residual: expected the input's shape " + shape_str(x.view) + ", got " +
                       shape_str(*rv));
    rb = batched(*rv);
  }
  nb::object gx_o = nb::none(), gw_o = nb::none(), gb_o = nb::none();
  View gx, gw, gb;
  if (mask[0]) gx_o = new_array(xv.dtype, x.view.ndim, x.view.shape, &gx);
  if (mask[1]) gw_o = new_array(xv.dtype, 4, w.view.shape, &gw);
  if (mask[2]) gb_o = new_array(xv.dtype, 1, w.view.shape, &gb);
  const View gx4 = batched(gx);
  {
    ReleaseGil release;
    conv2d_backward(gv, xv, w.view, p, mask[0] ? &gx4 : nullptr, mask[1] ? &gw : nullptr,
                    mask[2] ? &gb : nullptr, rv ? &rb : nullptr);
  }
  return nb::make_tuple(gx_o, gw_o, gb_o);
}

nb::object reference_py(nb::handle input, nb::handle weight, nb::handle bias, nb::handle stride,
                        nb::handle padding, nb::handle dilation, nb::handle groups) {
  Array x = as_array(input, "input", kFloatsOnly);
  Array w = as_array(weight, "weight", kFloatsOnly);
  Array b;
  const View* bv = optional_array(bias, "bias", kFloatsOnly, &b);
  const Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  const Shape s = conv2d_shape(x.view, w.view, bv, p);
  const int64_t oh = s[2], ow = s[3];
  const int64_t shape[4] = {x.view.shape[0], w.view.shape[0], oh, ow};
  View y;
  nb::object result = new_array(x.view.dtype, 4, shape, &y);
  conv2d_reference(x.view, w.view, bv, p, y);
  return result;
}

std::string algorithm_py(nb::handle input, nb::handle weight, nb::handle stride, nb::handle padding,
                         nb::handle dilation, nb::handle groups, nb::handle layout) {
  Array x = as_array(input, "input", kFloatsOnly);
  Array w = as_array(weight, "weight", kFloatsOnly);
  check_image_ndim(x.view, "input", "C", channels_last_arg(layout));
  Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  p.layout = parse_layout(layout);
  return conv2d_algorithm(batched(x.view), w.view, p);
}

// The shape logic npfast.dask reuses: parsed parameters and the output shape.
nb::tuple params_py(nb::handle kernel_hw, nb::handle stride, nb::handle padding,
                    nb::handle dilation, nb::handle groups) {
  int64_t k[2];
  required_pair(kernel_hw, "kernel_size", k);
  const Conv2dParams p = parse_params(stride, padding, dilation, groups, k[0], k[1]);
  return nb::make_tuple(nb::make_tuple(p.stride_h, p.stride_w),
                        nb::make_tuple(p.pad_top, p.pad_bottom, p.pad_left, p.pad_right),
                        nb::make_tuple(p.dilation_h, p.dilation_w), p.groups);
}

nb::tuple output_shape_py(nb::handle input_shape, nb::handle weight_shape, nb::handle stride,
                          nb::handle padding, nb::handle dilation, nb::handle groups) {
  View x = shape_arg(input_shape, "input_shape", DType::f32, 3, 4);
  const View w = shape_arg(weight_shape, "weight_shape", DType::f32, 4, 4);
  check_image_ndim(x, "input");
  const Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w, 2), kernel_dim(w, 3));
  const bool unbatched = x.ndim == 3;
  const View xv = batched(x);
  const Shape s = conv2d_shape(xv, w, nullptr, p);
  const int64_t oh = s[2], ow = s[3];
  if (unbatched) return nb::make_tuple(w.shape[0], oh, ow);
  return nb::make_tuple(xv.shape[0], w.shape[0], oh, ow);
}

}  // namespace

NPFAST_BIND(conv) {
  m.def("conv2d", runtime_anchored<&conv2d_py>,
        nb::sig("def conv2d(input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, "
                "bias: numpy.typing.ArrayLike | None = None, stride: int | tuple[int, ...] = 1, "
                "padding: int | tuple[int, ...] | str = 0, dilation: int | tuple[int, ...] = 1, "
                "groups: int = 1, *, out: numpy.ndarray | None = None, "
                "activation: str | None = None, layout: str = 'NCHW', "
                "residual: numpy.typing.ArrayLike | None = None) -> numpy.ndarray"),
        nb::arg("input").none(), nb::arg("weight").none(), nb::arg("bias").none() = nb::none(),
        nb::arg("stride").none() = 1, nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1,
        nb::arg("groups").none() = 1, nb::kw_only(), nb::arg("out").none() = nb::none(),
        nb::arg("activation").none() = nb::none(), nb::arg("layout").none() = "NCHW",
        nb::arg("residual").none() = nb::none(),
        R"doc(2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

``out[n, o, y, x] = bias[o] + sum_{c, i, j} input[n, g*C/groups + c, y*sh + i*dh - pt,
x*sw + j*dw - pl] * weight[o, c, i, j]`` with g the group of output channel o.

Parameters
----------
input : array_like, float32 or float64
    ``(N, C, H, W)``, or ``(C, H, W)`` (unbatched: the result is ``(O, OH, OW)``). Any strides.
weight : array_like, same dtype
    ``(O, C / groups, kH, kW)``.
bias : array_like, same dtype, optional
    ``(O,)``.
stride, dilation : int, (int,) or (int, int)
    >= 1 (a 1-element tuple or list is used for both axes, as PyTorch).
padding : int, (int,), (int, int), 'valid' or 'same'
    Zeros added on both sides; 'same' keeps the spatial size (stride 1 only; an even dilated
    kernel gets the extra row/column at the bottom/right, as PyTorch).
groups : int
    Divides C and O.
out : ndarray, optional
    Exactly the result's shape and dtype, not overlapping the inputs; never converted.
activation : None or 'relu'
    Fused ``max(y, 0)`` (NaN stays NaN) on the result.
layout : 'NCHW' or 'NHWC' (keyword only)
    Axis order of input and result: 'NHWC' takes ``(N, H, W, C)`` (or ``(H, W, C)``) and
    returns ``(N, OH, OW, O)``, as torch with ``memory_format=torch.channels_last``; the weight
    stays ``(O, C / groups, kH, kW)``.
residual : array_like, same dtype, optional (keyword only)
    The result's shape (in ``layout``), added after the bias and before the activation:
    ``act(conv + bias + residual)``, a ResNet block's shortcut and its ReLU in the conv's
    epilogue (each addition rounded, as ``y += residual`` after the conv would). Must not
    overlap ``out``.

Returns
-------
ndarray ``(N, O, OH, OW)`` (or ``(N, OH, OW, O)`` for NHWC) with ``OH = (H + pt + pb - dh*(kH-1) - 1) // sh + 1`` (likewise OW).
float32 results differ from PyTorch's by rounding only (different summation order).

Raises
------
TypeError  for non-float or mixed dtypes (any array argument: "float32 or float64 arrays
           only"), or non-int stride/padding/dilation/groups.
ValueError for an unknown layout, wrong ndim, a tuple of more than two ints, channel/group
           mismatch, stride or dilation < 1, negative padding, a kernel larger than the padded
           input, a wrong bias shape, an unknown padding string, 'same' with stride > 1, or a
           bad ``out``.
           Nothing is written on error.
)doc");
  m.def(
      "conv2d_backward", runtime_anchored<&backward_py>,
      nb::sig("def conv2d_backward(grad_output: numpy.typing.ArrayLike, "
              "input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, "
              "stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] | str = 0, "
              "dilation: int | tuple[int, ...] = 1, groups: int = 1, "
              "output_mask: tuple[bool, bool, bool] = (True, True, True), *, "
              "layout: str = 'NCHW', residual: numpy.typing.ArrayLike | None = None) -> "
              "tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]"),
      nb::arg("grad_output").none(), nb::arg("input").none(), nb::arg("weight").none(),
      nb::arg("stride").none() = 1, nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1,
      nb::arg("groups").none() = 1,
      nb::arg("output_mask").none() = nb::make_tuple(true, true, true), nb::kw_only(),
      nb::arg("layout").none() = "NCHW", nb::arg("residual").none() = nb::none(),
      R"doc(Gradients of :func:`conv2d`, as PyTorch's autograd (``torch.ops.aten.convolution_backward``).

Parameters
----------
grad_output : array_like
    ``(N, O, OH, OW)`` (or ``(O, OH, OW)`` for unbatched input), the input's dtype.
input, weight, stride, padding, dilation, groups
    As given to :func:`conv2d`.
output_mask : 3 bools
    Which of (grad_input, grad_weight, grad_bias) to compute: each a bool (or NumPy bool;
    a bool array of 3 too), as torch's bool[3].
layout : 'NCHW' or 'NHWC' (keyword only)
    Axis order of grad_output, input and grad_input, as for :func:`conv2d`.
residual : array_like, the input's shape and dtype, optional (keyword only)
    Added to grad_input (``grad_input + residual``, each element rounded once, as a separate
    addition up to the sign of a zero sum), in the algorithm's epilogue where it has one: the
    gradient a ResNet block's shortcut adds to its body's input gradient. Requires
    ``output_mask[0]``.

Returns
-------
(grad_input, grad_weight, grad_bias): arrays shaped like input, weight and ``(O,)``; ``None``
where masked. grad_weight and grad_bias are summed over the batch and space in a fixed order,
so results are bitwise identical for any thread count.

Raises
------
TypeError, ValueError as :func:`conv2d`, and ValueError for a grad_output of the wrong shape.
)doc");
  m.def("_conv2d_params", &params_py, nb::arg("kernel_hw").none(), nb::arg("stride").none() = 1,
        nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1, nb::arg("groups").none() = 1,
        "conv2d's parsed arguments: ((sh, sw), (top, bottom, left, right), (dh, dw), groups).");
  m.def("_conv2d_output_shape", &output_shape_py, nb::arg("input_shape").none(),
        nb::arg("weight_shape").none(), nb::arg("stride").none() = 1, nb::arg("padding").none() = 0,
        nb::arg("dilation").none() = 1, nb::arg("groups").none() = 1,
        "The shape conv2d returns for these shapes and arguments (its checks included).");
  m.def("_conv2d_reference", &reference_py, nb::arg("input").none(), nb::arg("weight").none(),
        nb::arg("bias").none() = nb::none(), nb::arg("stride").none() = 1,
        nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1, nb::arg("groups").none() = 1,
        "Scalar oracle (direct loops, double accumulation); C-contiguous 4-d arrays only.");
  m.def("_conv2d_workspace_limit", &conv_ops::set_workspace_limit, nb::arg("bytes"),
        "Sets the padded-input workspace bound (tests); returns the previous one.");
  m.def("_conv2d_algorithm", &algorithm_py, nb::arg("input").none(), nb::arg("weight").none(),
        nb::arg("stride").none() = 1, nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1,
        nb::arg("groups").none() = 1, nb::arg("layout").none() = "NCHW",
        "The algorithm the planner picks for this forward problem.");
}

}  // namespace py
}  // namespace npfast
