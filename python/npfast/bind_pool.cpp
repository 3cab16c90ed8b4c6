// npfast.max_pool2d, avg_pool2d, their backward passes, max_unpool2d, adaptive_avg_pool2d.
// Arguments are converted here (ints and pairs the way torch.nn.functional takes them); shapes,
// checks and arithmetic are in src/ops/pool.cc.
#include <nanobind/stl/string.h>

#include <string>

#include "npfast/error.hpp"
#include "npfast/pool.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

Pool2dArgs pool_args(nb::handle kernel_size, nb::handle stride, nb::handle padding,
                     nb::handle dilation, nb::handle ceil_mode) {
  Pool2dArgs a;
  if (!pair_arg(kernel_size, "kernel_size", a.kernel))
    throw TypeError("kernel_size: expected an int or a tuple of two ints, got " +
                    py_repr(kernel_size));
  if (!pair_arg(stride, "stride", a.stride)) {  // None: the kernel size, as PyTorch
    a.stride[0] = a.kernel[0];
    a.stride[1] = a.kernel[1];
  }
  if (!pair_arg(padding, "padding", a.padding))
    throw TypeError("padding: expected an int or a tuple of two ints, got " + py_repr(padding));
  if (dilation.ptr() && !pair_arg(dilation, "dilation", a.dilation))
    throw TypeError("dilation: expected an int or a tuple of two ints, got " + py_repr(dilation));
  a.ceil_mode = bool_arg(ceil_mode, "ceil_mode");
  return a;
}

int64_t divisor_arg(nb::handle h) {
  if (h.is_none()) return 0;
  const int64_t d = int_arg(h, "divisor_override");
  if (d == 0) throw ValueError("divisor_override: must not be zero");
  return d;
}

// input_shape of a backward pass: 2 to 4 non-negative ints.
View input_shape_arg(nb::handle h, DType t) { return shape_arg(h, "input_shape", t, 2, 4); }

nb::object new_result(const Shape& s, DType t, View* v) { return new_array(t, s.ndim, s.dims, v); }

nb::object max_pool2d_py(nb::handle input, nb::handle kernel_size, nb::handle stride,
                         nb::handle padding, nb::handle dilation, nb::handle ceil_mode,
                         nb::handle return_indices_arg, nb::handle layout) {
  const bool return_indices = bool_arg(return_indices_arg, "return_indices");
  Array x = as_array(input, "input", kFloatsOnly);
  Pool2dArgs a = pool_args(kernel_size, stride, padding, dilation, ceil_mode);
  a.channels_last = channels_last_arg(layout);
  const Shape s = max_pool2d_shape(x.view, a);
  View out, idx;
  nb::object r = new_result(s, x.view.dtype, &out);
  nb::object ri;
  if (return_indices) ri = new_result(s, DType::i64, &idx);
  {
    ReleaseGil release;
    max_pool2d(x.view, a, out, return_indices ? &idx : nullptr);
  }
  if (return_indices) return nb::make_tuple(r, ri);
  return r;
}

nb::object max_pool2d_backward_py(nb::handle grad_output, nb::handle indices,
                                  nb::handle input_shape, nb::handle layout) {
  const bool channels_last = channels_last_arg(layout);
  Array g = as_array(grad_output, "grad_output", kFloatsOnly);
  Array i = as_array(indices, "indices");
  View gi = input_shape_arg(input_shape, g.view.dtype);
  Shape s;
  s.ndim = gi.ndim;
  for (int k = 0; k < gi.ndim; ++k) s.dims[k] = gi.shape[k];
  nb::object r = new_result(s, g.view.dtype, &gi);
  {
    ReleaseGil release;
    max_pool2d_backward(g.view, i.view, gi, channels_last);
  }
  return r;
}

nb::object avg_pool2d_py(nb::handle input, nb::handle kernel_size, nb::handle stride,
                         nb::handle padding, nb::handle ceil_mode, nb::handle count_include_pad_arg,
                         nb::handle divisor_override, nb::handle layout) {
  Array x = as_array(input, "input", kFloatsOnly);
  Pool2dArgs a = pool_args(kernel_size, stride, padding, nb::handle(), ceil_mode);
  const bool count_include_pad = bool_arg(count_include_pad_arg, "count_include_pad");
  a.channels_last = channels_last_arg(layout);
  const int64_t div = divisor_arg(divisor_override);
  const Shape s = avg_pool2d_shape(x.view, a);
  View out;
  nb::object r = new_result(s, x.view.dtype, &out);
  {
    ReleaseGil release;
    avg_pool2d(x.view, a, count_include_pad, div, out);
  }
  return r;
}

