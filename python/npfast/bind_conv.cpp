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

// Any integer (operator.index: Python and NumPy ints), never a bool or a float.
int64_t to_int(nb::handle v, const char* arg, nb::handle whole) {
  PyObject* idx = PyBool_Check(v.ptr()) ? nullptr : PyNumber_Index(v.ptr());
  if (!idx) {
    PyErr_Clear();
    throw TypeError(std::string(arg) + ": expected an int or a pair of ints, got " +
                    py_repr(whole));
  }
  nb::object i = nb::steal(idx);
  int overflow = 0;
  const long long r = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) throw ValueError(std::string(arg) + ": value too large, got " + py_repr(whole));
  return r;
}

// An int, or a tuple/list of two ints (PyTorch's _pair).
void to_pair(nb::handle v, const char* arg, int64_t* a, int64_t* b) {
  if (PyTuple_Check(v.ptr()) || PyList_Check(v.ptr())) {
    nb::sequence s = nb::borrow<nb::sequence>(v);
    if (nb::len(s) != 2)
      throw ValueError(std::string(arg) + ": expected an int or a pair of ints, got " + py_repr(v));
    *a = to_int(s[0], arg, v);
    *b = to_int(s[1], arg, v);
    return;
  }
  *a = *b = to_int(v, arg, v);
}

// stride, padding (int, pair, "valid", "same"), dilation, groups; kh/kw for "same".
Conv2dParams parse_params(nb::handle stride, nb::handle padding, nb::handle dilation,
                          nb::handle groups, int64_t kh, int64_t kw) {
  Conv2dParams p;
  to_pair(stride, "stride", &p.stride_h, &p.stride_w);
  to_pair(dilation, "dilation", &p.dilation_h, &p.dilation_w);
  if (PyTuple_Check(groups.ptr()) || PyList_Check(groups.ptr()))
    throw TypeError("groups: expected an int, got " + py_repr(groups));
  p.groups = to_int(groups, "groups", groups);
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
  int64_t ph, pw;
  to_pair(padding, "padding", &ph, &pw);
  p.pad_top = p.pad_bottom = ph;
  p.pad_left = p.pad_right = pw;
  return p;
}

// Views the 3-d unbatched (C, H, W) form as (1, C, H, W).
View batched(const View& v) {
  if (v.ndim != 3) return v;
  View r;
  r.data = v.data;
  r.dtype = v.dtype;
  r.ndim = 4;
  r.shape[0] = 1;
  r.strides[0] = v.shape[0] * v.strides[0];
  for (int i = 0; i < 3; ++i) {
    r.shape[i + 1] = v.shape[i];
    r.strides[i + 1] = v.strides[i];
  }
  return r;
}

void check_input_ndim(const View& v, const char* arg) {
  if (v.ndim != 3 && v.ndim != 4)
    throw ValueError(std::string(arg) +
                     ": expected a 4-d (N, C, H, W) or 3-d (C, H, W) array, got shape " +
                     shape_str(v));
}

int64_t kernel_dim(const View& w, int i) { return w.ndim == 4 ? w.shape[i] : 1; }

nb::object conv2d_py(nb::handle input, nb::handle weight, nb::handle bias, nb::handle stride,
                     nb::handle padding, nb::handle dilation, nb::handle groups, nb::handle out,
                     nb::handle activation) {
  Array x = as_array(input, "input");
  Array w = as_array(weight, "weight");
  Array b;
  const bool has_bias = !bias.is_none();
  if (has_bias) b = as_array(bias, "bias");
  check_input_ndim(x.view, "input");
  Activation act = Activation::none;
  if (!activation.is_none()) {
    if (!PyUnicode_Check(activation.ptr()) || nb::cast<std::string>(activation) != "relu")
      throw ValueError("activation: expected None or 'relu', got " + py_repr(activation));
    act = Activation::relu;
  }
  const Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  const bool unbatched = x.view.ndim == 3;
  const View xv = batched(x.view);
  const Shape s = conv2d_shape(xv, w.view, has_bias ? &b.view : nullptr, p);
  const int64_t oh = s[2], ow = s[3];
  const int64_t shape4[4] = {xv.shape[0], w.view.shape[0], oh, ow};
  View y;
  nb::object result =
      out_or_new(out, xv.dtype, unbatched ? 3 : 4, unbatched ? shape4 + 1 : shape4, &y);
  if (has_bias)
    check_no_overlap(y, {&x.view, &w.view, &b.view});
  else
    check_no_overlap(y, {&x.view, &w.view});
  const View yv = batched(y);
  {
    nb::gil_scoped_release release;
    conv2d(xv, w.view, has_bias ? &b.view : nullptr, p, yv, act);
  }
  return result;
}

