// The operators behind npfast.ndimage's 1-D linear filters (python/npfast/_filters.py does
// SciPy's argument handling and builds the multi-axis filters from these).
#include <string>

#include "npfast/error.hpp"
#include "npfast/ndimage.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

// Weights as _filters.py passes them: contiguous 1-D float64.
Array weights_array(nb::handle weights) {
  Array w = as_array(weights, "weights");
  if (w.view.ndim != 1 || w.view.dtype != DType::f64 || !w.view.c_contiguous())
    throw TypeError("weights: must be a contiguous 1-D float64 array");
  return w;
}

void correlate1d_py(nb::handle input, nb::handle weights, int axis, nb::handle output, int mode,
                    double cval, int64_t origin) {
  Array x = as_array(input, "input");
  const Array w = weights_array(weights);
  const View y = ndimage_output(output, x);
  const Border b = border_code(mode);
  ReleaseGil release;
  correlate1d(x.view, w.view.ptr<double>(), w.view.shape[0], axis, y, b, cval, origin);
}

void correlate1d_pair_py(nb::handle input, nb::handle w0, int axis0, int mode0, nb::handle w1,
                         int axis1, int mode1, nb::handle output, double cval) {
  Array x = as_array(input, "input");
  const Array a = weights_array(w0), b = weights_array(w1);
  const View y = ndimage_output(output, x);
  const Border b0 = border_code(mode0), b1 = border_code(mode1);
  ReleaseGil release;
  correlate1d_pair(x.view, a.view.ptr<double>(), a.view.shape[0], axis0, b0, b.view.ptr<double>(),
                   b.view.shape[0], axis1, b1, y, cval);
}

void uniform_filter_pair_py(nb::handle input, int64_t size0, int axis0, int mode0, int64_t origin0,
                            int64_t size1, int mode1, int64_t origin1, nb::handle output,
                            double cval) {
  Array x = as_array(input, "input");
  const View y = ndimage_output(output, x);
  const Border b0 = border_code(mode0), b1 = border_code(mode1);
  ReleaseGil release;
  uniform_filter_pair(x.view, size0, axis0, b0, origin0, size1, b1, origin1, y, cval);
}

void uniform_filter1d_py(nb::handle input, int64_t size, int axis, nb::handle output, int mode,
                         double cval, int64_t origin) {
  Array x = as_array(input, "input");
  const View y = ndimage_output(output, x);
  const Border b = border_code(mode);
  ReleaseGil release;
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
  m.def("_correlate1d_pair", &correlate1d_pair_py,
        nb::sig("def _correlate1d_pair(input: numpy.ndarray, w0: numpy.ndarray, axis0: int, "
                "mode0: int, w1: numpy.ndarray, axis1: int, mode1: int, output: numpy.ndarray, "
                "cval: float) -> None"),
        nb::arg("input").none(), nb::arg("w0").none(), nb::arg("axis0"), nb::arg("mode0"),
        nb::arg("w1").none(), nb::arg("axis1"), nb::arg("mode1"), nb::arg("output").none(),
        nb::arg("cval"),
        "Two correlate1d passes (origin 0): along axis0 into `output`, then along axis1 in "
        "`output`; fused over bands of rows where possible (npfast::correlate1d_pair).");
  m.def("_uniform_filter_pair", &uniform_filter_pair_py,
        nb::sig("def _uniform_filter_pair(input: numpy.ndarray, size0: int, axis0: int, "
                "mode0: int, origin0: int, size1: int, mode1: int, origin1: int, "
                "output: numpy.ndarray, cval: float) -> None"),
        nb::arg("input").none(), nb::arg("size0"), nb::arg("axis0"), nb::arg("mode0"),
        nb::arg("origin0"), nb::arg("size1"), nb::arg("mode1"), nb::arg("origin1"),
        nb::arg("output").none(), nb::arg("cval"),
        "Two uniform_filter1d passes: along axis0 into `output`, then along the last axis in "
        "`output`; fused over bands of rows where possible (npfast::uniform_filter_pair).");
  m.def("_uniform_filter1d", &uniform_filter1d_py,
        nb::sig("def _uniform_filter1d(input: numpy.ndarray, size: int, axis: int, "
                "output: numpy.ndarray, mode: int, cval: float, origin: int) -> None"),
        nb::arg("input").none(), nb::arg("size"), nb::arg("axis"), nb::arg("output").none(),
        nb::arg("mode"), nb::arg("cval"), nb::arg("origin"),
        "The operator behind npfast.ndimage.uniform_filter1d (see there): writes `output`.");
}

}  // namespace py
}  // namespace npfast
