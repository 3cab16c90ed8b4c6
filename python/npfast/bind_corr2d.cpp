// npfast.correlate2d / convolve2d and the operator behind npfast.ndimage.correlate / convolve.
#include <nanobind/stl/string.h>

#include <limits>
#include <string>

#include "npfast/corr2d.hpp"
#include "npfast/error.hpp"
#include "python/npfast/bind.h"
#include "src/ops/alias_rows.h"
#include "src/ops/corr2d.h"

namespace npfast {
namespace py {
namespace {

// mode / boundary: a string (ValueError otherwise, SciPy's class for a bad flag).
std::string str_arg(nb::handle h, const char* arg) {
  if (!PyUnicode_Check(h.ptr()))
    throw ValueError(std::string(arg) + ": expected a string, got " + py_repr(h));
  return nb::cast<std::string>(h);
}

Corr2dMode parse_mode(const std::string& s) {
  if (s == "full") return Corr2dMode::full;
  if (s == "same") return Corr2dMode::same;
  if (s == "valid") return Corr2dMode::valid;
  throw ValueError("mode: must be 'full', 'same' or 'valid', got '" + s + "'");
}

// scipy.signal's names (and its synonyms pad, circular, symmetric).
Border parse_boundary(const std::string& s) {
  if (s == "fill" || s == "pad") return Border::fill;
  if (s == "wrap" || s == "circular") return Border::wrap;
  if (s == "symm" || s == "symmetric") return Border::reflect;
  throw ValueError("boundary: must be 'fill', 'wrap' or 'symm', got '" + s + "'");
}

// scipy.ndimage's names (the grid-* synonyms mean the same for filters).
Border parse_ndimage_mode(const std::string& s) {
  if (s == "reflect" || s == "grid-mirror") return Border::reflect;
  if (s == "constant" || s == "grid-constant") return Border::fill;
  if (s == "nearest") return Border::nearest;
  if (s == "mirror") return Border::mirror;
  if (s == "wrap" || s == "grid-wrap") return Border::wrap;
  throw ValueError("mode: must be 'reflect', 'constant', 'nearest', 'mirror' or 'wrap', got '" + s +
                   "'");
}

// SciPy's fillvalue: a real scalar or a one-element array (ValueError otherwise, as SciPy);
// None is NaN, as SciPy (np.asarray(None) cast to float).
double fill_arg(nb::handle v) {
  if (v.is_none()) return std::numeric_limits<double>::quiet_NaN();
  PyObject* a = PyArray_FromAny(v.ptr(), nullptr, 0, 0, 0, nullptr);
  if (!a) {
    PyErr_Clear();
    throw ValueError("fillvalue: expected a real scalar, got " + py_repr(v));
  }
  nb::object ref = nb::steal(a);
  PyArrayObject* arr = reinterpret_cast<PyArrayObject*>(a);
  if (PyArray_SIZE(arr) == 0) throw ValueError("fillvalue: must not be empty, got " + py_repr(v));
  if (PyArray_SIZE(arr) != 1)
    throw ValueError("fillvalue: must be a scalar or an array with one element, got " + py_repr(v));
  const char kind = PyArray_DESCR(arr)->kind;
  if (kind == 'O' && !PyArray_Check(v.ptr())) {  // (an object array: SciPy's TypeError too)
    // A real number NumPy keeps as an object (an int past 64 bits, a Fraction, a Decimal):
    // its float(), as SciPy's cast (probe21d).
    nb::object item = nb::steal(PyArray_GETITEM(arr, static_cast<const char*>(PyArray_DATA(arr))));
    if (item.is_valid() && !PyComplex_Check(item.ptr()) && !PyUnicode_Check(item.ptr())) {
      const double x = PyFloat_AsDouble(item.ptr());
      if (!(x == -1.0 && PyErr_Occurred())) return x;
    }
    PyErr_Clear();
  }
  if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f')
    throw ValueError(
        "fillvalue: expected a real number (npfast computes in real arithmetic), got " +
        py_repr(v));
  nb::object d = nb::steal(PyArray_Cast(arr, NPY_FLOAT64));
  if (!d) throw nb::python_error();
  return *static_cast<const double*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(d.ptr())));
}

bool narrow(PyArray_Descr* d) {
  return d->kind == 'b' || (d->kind == 'f' && PyDataType_ELSIZE(d) == 2);
}

// scipy.signal promotes in1 and in2 to one dtype and refuses a bool or float16 result with
// ValueError; a bool or float16 operand beside a wider one is read exactly as uint8 / float32
// (npfast's kernels take neither). Other dtypes pass through to as_array's checks.
void signal_operands(nb::object* in1, nb::object* in2, const char* name) {
  nb::object a[2];
  nb::object* in[2] = {in1, in2};
  for (int i = 0; i < 2; ++i) {
    a[i] = nb::steal(PyArray_FromAny(in[i]->ptr(), nullptr, 0, 0, 0, nullptr));
    if (!a[i].is_valid()) {
      PyErr_Clear();
      return;  // as_array names the argument
    }
  }
  PyArray_Descr* d[2] = {PyArray_DESCR(reinterpret_cast<PyArrayObject*>(a[0].ptr())),
                         PyArray_DESCR(reinterpret_cast<PyArrayObject*>(a[1].ptr()))};
  if (!narrow(d[0]) && !narrow(d[1])) return;
  nb::object r = nb::steal(reinterpret_cast<PyObject*>(PyArray_PromoteTypes(d[0], d[1])));
  if (!r.is_valid()) {
    PyErr_Clear();
    return;
  }
  if (narrow(reinterpret_cast<PyArray_Descr*>(r.ptr()))) {
    auto repr = [](PyArray_Descr* t) { return py_repr(reinterpret_cast<PyObject*>(t)); };
    throw ValueError(std::string(narrow(d[0]) ? "in1" : "in2") + ": " + name +
                     " is not available for dtypes " + repr(d[0]) + " and " + repr(d[1]) +
                     " (as SciPy)");
  }
  for (int i = 0; i < 2; ++i) {
    if (!narrow(d[i])) continue;
    PyObject* c = PyArray_Cast(reinterpret_cast<PyArrayObject*>(a[i].ptr()),
                               d[i]->kind == 'b' ? NPY_UINT8 : NPY_FLOAT32);
    if (!c) throw nb::python_error();
    *in[i] = nb::steal(c);
  }
}

// A new output's page offset (corr2d_output_page_offset) for outputs of 64 KiB and more, where
// the 4 KiB of slack is at most 6% of the block; -1 (the pool's placement) for smaller ones and
// for kernels that are not 2-D (ndimage's N-D path).
int64_t output_page_offset(const View& x, const View& k, DType t, const int64_t* shape) {
  const int nd = x.ndim;
  if (nd < 2 || k.ndim != 2) return -1;
  // Overflow is left to new_array, which raises MemoryError for it.
  const int64_t item = static_cast<int64_t>(itemsize(t));
  int64_t bytes = item;
  for (int i = 0; i < nd; ++i)
    if (__builtin_mul_overflow(bytes, shape[i], &bytes)) return -1;
  if (bytes < (int64_t{64} << 10)) return -1;
  return corr2d_output_page_offset(x, static_cast<int>(k.shape[0]), t, shape[nd - 1] * item);
}

nb::object signal_py(nb::handle in1, nb::handle in2, nb::handle mode, nb::handle boundary,
                     nb::handle fill, nb::handle out, bool convolve) {
  nb::object o1 = nb::borrow(in1), o2 = nb::borrow(in2);
  signal_operands(&o1, &o2, convolve ? "convolve2d" : "correlate2d");
  Array x = as_array(o1, "in1");
  Array k = as_array(o2, "in2");
  const Corr2dMode m = parse_mode(str_arg(mode, "mode"));
  const Border b = parse_boundary(str_arg(boundary, "boundary"));
  const double fillvalue = fill_arg(fill);
  const Shape s = signal_corr2d_shape(x.view, k.view, m);
  const int64_t* shape = s.dims;
  const DType t = signal_result_dtype(x.view.dtype, k.view.dtype);
  View y;
  nb::object result = out_or_new(out, t, x.view.ndim, shape, &y, "out",
                                 out.is_none() ? output_page_offset(x.view, k.view, t, shape) : -1);
  check_no_overlap(y, {&x.view, &k.view});
  {
    ReleaseGil release;
    signal_corr2d(x.view, k.view, y, m, b, fillvalue, convolve);
  }
  return result;
}

nb::object correlate2d_py(nb::handle in1, nb::handle in2, nb::handle mode, nb::handle boundary,
                          nb::handle fillvalue, nb::handle out) {
  return signal_py(in1, in2, mode, boundary, fillvalue, out, false);
}
nb::object convolve2d_py(nb::handle in1, nb::handle in2, nb::handle mode, nb::handle boundary,
                         nb::handle fillvalue, nb::handle out) {
  return signal_py(in1, in2, mode, boundary, fillvalue, out, true);
}

// npfast.ndimage has checked and expanded the arguments: weights of the input's rank, one
// origin per axis, output None or a float32/float64 array of the input's shape.
nb::object ndimage_py(nb::handle input, nb::handle weights, nb::handle mode, double cval,
                      nb::handle origins, bool convolve, nb::handle output, bool scipy_sums,
                      bool check_finite) {
  Array x = as_array(input, "input");
  Array k = as_array(weights, "weights");
  if (!PyUnicode_Check(mode.ptr()))
    raise_anchor_error(false, "mode: a sequence of modes is not supported");
  Border b;
  try {
    b = parse_ndimage_mode(nb::cast<std::string>(mode));
  } catch (const ValueError& e) {
    raise_anchor_error(false, e.what());
  }
  if (!is_sequence(origins) || PySequence_Size(origins.ptr()) != x.view.ndim)
    throw ValueError("origin: expected one int per input axis, got " + py_repr(origins));
  int64_t origin[View::kMaxDims];
  for (int i = 0; i < x.view.ndim; ++i) {
    nb::object item = nb::steal(PySequence_GetItem(origins.ptr(), i));
    if (!item) throw nb::python_error();
    origin[i] = int_arg(item, "origin");
  }
  DType t = corr2d_result_dtype(x.view.dtype, k.view.dtype);
  if (!output.is_none()) t = as_dtype(nb::getattr(output, "dtype"), "output");
  View y;
  nb::object result =
      out_or_new(output, t, x.view.ndim, x.view.shape, &y, "output",
                 output.is_none() ? output_page_offset(x.view, k.view, t, x.view.shape) : -1);
  check_no_overlap(y, {&x.view, &k.view}, "output");
  bool nonfinite = false;
  {
    ReleaseGil release;
    ndimage_correlate(x.view, k.view, y, b, cval, origin, convolve, scipy_sums,
                      check_finite ? &nonfinite : nullptr);
  }
  if (check_finite) return nb::make_tuple(result, !nonfinite);
  return result;
}

const char* kSignalDoc = R"doc(

Parameters
----------
in1 : array_like, shape (..., H, W)
    The image, or a stack of images: the same 2-D kernel is applied to every plane (SciPy
    takes 2-D only). Any strides (views, Fortran order, negative strides); no copy is made.
in2 : array_like, shape (kh, kw)
    The 2-D kernel (non-empty).
mode : {'full', 'same', 'valid'}
    Output size, as SciPy: full (H + kh - 1, W + kw - 1); same (H, W), centred like SciPy
    (for an even kernel, correlate2d reads (kh - 1) // 2 rows above, convolve2d kh // 2);
    valid (H - kh + 1, W - kw + 1), or, when in2 is at least as large as the planes in both
    axes, SciPy's swapped result of shape (kh - H + 1, kw - W + 1).
boundary : {'fill', 'wrap', 'symm'}
    How the planes are extended: with ``fillvalue``, periodically, or mirrored with the edge
    repeated (``d c b a | a b c d | d c b a``). Synonyms 'pad', 'circular', 'symmetric'.
fillvalue : float
    The value past the edges for boundary='fill': a real scalar or a one-element array
    (ValueError otherwise, as SciPy, also for complex values); None is NaN, as SciPy.
out : ndarray, optional
    Of the result's shape and dtype exactly (never converted), any strides, not overlapping
    the inputs.

Returns
-------
ndarray
    float32 when in1 and in2 are both float32, or one float32 and the other float16 or an
    integer of at most 16 bits (computed in float32 with fused multiply-adds; SciPy's dtype
    too), float64 otherwise. A pair of integers (every width, signed and unsigned) is computed
    and returned in float64, whereas SciPy returns the integer dtype (which can overflow).

Raises
------
ValueError  a kernel that is not 2-D or is empty, in1 with fewer than 2 dimensions, an unknown
            mode or boundary, a bad fillvalue, a 'valid' shape mismatch, a mismatched ``out``
            shape or an ``out`` that overlaps an input; in1 and in2 both bool or float16
            (SciPy's class; a bool or float16 operand beside a wider one is accepted).
TypeError   object, string, complex or other unsupported dtypes; a wrong ``out`` dtype.
MemoryError an output too large to represent or allocate.
)doc";

}  // namespace

NPFAST_BIND(corr2d) {
  static const std::string corr_doc =
      std::string(
          "2-D cross-correlation, as ``scipy.signal.correlate2d`` (real inputs).\n\n"
          "``out[..., i, j] = sum_{a, b} in2[a, b] * in1_ext[..., i + a - top, j + b - left]``"
          " with ``top, left`` set by ``mode``.") +
      kSignalDoc;
  static const std::string conv_doc =
      std::string(
          "2-D convolution, as ``scipy.signal.convolve2d``: correlation with the "
          "kernel flipped in both axes.") +
      kSignalDoc;
  m.def("correlate2d", &correlate2d_py,
        nb::sig("def correlate2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, "
                "mode: str = 'full', boundary: str = 'fill', fillvalue: float | None = 0, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray"),
        nb::arg("in1").none(), nb::arg("in2").none(), nb::arg("mode").none() = "full",
        nb::arg("boundary").none() = "fill", nb::arg("fillvalue").none() = 0.0, nb::kw_only(),
        nb::arg("out").none() = nb::none(), corr_doc.c_str());
  m.def("convolve2d", &convolve2d_py,
        nb::sig("def convolve2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, "
                "mode: str = 'full', boundary: str = 'fill', fillvalue: float | None = 0, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray"),
        nb::arg("in1").none(), nb::arg("in2").none(), nb::arg("mode").none() = "full",
        nb::arg("boundary").none() = "fill", nb::arg("fillvalue").none() = 0.0, nb::kw_only(),
        nb::arg("out").none() = nb::none(), conv_doc.c_str());
  m.def("_ndimage_correlate", &ndimage_py, nb::arg("input").none(), nb::arg("weights").none(),
        nb::arg("mode").none(), nb::arg("cval"), nb::arg("origins").none(), nb::arg("convolve"),
        nb::arg("output").none(), nb::arg("scipy_sums") = false, nb::arg("check_finite") = false,
        "The operator behind npfast.ndimage.correlate / convolve (see there), which has\n"
        "checked and expanded the arguments. scipy_sums: SciPy's sums bit for bit (a float64\n"
        "output whose values an integer output truncates). check_finite: return (result,\n"
        "whether every value the 2-D kernels read was finite; True where they did not run).");
  // Tests only: the 3x3 interior's direction (src/ops/corr2d.h), the rule and the output rows
  // it ran right to left.
  m.def("_corr2d_runs_reverse", &ops::interior_runs_reverse, nb::arg("load"), nb::arg("store"),
        nb::arg("rs"), nb::arg("kh"), nb::arg("top"));
  m.def("_corr2d_reverse_rows", &ops::corr2d_reverse_rows);
  // Tests only: streamed output rows made through a scratch for the 4 KiB alias
  // (src/ops/alias_rows.h), by correlate and the row-by-row ndimage filters.
  m.def("_aliased_rows", &ops::aliased_rows);
}

}  // namespace py
}  // namespace npfast