nb::object avg_pool2d_backward_py(nb::handle grad_output, nb::handle input_shape,
                                  nb::handle kernel_size, nb::handle stride, nb::handle padding,
                                  nb::handle ceil_mode, nb::handle count_include_pad_arg,
                                  nb::handle divisor_override, nb::handle layout) {
  Array g = as_array(grad_output, "grad_output", kFloatsOnly);
  View gi = input_shape_arg(input_shape, g.view.dtype);
  Pool2dArgs a = pool_args(kernel_size, stride, padding, nb::handle(), ceil_mode);
  const bool count_include_pad = bool_arg(count_include_pad_arg, "count_include_pad");
  a.channels_last = channels_last_arg(layout);
  const int64_t div = divisor_arg(divisor_override);
  if (g.view.dtype != DType::f32 && g.view.dtype != DType::f64)
    throw TypeError(std::string("grad_output: dtype must be float32 or float64, got ") +
                    dtype_name(g.view.dtype));
  // Checks the shapes before allocating grad_input (naming input_shape where the forward
  // check would name the input).
  if (a.channels_last && gi.ndim != 3 && gi.ndim != 4)
    throw ValueError(
        "input_shape: expected 3 (H, W, C) or 4 (N, H, W, C) dimensions for layout='NHWC', "
        "got " +
        shape_str(gi));
  View probe = gi;
  (void)avg_pool2d_shape(probe, a);
  Shape s;
  s.ndim = gi.ndim;
  for (int k = 0; k < gi.ndim; ++k) s.dims[k] = gi.shape[k];
  nb::object r = new_result(s, g.view.dtype, &gi);
  {
    ReleaseGil release;
    avg_pool2d_backward(g.view, a, count_include_pad, div, gi);
  }
  return r;
}

nb::object max_unpool2d_py(nb::handle input, nb::handle indices, nb::handle kernel_size,
                           nb::handle stride, nb::handle padding, nb::handle output_size) {
  Array x = as_array(input, "input", kFloatsOnly);
  Array i = as_array(indices, "indices");
  const Pool2dArgs a = pool_args(kernel_size, stride, padding, nb::handle(), Py_False);
  int64_t osize[2];
  const int64_t* os = nullptr;
  if (!output_size.is_none()) {
    if (!is_sequence(output_size))
      throw TypeError("output_size: expected a tuple of ints, got " + py_repr(output_size));
    const Py_ssize_t n = PySequence_Size(output_size.ptr());
    // (OH, OW), or four entries whose last two are used, whatever the input's rank
    // (PyTorch's _unpool_output_size: len(kernel_size) or len(kernel_size) + 2).
    if (n != 2 && n != 4)
      throw ValueError("output_size: expected 2 or 4 elements, got " + py_repr(output_size));
    for (int k = 0; k < 2; ++k) {
      nb::object item = nb::steal(PySequence_GetItem(output_size.ptr(), n - 2 + k));
      if (!item) throw nb::python_error();
      osize[k] = int_arg(item, "output_size");
    }
    os = osize;
  }
  const Shape s = max_unpool2d_shape(x.view, i.view, a, os);
  View out;
  nb::object r = new_result(s, x.view.dtype, &out);
  {
    ReleaseGil release;
    max_unpool2d(x.view, i.view, out);
  }
  return r;
}

nb::object adaptive_avg_pool2d_py(nb::handle input, nb::handle output_size) {
  Array x = as_array(input, "input", kFloatsOnly);
  int64_t o[2];
  if (is_sequence(output_size)) {
    const Py_ssize_t n = PySequence_Size(output_size.ptr());
    if (n != 1 && n != 2)
      throw ValueError("output_size: expected an int or a tuple of two ints or None, got " +
                       py_repr(output_size));
    for (Py_ssize_t k = 0; k < n; ++k) {
      nb::object item = nb::steal(PySequence_GetItem(output_size.ptr(), k));
      if (!item) throw nb::python_error();
      o[k] = item.is_none() ? -1 : int_arg(item, "output_size");
      if (o[k] < 0 && !item.is_none())
        throw ValueError("output_size: must be >= 0 (or None), got " + py_repr(output_size));
    }
    if (n == 1) o[1] = o[0];
  } else {
    o[0] = o[1] = int_arg(output_size, "output_size");
    if (o[0] < 0) throw ValueError("output_size: must be >= 0, got " + py_repr(output_size));
  }
  const Shape s = adaptive_avg_pool2d_shape(x.view, o[0], o[1]);
  View out;
  nb::object r = new_result(s, x.view.dtype, &out);
  {
    ReleaseGil release;
    adaptive_avg_pool2d(x.view, out);
  }
  return r;
}

