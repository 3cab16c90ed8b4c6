// Machine-limit probes: the kernels the benchmark report uses to measure this machine's peak
// FLOP/s and streaming bandwidth, so every later row can say what fraction of the limit it
// reaches. Same ISA split as the real kernels, so the peak is the peak of the path in use.
#pragma once

#include <cstdint>

#include "src/core/registry.h"

namespace npfast {
namespace limits {

// Runs `iters` iterations of independent FMA chains (enough to cover FMA latency x pipes)
// and returns the number of floating-point operations done (2 per lane per FMA). The result
// of the chains is written to *sink so the work cannot be optimised away.
using FmaLoopFn = int64_t (*)(int64_t iters, double* sink);

// Sums n doubles (a read-only stream); returns the sum.
using ReadFn = double (*)(const double* x, int64_t n);
// Writes n copies of v with non-temporal stores where the ISA has them (a write-only stream).
using WriteFn = void (*)(double* y, int64_t n, double v);

// The family's probes (kernels.inc). One constant per ISA, table_<isa> (src/core/kernels.inc),
// defined in reference.cc and x86_*.cc; looked up by kernels<Table>().
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/limits/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace limits
}  // namespace npfast
