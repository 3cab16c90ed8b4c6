// Helpers for the per-family Google Benchmark files (src/kernels/<family>/bench.cc): each case
// runs once per ISA the CPU runs that the family has a table for, named by the kernel's name.
#pragma once

#include <benchmark/benchmark.h>

#include <string>
#include <type_traits>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {

// Registers `run(state, table)` as `<base>__<isa>/<what>` for every such ISA. `base` is the
// kernel's name without the ISA (NPFAST_KERNEL_BASE(Table, field)), or a function of the table
// giving it (GEMM's tile differs per ISA). Returns true, for a static.
template <class Table, class Base, class Run>
bool register_per_isa(Base base, const std::string& what, Run run) {
  for (Isa isa : kernel_isas<Table>()) {
    const Table* t = kernels<Table>(isa);
    std::string name;
    if constexpr (std::is_invocable_v<Base, const Table&>)
      name = base(*t);
    else
      name = base;
    benchmark::RegisterBenchmark((kernel_name(name, isa) + "/" + what).c_str(),
                                 [t, run](benchmark::State& state) { run(state, *t); });
  }
  return true;
}

// Per-iteration work as a rate counter, printed with SI prefixes: "FLOP=114.8G/s" (GFLOP/s),
// "bytes=39.9G/s" (GB/s).
inline void set_rate(benchmark::State& state, const char* name, double per_iteration) {
  state.counters[name] =
      benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace npfast
