// npfast._kernel_names(): the kernel each operator dispatches to now, for config().
#include <nanobind/stl/string.h>

#include "python/npfast/bind.h"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace py {

NPFAST_BIND(config) {
  m.def("_kernel_names", [] {
    nb::dict d;
    d["convert_u8_f32"] = elementwise::convert_kernel_name(DType::u8, DType::f32);
    d["convert_f64_f64"] = elementwise::convert_kernel_name(DType::f64, DType::f64);
    return d;
  });
}

}  // namespace py
}  // namespace npfast
