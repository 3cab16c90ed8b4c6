// Measures this machine's limits with npfast's own kernels, on all npfast threads and the
// active ISA: what the benchmark report divides by.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {

// Peak floating-point operations per second (FMA = 2), float32 or float64.
double measure_peak_flops(DType dtype, double seconds);
// Streaming bandwidth in bytes/s over a `bytes`-sized warm buffer: read-only (a sum) and
// write-only (non-temporal stores).
double measure_read_bandwidth(int64_t bytes, int repeats);
double measure_write_bandwidth(int64_t bytes, int repeats);
// Bytes/s writing memory fresh from the OS (page faults included): mmap, write once, unmap.
double measure_first_touch_bandwidth(int64_t bytes);

}  // namespace npfast