nb::object backward_py(nb::handle grad_output, nb::handle input, nb::handle weight,
                       nb::handle stride, nb::handle padding, nb::handle dilation,
                       nb::handle groups, nb::handle output_mask) {
  Array gy = as_array(grad_output, "grad_output");
  Array x = as_array(input, "input");
  Array w = as_array(weight, "weight");
  check_input_ndim(x.view, "input");
  bool mask[3];
  {
    nb::object seq;
    if (PySequence_Check(output_mask.ptr()) && !PyUnicode_Check(output_mask.ptr()))
      seq = nb::borrow(output_mask);
    if (!seq.is_valid() || PySequence_Size(seq.ptr()) != 3)
      throw ValueError("output_mask: expected a sequence of 3 bools, got " + py_repr(output_mask));
    for (int i = 0; i < 3; ++i) {
      nb::object item = nb::steal(PySequence_GetItem(seq.ptr(), i));
      const int t = item.is_valid() ? PyObject_IsTrue(item.ptr()) : -1;
      if (t < 0) {
        PyErr_Clear();
        throw ValueError("output_mask: expected a sequence of 3 bools, got " +
                         py_repr(output_mask));
      }
      mask[i] = t == 1;
    }
  }
  const Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  const bool unbatched = x.view.ndim == 3;
  if (gy.view.ndim != x.view.ndim)
    throw ValueError("grad_output: expected a " + std::to_string(x.view.ndim) +
                     "-d array like input, got shape " + shape_str(gy.view));
  const View xv = batched(x.view), gv = batched(gy.view);
  const Shape s = conv2d_shape(xv, w.view, nullptr, p);
  const int64_t oh = s[2], ow = s[3];
  if (gv.dtype != xv.dtype)
    throw TypeError(std::string("grad_output: dtype ") + dtype_name(gv.dtype) +
                    " does not match input dtype " + dtype_name(xv.dtype));
  const int64_t gshape[4] = {xv.shape[0], w.view.shape[0], oh, ow};
  for (int i = 0; i < 4; ++i)
    if (gv.shape[i] != gshape[i]) {
      View want;
      want.ndim = unbatched ? 3 : 4;
      for (int j = 0; j < want.ndim; ++j) want.shape[j] = gshape[j + (unbatched ? 1 : 0)];
      throw ValueError("grad_output: expected shape " + shape_str(want) + ", got " +
                       shape_str(gy.view));
    }
  nb::object gx_o = nb::none(), gw_o = nb::none(), gb_o = nb::none();
  View gx, gw, gb;
  if (mask[0]) gx_o = new_array(xv.dtype, x.view.ndim, x.view.shape, &gx);
  if (mask[1]) gw_o = new_array(xv.dtype, 4, w.view.shape, &gw);
  if (mask[2]) gb_o = new_array(xv.dtype, 1, w.view.shape, &gb);
  const View gx4 = batched(gx);
  {
    nb::gil_scoped_release release;
    conv2d_backward(gv, xv, w.view, p, mask[0] ? &gx4 : nullptr, mask[1] ? &gw : nullptr,
                    mask[2] ? &gb : nullptr);
  }
  return nb::make_tuple(gx_o, gw_o, gb_o);
}

nb::object reference_py(nb::handle input, nb::handle weight, nb::handle bias, nb::handle stride,
                        nb::handle padding, nb::handle dilation, nb::handle groups) {
  Array x = as_array(input, "input");
  Array w = as_array(weight, "weight");
  Array b;
  const bool has_bias = !bias.is_none();
  if (has_bias) b = as_array(bias, "bias");
  const Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  const Shape s = conv2d_shape(x.view, w.view, has_bias ? &b.view : nullptr, p);
  const int64_t oh = s[2], ow = s[3];
  const int64_t shape[4] = {x.view.shape[0], w.view.shape[0], oh, ow};
  View y;
  nb::object result = new_array(x.view.dtype, 4, shape, &y);
  conv2d_reference(x.view, w.view, has_bias ? &b.view : nullptr, p, y);
  return result;
}

std::string algorithm_py(nb::handle input, nb::handle weight, nb::handle stride, nb::handle padding,
                         nb::handle dilation, nb::handle groups) {
  Array x = as_array(input, "input");
  Array w = as_array(weight, "weight");
  check_input_ndim(x.view, "input");
  const Conv2dParams p =
      parse_params(stride, padding, dilation, groups, kernel_dim(w.view, 2), kernel_dim(w.view, 3));
  return conv2d_algorithm(batched(x.view), w.view, p);
}

}  // namespace