// The private _global_mean_nhwc(x): x.mean(axis=(1, 2)) of a C-contiguous (N, H, W, C) array
// with C >= 2, NumPy's bits (npfast.nn's ResNet head; pool.hpp).
nb::object global_mean_nhwc_py(nb::handle input) {
  Array x = as_array(input, "input", kFloatsOnly);
  const Shape s = global_mean_nhwc_shape(x.view);
  View out;
  nb::object r = new_result(s, x.view.dtype, &out);
  {
    ReleaseGil release;
    global_mean_nhwc(x.view, out);
  }
  return r;
}

constexpr const char* kShapes = R"doc(input : ndarray
    float32 or float64, (N, C, H, W), (C, H, W), or (H, W) (one plane); any strides.
    Other dtypes raise TypeError; other ranks ValueError.)doc";

constexpr const char* kWindow = R"doc(kernel_size : int or (int, int)
    Window height and width, >= 1.
stride : int or (int, int), optional
    Default (None or ()): kernel_size.
padding : int or (int, int)
    Implicit padding on both sides, 0 <= padding <= kernel_size // 2.)doc";

constexpr const char* kLayout = R"doc(layout : 'NCHW' or 'NHWC' (keyword only)
    'NHWC': input ``(N, H, W, C)`` or ``(H, W, C)``, results ``(N, OH, OW, C)`` (or
    ``(OH, OW, C)``), as PyTorch on channels_last tensors; computed natively (the channels
    of a pixel are the vector lanes), indices ``h * W + w`` as for NCHW.)doc";

// The pooling docstrings: the shared input, window and layout parameters around `params`.
std::string doc(const char* head, const char* params, const char* tail) {
  return std::string(head) + "\n\nParameters\n----------\n" + kShapes + "\n" + kWindow + "\n" +
         params + "\n" + kLayout + "\n" + tail;
}

}  // namespace

