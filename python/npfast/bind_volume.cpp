// The operators behind npfast.ndimage's separable filters on volumes (python/npfast/_volume.py).
#include "npfast/error.hpp"
#include "npfast/ndimage_volume.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

void correlate1d_volume_py(nb::handle input, nb::handle w0, nb::handle w1, nb::handle w2, int mode0,
                           int mode1, int mode2, nb::handle output, double cval) {
  Array x = as_array(input, "input");
  const Array a[3] = {as_array(w0, "weights"), as_array(w1, "weights"), as_array(w2, "weights")};
  const double* w[3];
  int64_t n[3];
  for (int k = 0; k < 3; ++k) {
    if (a[k].view.ndim != 1 || a[k].view.dtype != DType::f64 || !a[k].view.c_contiguous())
      throw TypeError("weights: must be a contiguous 1-D float64 array");
    w[k] = a[k].view.ptr<double>();
    n[k] = a[k].view.shape[0];
  }
  const View y = ndimage_output(output, x);
  const Border b[3] = {border_code(mode0), border_code(mode1), border_code(mode2)};
  ReleaseGil release;
  correlate1d_volume(x.view, w, n, b, y, cval);
}

void uniform_filter_volume_py(nb::handle input, int64_t size0, int64_t size1, int64_t size2,
                              int64_t origin0, int64_t origin1, int64_t origin2, int mode0,
                              int mode1, int mode2, nb::handle output, double cval) {
  Array x = as_array(input, "input");
  const View y = ndimage_output(output, x);
  const int64_t size[3] = {size0, size1, size2}, origin[3] = {origin0, origin1, origin2};
  const Border b[3] = {border_code(mode0), border_code(mode1), border_code(mode2)};
  ReleaseGil release;
  uniform_filter_volume(x.view, size, origin, b, y, cval);
}

}  // namespace

NPFAST_BIND(volume) {
  m.def("_correlate1d_volume", &correlate1d_volume_py,
        nb::sig("def _correlate1d_volume(input: numpy.ndarray, w0: numpy.ndarray, "
                "w1: numpy.ndarray, w2: numpy.ndarray, mode0: int, mode1: int, mode2: int, "
                "output: numpy.ndarray, cval: float) -> None"),
        nb::arg("input").none(), nb::arg("w0").none(), nb::arg("w1").none(), nb::arg("w2").none(),
        nb::arg("mode0"), nb::arg("mode1"), nb::arg("mode2"), nb::arg("output").none(),
        nb::arg("cval"),
        "Three correlate1d passes (origin 0) over a 3-D array, along axes 0, 1, 2 in turn, "
        "into `output`; fused into one sweep where possible (npfast::correlate1d_volume).");
  m.def("_uniform_filter_volume", &uniform_filter_volume_py,
        nb::sig("def _uniform_filter_volume(input: numpy.ndarray, size0: int, size1: int, "
                "size2: int, origin0: int, origin1: int, origin2: int, mode0: int, mode1: int, "
                "mode2: int, output: numpy.ndarray, cval: float) -> None"),
        nb::arg("input").none(), nb::arg("size0"), nb::arg("size1"), nb::arg("size2"),
        nb::arg("origin0"), nb::arg("origin1"), nb::arg("origin2"), nb::arg("mode0"),
        nb::arg("mode1"), nb::arg("mode2"), nb::arg("output").none(), nb::arg("cval"),
        "Three uniform_filter1d passes over a 3-D array, along axes 0, 1, 2 in turn, into "
        "`output`; fused into one sweep where possible (npfast::uniform_filter_volume).");
}

}  // namespace py
}  // namespace npfast