NPFAST_BIND(conv) {
  m.def(
      "conv2d", &conv2d_py,
      nb::sig("def conv2d(input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, "
              "bias: numpy.typing.ArrayLike | None = None, stride: int | tuple[int, int] = 1, "
              "padding: int | tuple[int, int] | str = 0, dilation: int | tuple[int, int] = 1, "
              "groups: int = 1, *, out: numpy.ndarray | None = None, "
              "activation: str | None = None) -> numpy.ndarray"),
      nb::arg("input").none(), nb::arg("weight").none(), nb::arg("bias").none() = nb::none(),
      nb::arg("stride").none() = 1, nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1,
      nb::arg("groups").none() = 1, nb::kw_only(), nb::arg("out").none() = nb::none(),
      nb::arg("activation").none() = nb::none(),
      R"doc(2-D convolution (cross-correlation) over NCHW arrays, as ``torch.nn.functional.conv2d``.

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
stride, dilation : int or (int, int)
    >= 1.
padding : int, (int, int), 'valid' or 'same'
    Zeros added on both sides; 'same' keeps the spatial size (stride 1 only; an even dilated
    kernel gets the extra row/column at the bottom/right, as PyTorch).
groups : int
    Divides C and O.
out : ndarray, optional
    Exactly the result's shape and dtype, not overlapping the inputs; never converted.
activation : None or 'relu'
    Fused ``max(y, 0)`` (NaN stays NaN) on the result.

Returns
-------
ndarray ``(N, O, OH, OW)`` with ``OH = (H + pt + pb - dh*(kH-1) - 1) // sh + 1`` (likewise OW).
float32 results differ from PyTorch's by rounding only (different summation order).

Raises
------
TypeError  for non-float or mixed dtypes, or non-int stride/padding/dilation/groups.
ValueError for wrong ndim, channel/group mismatch, stride or dilation < 1, negative padding,
           a kernel larger than the padded input, a wrong bias shape, an unknown padding
           string, 'same' with stride > 1, or a bad ``out``. Nothing is written on error.
)doc");
  m.def(
      "conv2d_backward", &backward_py,
      nb::sig("def conv2d_backward(grad_output: numpy.typing.ArrayLike, "
              "input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, "
              "stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0, "
              "dilation: int | tuple[int, int] = 1, groups: int = 1, "
              "output_mask: tuple[bool, bool, bool] = (True, True, True)) -> "
              "tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]"),
      nb::arg("grad_output").none(), nb::arg("input").none(), nb::arg("weight").none(),
      nb::arg("stride").none() = 1, nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1,
      nb::arg("groups").none() = 1,
      nb::arg("output_mask").none() = nb::make_tuple(true, true, true),
      R"doc(Gradients of :func:`conv2d`, as PyTorch's autograd (``torch.ops.aten.convolution_backward``).

Parameters
----------
grad_output : array_like
    ``(N, O, OH, OW)`` (or ``(O, OH, OW)`` for unbatched input), the input's dtype.
input, weight, stride, padding, dilation, groups
    As given to :func:`conv2d`.
output_mask : 3 bools
    Which of (grad_input, grad_weight, grad_bias) to compute.

Returns
-------
(grad_input, grad_weight, grad_bias): arrays shaped like input, weight and ``(O,)``; ``None``
where masked. grad_weight and grad_bias are summed over the batch and space in a fixed order,
so results are bitwise identical for any thread count.

Raises
------
TypeError, ValueError as :func:`conv2d`, and ValueError for a grad_output of the wrong shape.
)doc");
  m.def("_conv2d_reference", &reference_py, nb::arg("input").none(), nb::arg("weight").none(),
        nb::arg("bias").none() = nb::none(), nb::arg("stride").none() = 1,
        nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1, nb::arg("groups").none() = 1,
        "Scalar oracle (direct loops, double accumulation); C-contiguous 4-d arrays only.");
  m.def("_conv2d_workspace_limit", &conv_ops::set_workspace_limit, nb::arg("bytes"),
        "Sets the padded-input workspace bound (tests); returns the previous one.");
  m.def("_conv2d_algorithm", &algorithm_py, nb::arg("input").none(), nb::arg("weight").none(),
        nb::arg("stride").none() = 1, nb::arg("padding").none() = 0, nb::arg("dilation").none() = 1,
        nb::arg("groups").none() = 1, "The algorithm the planner picks for this forward problem.");
}

}  // namespace py
}  // namespace npfast