NPFAST_BIND(pool) {
  m.def("_global_mean_nhwc", &global_mean_nhwc_py, nb::arg("input").none());
  m.def(
      "_pool_output_length",
      [](int64_t n, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation,
         bool ceil_mode) {
        return pool_output_length(n, kernel, stride, padding, dilation, ceil_mode, "length");
      },
      nb::arg("n"), nb::arg("kernel"), nb::arg("stride"), nb::arg("padding"), nb::arg("dilation"),
      nb::arg("ceil_mode"),
      "PyTorch's pooled (and, without ceil_mode, convolved) length of an axis of n elements.");
  static const std::string max_doc = doc("2-D max pooling, as ``torch.nn.functional.max_pool2d``.",
                                         R"doc(dilation : int or (int, int)
    Spacing between window taps, >= 1.
ceil_mode : bool
    Round the output size up (a last, partial window that starts inside the input or its
    left padding), as PyTorch.
return_indices : bool
    Also return the argmax indices.)doc",
                                         R"doc(
Returns
-------
out : ndarray of input's dtype, shape (..., OH, OW), C-contiguous.
indices : int64 ndarray of the same shape (only with ``return_indices``): the flat index
    ``h * W + w`` of each maximum within its plane, exactly PyTorch's: the first of equal
    maxima in row-major window order; a NaN propagates and the last NaN's index is reported.
    A window whose taps all fall in the padding (possible with dilation) gives -inf and
    PyTorch's out-of-plane index.

Raises
------
TypeError  for a non-float input or a non-int argument.
ValueError for kernel_size / stride / dilation < 1, padding < 0 or > kernel_size // 2, an
    output size < 1, or window positions that overflow int64.
)doc");
  m.def("max_pool2d", runtime_anchored<&max_pool2d_py>,
        nb::sig("def max_pool2d(input: numpy.typing.ArrayLike, kernel_size: int | tuple[int, int], "
                "stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, "
                "dilation: int | tuple[int, int] = 1, ceil_mode: bool = False, "
                "return_indices: bool = False, *, layout: str = 'NCHW') -> "
                "numpy.ndarray | tuple[numpy.ndarray, numpy.ndarray]"),
        nb::arg("input").none(), nb::arg("kernel_size").none(),
        nb::arg("stride").none() = nb::none(), nb::arg("padding").none() = 0,
        nb::arg("dilation").none() = 1, nb::arg("ceil_mode").none() = false,
        nb::arg("return_indices").none() = false, nb::kw_only(), nb::arg("layout").none() = "NCHW",
        max_doc.c_str());

  m.def("max_pool2d_backward", runtime_anchored<&max_pool2d_backward_py>,
        nb::sig("def max_pool2d_backward(grad_output: numpy.typing.ArrayLike, "
                "indices: numpy.typing.ArrayLike, input_shape: tuple[int, ...], *, "
                "layout: str = 'NCHW') -> numpy.ndarray"),
        nb::arg("grad_output").none(), nb::arg("indices").none(), nb::arg("input_shape").none(),
        nb::kw_only(), nb::arg("layout").none() = "NCHW",
        R"doc(Gradient of ``max_pool2d`` with respect to its input (PyTorch's max_pool2d backward).

Parameters
----------
grad_output : ndarray
    float32 or float64, the pooled shape (..., OH, OW); any strides.
indices : ndarray
    int64, grad_output's shape: the indices ``max_pool2d(..., return_indices=True)`` returned.
input_shape : tuple of int
    The forward input's shape; its leading axes must equal grad_output's.
layout : 'NCHW' or 'NHWC' (keyword only)
    The forward call's: 'NHWC' takes grad_output and indices ``(N, OH, OW, C)`` (or
    ``(OH, OW, C)``) and input_shape ``(N, H, W, C)``, and returns grad_input so.

Returns
-------
ndarray of grad_output's dtype and ``input_shape``: zero except at the argmax positions, where
the gradients of all outputs that chose that element are summed in output order.

Raises
------
TypeError  for a non-float grad_output or non-int64 indices.
ValueError for mismatched shapes, or an index outside its plane (checked before writing).
)doc");

  static const std::string avg_doc =
      doc("2-D average pooling, as ``torch.nn.functional.avg_pool2d``.",
          R"doc(ceil_mode : bool
    Round the output size up, as PyTorch.
count_include_pad : bool
    Divide by the window size including padding (clipped to the padded plane), else by the
    number of input elements in the window.
divisor_override : int, optional
    Nonzero divisor used for every window instead.)doc",
          R"doc(
Returns
-------
ndarray of input's dtype, shape (..., OH, OW), C-contiguous. Sums run in the input's dtype in
PyTorch's order (row by row), so float32 results match PyTorch's to rounding.

