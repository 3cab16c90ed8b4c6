// Machine-limit probes for the benchmark report (private: npfast._npfast._measure_*).
#include "npfast/limits.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {

NPFAST_BIND(limits) {
  m.def(
      "_measure_peak_flops",
      [](nb::handle dtype, double seconds) {
        const DType t = as_dtype(dtype, "dtype");
        ReleaseGil release;
        return measure_peak_flops(t, seconds);
      },
      nb::arg("dtype").none(), nb::arg("seconds") = 0.2,
      "Peak FLOP/s of the active ISA's FMA loop on all npfast threads.");
  m.def(
      "_measure_bandwidth",
      [](int64_t bytes, int repeats) {
        double r, w;
        {
          ReleaseGil release;
          r = measure_read_bandwidth(bytes, repeats);
          w = measure_write_bandwidth(bytes, repeats);
        }
        nb::dict d;
        d["read"] = r;
        d["write"] = w;
        return d;
      },
      nb::arg("bytes") = int64_t{256} << 20, nb::arg("repeats") = 5,
      "Streaming read and write bandwidth (bytes/s) on all npfast threads.");
  m.def(
      "_measure_first_touch",
      [](int64_t bytes) {
        ReleaseGil release;
        return measure_first_touch_bandwidth(bytes);
      },
      nb::arg("bytes") = int64_t{256} << 20,
      "Bytes/s writing fresh memory from the OS (page faults included).");
}

}  // namespace py
}  // namespace npfast
