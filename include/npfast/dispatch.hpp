// Instruction-set dispatch.
//
// Every kernel family is compiled once per ISA (reference, AVX2+FMA, AVX-512, and later NEON)
// into separate files with their own flags. At start-up the CPU is asked what it supports and
// the widest ISA is chosen; the environment variable NPFAST_ISA=scalar|avx2|avx512 caps the
// choice so every path can be tested on one machine. The kernel registry (src/core/registry.h)
// resolves each family's table for the active ISA, falling back to a narrower ISA the family
// provides, once per ISA change.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace npfast {

// Ordered from narrowest to widest within an architecture: a CPU that supports one supports
// those before it on the same architecture.
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, neon = 3 };
constexpr int kNumIsas = 4;

const char* isa_name(Isa isa);
// Parses "scalar", "avx2", "avx512", "neon"; throws ValueError naming `what` otherwise.
Isa parse_isa(const std::string& name, const char* what);

// ISAs this CPU (and OS) can run, narrowest first; always includes scalar.
const std::vector<Isa>& isas_available();
// True when this CPU (and OS) can run `isa`.
bool isa_supported(Isa isa);
// The ISA kernels use now: the widest available, capped by NPFAST_ISA at start-up.
Isa active_isa();
// Caps the ISA (tests and benchmarks). Throws ValueError if the CPU cannot run `isa`.
void set_active_isa(Isa isa);

// Bytes of the last-level cache a core shares with its complex (CPUID's cache parameters: leaf 4
// on Intel, leaf 0x8000001D on AMD; Zen 5: the CCD's 32 MiB, where the OS may report the
// socket's total), or 0 when unknown. For store policies that depend on what fits.
size_t l3_cache_bytes();

}  // namespace npfast
