// The operators behind npfast.ndimage's 1-D linear filters (python/npfast/_filters.py does
// SciPy's argument handling and builds the multi-axis filters from these).
#include <string>

#include "npfast/error.hpp"
#include "npfast/ndimage.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

// _ndimage_support.MODES' codes are Border's values.
Border border_code(int mode) {
  if (mode < 0 || mode > static_cast<int>(Border::mirror))
    throw ValueError("mode: unknown border code " + std::to_string(mode));
  return static_cast<Border>(mode);
}

// The caller's output array (any supported dtype, input's shape) and a check that it is the
// input itself or does not overlap it.
View output_view(nb::handle output, const Array& x) {
  const DType t = as_array(output, "output").view.dtype;
  View y = check_out(output, t, x.view.ndim, x.view.shape, "output");
  bool same = y.data == x.view.data && y.dtype == x.view.dtype;
  for (int k = 0; same && k < y.ndim; ++k) same = y.strides[k] == x.view.strides[k];
  if (!same) check_no_overlap(y, {&x.view}, "output");
  return y;
}

void correlate1d_py(nb::handle input, nb::handle weights, int axis, nb::handle output, int mode,
                    double cval, int64_t origin) {
  Array x = as_array(input, "input");
  Array w = as_array(weights, "weights");
  if (w.view.ndim != 1 || w.view.dtype != DType::f64 || !w.view.c_contiguous())
    throw TypeError("weights: must be a contiguous 1-D float64 array");
  const View y = output_view(output, x);
  const Border b = border_code(mode);
  nb::gil_scoped_release release;
  correlate1d(x.view, w.view.ptr<double>(), w.view.shape[0], axis, y, b, cval, origin);
}

void uniform_filter1d_py(nb::handle input, int64_t size, int axis, nb::handle output, int mode,
                         double cval, int64_t origin) {
  Array x = as_array(input, "input");
  const View y = output_view(output, x);
  const Border b = border_code(mode);
  nb::gil_scoped_release release;
  uniform_filter1d(x.view, size, axis, y, b, cval, origin);
}

}  // namespace

NPFAST_BIND(filters) {
  m.def("_correlate1d", &correlate1d_py,
        nb::sig("def _correlate1d(input: numpy.ndarray, weights: numpy.ndarray, axis: int, "
                "output: numpy.ndarray, mode: int, cval: float, origin: int) -> None"),
        nb::arg("input").none(), nb::arg("weights").none(), nb::arg("axis"),
        nb::arg("output").none(), nb::arg("mode"), nb::arg("cval"), nb::arg("origin"),
        "The operator behind npfast.ndimage.correlate1d (see there): writes `output`.");
  m.def("_uniform_filter1d", &uniform_filter1d_py,
        nb::sig("def _uniform_filter1d(input: numpy.ndarray, size: int, axis: int, "
                "output: numpy.ndarray, mode: int, cval: float, origin: int) -> None"),
        nb::arg("input").none(), nb::arg("size"), nb::arg("axis"), nb::arg("output").none(),
        nb::arg("mode"), nb::arg("cval"), nb::arg("origin"),
        "The operator behind npfast.ndimage.uniform_filter1d (see there): writes `output`.");
}

}  // namespace py
}  // namespace npfast
