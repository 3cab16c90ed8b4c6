// The operators behind npfast.ndimage's rank filters (python/npfast/_rank_filters.py does
// SciPy's argument handling and dispatch).
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/ndimage_rank.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

void minmax_filter1d_py(nb::handle input, int64_t size, int axis, nb::handle output, int mode,
                        double cval, int64_t origin, bool minimum) {
  Array x = as_array(input, "input");
  const View y = ndimage_output(output, x);
  const Border b = border_code(mode);
  ReleaseGil release;
  minmax_filter1d(x.view, size, axis, y, b, cval, origin, minimum);
}

bool minmax_filter2d_py(nb::handle input, const std::vector<int64_t>& size, nb::handle output,
                        const std::vector<int>& modes, double cval,
                        const std::vector<int64_t>& origin, bool minimum) {
  Array x = as_array(input, "input");
  const View y = ndimage_output(output, x);
  const size_t n = size.size();
  if ((n != 2 && n != 3) || modes.size() != n || origin.size() != n)
    throw ValueError("size, mode, origin: two or three each");
  Border b[3];
  for (size_t a = 0; a < n; ++a) b[a] = border_code(modes[a]);
  ReleaseGil release;
  return minmax_filter2d(x.view, size.data(), y, b, cval, origin.data(), minimum,
                         static_cast<int>(n));
}

void window_py(nb::handle input, nb::handle footprint, const std::vector<int64_t>& origins,
               int64_t rank, nb::handle output, int mode, double cval, int op) {
  Array x = as_array(input, "input");
  Array f = as_array(footprint, "footprint");
  const View y = ndimage_output(output, x);
  const Border b = border_code(mode);
  if (static_cast<int>(origins.size()) != x.view.ndim)
    throw ValueError("origin: one per input axis (" + std::to_string(x.view.ndim) + "), got " +
                     std::to_string(origins.size()));
  ReleaseGil release;
  if (op == 2)
    rank_filter(x.view, f.view, origins.data(), rank, y, b, cval);
  else
    minmax_footprint(x.view, f.view, origins.data(), y, b, cval, op == 0);
}

}  // namespace

NPFAST_BIND(rank) {
  m.def("_minmax_filter1d", &minmax_filter1d_py,
        nb::sig("def _minmax_filter1d(input: numpy.ndarray, size: int, axis: int, "
                "output: numpy.ndarray, mode: int, cval: float, origin: int, minimum: bool) "
                "-> None"),
        nb::arg("input").none(), nb::arg("size"), nb::arg("axis"), nb::arg("output").none(),
        nb::arg("mode"), nb::arg("cval"), nb::arg("origin"), nb::arg("minimum"),
        "The operator behind npfast.ndimage.minimum_filter1d / maximum_filter1d: writes "
        "`output`.");
  m.def("_set_minmax_sweep_bytes_for_testing", &set_minmax_sweep_bytes_for_testing);
  m.def("_minmax_filter2d", &minmax_filter2d_py,
        nb::sig("def _minmax_filter2d(input: numpy.ndarray, size: list[int], "
                "output: numpy.ndarray, modes: list[int], cval: float, origin: list[int], "
                "minimum: bool) -> bool"),
        nb::arg("input").none(), nb::arg("size"), nb::arg("output").none(), nb::arg("modes"),
        nb::arg("cval"), nb::arg("origin"), nb::arg("minimum"),
        "The fused 2-D separable minimum / maximum filter (both passes over bands of rows; "
        "with three sizes the pass along axis N-3 folded in first); False when the arrays do "
        "not fit it (then `output` may be partly written and the caller runs the passes).");
  m.def("_window_filter", &window_py,
        nb::sig("def _window_filter(input: numpy.ndarray, footprint: numpy.ndarray, "
                "origins: list[int], rank: int, output: numpy.ndarray, mode: int, cval: float, "
                "op: int) -> None"),
        nb::arg("input").none(), nb::arg("footprint").none(), nb::arg("origins"), nb::arg("rank"),
        nb::arg("output").none(), nb::arg("mode"), nb::arg("cval"), nb::arg("op"),
        "The footprint operators behind npfast.ndimage's rank filters: op 0 minimum, 1 maximum "
        "(SciPy's NI_MinOrMaxFilter), 2 the rank-th value (NI_RankFilter); writes `output`.");
}

}  // namespace py
}  // namespace npfast
