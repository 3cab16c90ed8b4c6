// Configuration, threads and ISA control; the C symbols threadpoolctl calls.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "npfast/config.hpp"
#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "python/npfast/bind.h"

// threadpoolctl's controller (npfast/_threadpoolctl.py) finds these in the loaded extension
// with ctypes, as it does openblas_get_num_threads in OpenBLAS.
extern "C" __attribute__((visibility("default"))) int npfast_get_num_threads(void) {
  return npfast::get_num_threads();
}
extern "C" __attribute__((visibility("default"))) void npfast_set_num_threads(int n) {
  if (n < 1) n = 1;
  if (n > npfast::kMaxThreads) n = npfast::kMaxThreads;
  npfast::set_num_threads(n);
}
extern "C" __attribute__((visibility("default"))) const char* npfast_get_version(void) {
  return npfast::version();
}

namespace npfast {
namespace py {

NPFAST_BIND(core) {
  m.attr("__version__") = version();
  // config()["kernels"]: the kernel registry's names for the active ISA.
  m.def("_kernel_names", [] {
    nb::dict d;
    for (const auto& [op, name] : kernel_names()) d[op.c_str()] = name;
    return d;
  });
  // Tests only: lets calls run on more threads than cores (0: the usable cores again).
  m.def("_set_core_cap_for_testing", &set_core_cap_for_testing);
  m.def("get_num_threads", &get_num_threads,
        "Number of threads npfast kernels use (set_num_threads, NPFAST_NUM_THREADS,\n"
        "threadpoolctl; default: the cores this process may run on).");
  m.def(
      "set_num_threads",
      [](nb::handle n) {
        int64_t v = 0;
        try {
          v = int_arg(n, "n");
        } catch (const ValueError&) {  // beyond int64: the range message below
        }
        if (v < 1 || v > kMaxThreads)
          throw ValueError("n: must be between 1 and " + std::to_string(kMaxThreads) + ", got " +
                           py_repr(n));
        set_num_threads(static_cast<int>(v));
      },
      // None reaches the body (and its TypeError naming n); the signature says what is taken.
      nb::sig("def set_num_threads(n: int) -> None"), nb::arg("n").none(),
      "Set the number of threads npfast kernels use, 1 <= n <= 1024.\n\n"
      "A call runs on at most min(n, usable_cores()) threads, and small inputs on one\n"
      "(docs/threads.md). Raises TypeError if n is not an int and\n"
      "ValueError if it is out of range. threadpoolctl.threadpool_limits() also sets it.");
  // Benchmarks only: the pool's back-off counters (npfast/threads.hpp PoolCounters).
  m.def("_pool_counters", [] {
    const PoolCounters c = pool_counters();
    nb::dict d;
    d["threaded"] = c.threaded;
    d["losses"] = c.losses;
    d["serial"] = c.serial;
    return d;
  });
  // The atexit hook (ReleaseGil, bind.h): threads in or entering kernels park from now on;
  // the GIL let go for `grace_ms` so that threads waiting for it return to Python first.
  m.def("_exiting", &ReleaseGil::begin_exit, nb::arg("grace_ms"));
  m.attr("_max_threads") = kMaxThreads;  // the CLI checks --threads against it
  m.def("usable_cores", &usable_cores, "Cores this process may run on (sched_getaffinity).");
  m.def("_isa", [] { return std::string(isa_name(active_isa())); });
  m.def(
      "_set_isa", [](const std::string& name) { set_active_isa(parse_isa(name, "isa")); },
      nb::arg("isa"));
  m.def("_isas_available", [] {
    std::vector<std::string> names;
    for (Isa i : isas_available()) names.emplace_back(isa_name(i));
    return names;
  });
  m.def("_build_info", [] {
    nb::dict d;
    d["version"] = version();
    d["compiler"] = compiler();
    d["build_type"] = build_type();
    // What the streaming thresholds follow (0: unknown); compare figures across machines by it.
    d["l3_cache_bytes"] = l3_cache_bytes();
    return d;
  });
}

}  // namespace py
}  // namespace npfast