Raises
------
TypeError  for a non-float input or a non-int argument.
ValueError for kernel_size / stride < 1, padding < 0 or > kernel_size // 2, an output size
    < 1, or divisor_override == 0.
)doc");
  m.def("avg_pool2d", runtime_anchored<&avg_pool2d_py>,
        nb::sig("def avg_pool2d(input: numpy.typing.ArrayLike, kernel_size: int | tuple[int, int], "
                "stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, "
                "ceil_mode: bool = False, count_include_pad: bool = True, "
                "divisor_override: int | None = None, *, layout: str = 'NCHW') -> numpy.ndarray"),
        nb::arg("input").none(), nb::arg("kernel_size").none(),
        nb::arg("stride").none() = nb::none(), nb::arg("padding").none() = 0,
        nb::arg("ceil_mode").none() = false, nb::arg("count_include_pad").none() = true,
        nb::arg("divisor_override").none() = nb::none(), nb::kw_only(),
        nb::arg("layout").none() = "NCHW", avg_doc.c_str());

  m.def("avg_pool2d_backward", runtime_anchored<&avg_pool2d_backward_py>,
        nb::sig("def avg_pool2d_backward(grad_output: numpy.typing.ArrayLike, "
                "input_shape: tuple[int, ...], kernel_size: int | tuple[int, int], "
                "stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, "
                "ceil_mode: bool = False, count_include_pad: bool = True, "
                "divisor_override: int | None = None, *, layout: str = 'NCHW') -> numpy.ndarray"),
        nb::arg("grad_output").none(), nb::arg("input_shape").none(), nb::arg("kernel_size").none(),
        nb::arg("stride").none() = nb::none(), nb::arg("padding").none() = 0,
        nb::arg("ceil_mode").none() = false, nb::arg("count_include_pad").none() = true,
        nb::arg("divisor_override").none() = nb::none(), nb::kw_only(),
        nb::arg("layout").none() = "NCHW",
        R"doc(Gradient of ``avg_pool2d`` with respect to its input (PyTorch's avg_pool2d backward).

Parameters
----------
grad_output : ndarray
    float32 or float64 of the shape ``avg_pool2d`` returns for ``input_shape``; any strides.
input_shape : tuple of int
    The forward input's shape, 2 to 4 dimensions.
kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    As given to ``avg_pool2d``.
layout : 'NCHW' or 'NHWC' (keyword only)
    The forward call's: 'NHWC' takes grad_output ``(N, OH, OW, C)`` (or ``(OH, OW, C)``) and
    input_shape ``(N, H, W, C)``, and returns grad_input so.

Returns
-------
ndarray of grad_output's dtype and ``input_shape``: each output's gradient divided by its
divisor and added to every input element of its window, in output order (as PyTorch).

Raises
------
TypeError / ValueError as ``avg_pool2d``, and ValueError when grad_output's shape is not the
pooled shape of ``input_shape``.
)doc");

  m.def("max_unpool2d", runtime_anchored<&max_unpool2d_py>,
        nb::sig("def max_unpool2d(input: numpy.typing.ArrayLike, indices: numpy.typing.ArrayLike, "
                "kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, "
                "padding: int | tuple[int, int] = 0, "
                "output_size: tuple[int, ...] | None = None) -> numpy.ndarray"),
        nb::arg("input").none(), nb::arg("indices").none(), nb::arg("kernel_size").none(),
        nb::arg("stride").none() = nb::none(), nb::arg("padding").none() = 0,
        nb::arg("output_size").none() = nb::none(),
        R"doc(Partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``.

Parameters
----------
input : ndarray
    float32 or float64, (N, C, H, W), (C, H, W) or (H, W); any strides.
indices : ndarray
    int64, input's shape: flat positions ``h * OW + w`` in the output plane.
kernel_size, stride, padding : int or (int, int)
    Give the default output size (H - 1) * stride - 2 * padding + kernel_size (stride
    defaults to kernel_size).
output_size : tuple of int, optional
    (OH, OW), or a full shape whose last two entries are used; each must lie strictly within
    ``stride`` of the default (PyTorch's rule).

Returns
-------
ndarray of input's dtype, shape (..., OH, OW): zero, with ``input[i]`` written at
``indices[i]`` within each plane (a repeated index keeps the last value in C order).

Raises
------
TypeError  for a non-float input or non-int64 indices.
ValueError for mismatched shapes, a bad output_size (or a padding that takes the default
    below 0), or an index outside [0, OH * OW) (checked before writing; an empty plane,
    OH or OW 0, is PyTorch's empty result, its indices unchecked).
)doc");

  m.def("adaptive_avg_pool2d", runtime_anchored<&adaptive_avg_pool2d_py>,
        nb::sig("def adaptive_avg_pool2d(input: numpy.typing.ArrayLike, "
                "output_size: int | tuple[int | None, int | None]) -> numpy.ndarray"),
        nb::arg("input").none(), nb::arg("output_size").none(),
        R"doc(Adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``.

Output (oh, ow) averages rows floor(oh * H / OH) to ceil((oh + 1) * H / OH) (exclusive), and
likewise columns. When OH divides H and OW divides W this is avg_pool2d with equal windows and
runs its SIMD kernels.

Parameters
----------
input : ndarray
    float32 or float64, (N, C, H, W), (C, H, W) or (H, W), H and W >= 1; any strides.
output_size : int or (int or None, int or None)
    (OH, OW) >= 0; None keeps that input size.

Returns
-------
ndarray of input's dtype, shape (..., OH, OW).

Raises
------
TypeError for a non-float input; ValueError for a negative output size or an empty plane.
)doc");
}

}  // namespace py
}  // namespace npfast
