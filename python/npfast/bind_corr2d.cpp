// npfast.correlate2d / convolve2d and the operator behind npfast.ndimage.correlate / convolve.
#include <nanobind/stl/string.h>

#include <string>

#include "npfast/corr2d.hpp"
#include "npfast/error.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

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

nb::object signal_py(nb::handle in1, nb::handle in2, const std::string& mode,
                     const std::string& boundary, double fillvalue, nb::handle out, bool convolve) {
  Array x = as_array(in1, "in1");
  Array k = as_array(in2, "in2");
  const Corr2dMode m = parse_mode(mode);
  const Border b = parse_boundary(boundary);
  const Shape s = signal_corr2d_shape(x.view, k.view, m);
  const int64_t* shape = s.dims;
  const DType t = corr2d_result_dtype(x.view.dtype, k.view.dtype);
  View y;
  nb::object result = out_or_new(out, t, x.view.ndim, shape, &y);
  check_no_overlap(y, {&x.view, &k.view});
  {
    nb::gil_scoped_release release;
    signal_corr2d(x.view, k.view, y, m, b, fillvalue, convolve);
  }
  return result;
}

nb::object correlate2d_py(nb::handle in1, nb::handle in2, const std::string& mode,
                          const std::string& boundary, double fillvalue, nb::handle out) {
  return signal_py(in1, in2, mode, boundary, fillvalue, out, false);
}
nb::object convolve2d_py(nb::handle in1, nb::handle in2, const std::string& mode,
                         const std::string& boundary, double fillvalue, nb::handle out) {
  return signal_py(in1, in2, mode, boundary, fillvalue, out, true);
}

nb::object ndimage_py(nb::handle input, nb::handle weights, const std::string& mode, double cval,
                      int64_t origin0, int64_t origin1, bool convolve, nb::handle out) {
  Array x = as_array(input, "input");
  Array k = as_array(weights, "weights");
  const Border b = parse_ndimage_mode(mode);
  if (x.view.ndim != 2) throw ValueError("input: must be 2-D, got shape " + shape_str(x.view));
  const DType t = corr2d_result_dtype(x.view.dtype, k.view.dtype);
  View y;
  nb::object result = out_or_new(out, t, 2, x.view.shape, &y, "output");
  check_no_overlap(y, {&x.view, &k.view}, "output");
  const int64_t origin[2] = {origin0, origin1};
  {
    nb::gil_scoped_release release;
    ndimage_corr2d(x.view, k.view, y, b, cval, origin, convolve);
  }
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
    The value past the edges for boundary='fill'.
out : ndarray, optional
    Of the result's shape and dtype exactly (never converted), any strides, not overlapping
    the inputs.

Returns
-------
ndarray
    float32 when in1 and in2 are both float32 (computed in float32 with fused multiply-adds),
    float64 otherwise. Integer inputs are computed and returned in float64, whereas SciPy
    returns the integer dtype (which can overflow).

Raises
------
ValueError  a kernel that is not 2-D or is empty, in1 with fewer than 2 dimensions, an unknown
            mode or boundary, a 'valid' shape mismatch, a mismatched ``out`` shape or an
            ``out`` that overlaps an input.
TypeError   object, string, complex, bool or other unsupported dtypes; a wrong ``out`` dtype.
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
                "mode: str = 'full', boundary: str = 'fill', fillvalue: float = 0, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray"),
        nb::arg("in1").none(), nb::arg("in2").none(), nb::arg("mode") = "full",
        nb::arg("boundary") = "fill", nb::arg("fillvalue") = 0.0, nb::kw_only(),
        nb::arg("out").none() = nb::none(), corr_doc.c_str());
  m.def("convolve2d", &convolve2d_py,
        nb::sig("def convolve2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, "
                "mode: str = 'full', boundary: str = 'fill', fillvalue: float = 0, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray"),
        nb::arg("in1").none(), nb::arg("in2").none(), nb::arg("mode") = "full",
        nb::arg("boundary") = "fill", nb::arg("fillvalue") = 0.0, nb::kw_only(),
        nb::arg("out").none() = nb::none(), conv_doc.c_str());
  m.def(
      "_ndimage_corr2d", &ndimage_py,
      nb::sig("def _ndimage_corr2d(input: numpy.typing.ArrayLike, weights: numpy.typing.ArrayLike, "
              "mode: str, cval: float, origin0: int, origin1: int, convolve: bool, "
              "output: numpy.ndarray | None) -> numpy.ndarray"),
      nb::arg("input").none(), nb::arg("weights").none(), nb::arg("mode"), nb::arg("cval"),
      nb::arg("origin0"), nb::arg("origin1"), nb::arg("convolve"), nb::arg("output").none(),
      "The operator behind npfast.ndimage.correlate / convolve (see there).");
}

}  // namespace py
}  // namespace npfast
