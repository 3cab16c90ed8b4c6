// CPU feature detection and the active-ISA setting.
#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace {

#if defined(__x86_64__) || defined(_M_X64)
// CPUID leaf 1 / leaf 7 bits, and XCR0: the OS must save YMM (bits 1-2) for AVX2 and
// opmask/ZMM (bits 5-7) for AVX-512, or the instructions fault even if the CPU has them.
bool x86_features(bool* avx2, bool* avx512) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28),
             f16c = c & (1u << 29);
  if (!osxsave || !avx) return false;
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  const bool os_ymm = (xlo & 0x6u) == 0x6u, os_zmm = (xlo & 0xe6u) == 0xe6u;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  const bool has_avx2 = b & (1u << 5), bmi2 = b & (1u << 8), f = b & (1u << 16),
             dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  *avx2 = os_ymm && has_avx2 && fma && f16c && bmi2;
  *avx512 = *avx2 && os_zmm && f && dq && bw && vl;
  return true;
}
#endif

// The largest data or unified cache level's size from the deterministic cache parameters leaf
// (4 on Intel, 0x8000001D on AMD; same layout), 0 where the leaf is missing.
size_t x86_last_level_cache() {
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  const bool amd = b == 0x68747541u;  // "Auth" of AuthenticAMD
  const unsigned max = amd ? __get_cpuid_max(0x80000000u, nullptr) : a;
  const unsigned leaf = amd ? 0x8000001Du : 4u;
  if (max < leaf) return 0;
  size_t best = 0;
  for (unsigned i = 0; i < 16; ++i) {
    __cpuid_count(leaf, i, a, b, c, d);
    const unsigned type = a & 31u;  // 0: no more levels; 1 data, 2 instruction, 3 unified
    if (type == 0) break;
    if (type == 2) continue;
    const size_t ways = ((b >> 22) & 1023u) + 1, parts = ((b >> 12) & 1023u) + 1,
                 line = (b & 4095u) + 1, sets = size_t{c} + 1;
    best = std::max(best, ways * parts * line * sets);
  }
  return best;
}

std::vector<Isa> detect() {
  std::vector<Isa> isas{Isa::scalar};
#if defined(__x86_64__) || defined(_M_X64)
  bool avx2 = false, avx512 = false;
  if (x86_features(&avx2, &avx512)) {
    if (avx2) isas.push_back(Isa::avx2);
    if (avx512) isas.push_back(Isa::avx512);
  }
#elif defined(__aarch64__)
  isas.push_back(Isa::neon);  // NEON is baseline on aarch64; no kernels yet, scalar fallback
#endif
  return isas;
}

}  // namespace

bool tune_amd() {
  static const bool amd = [] {
    if (const char* env = std::getenv("NPFAST_TUNE"); env && *env) {
      const std::string v(env);
      if (v == "amd") return true;
      if (v == "intel") return false;
      // Anything else: the CPU's own, said as the other variables are (an exception here
      // would leave a worker thread).
      std::fprintf(stderr, "npfast: ignoring NPFAST_TUNE=%s (expected amd or intel)\n", env);
    }
#if defined(__x86_64__) || defined(_M_X64)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
    return b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;  // "Auth" "enti" "cAMD"
#else
    return false;
#endif
  }();
  return amd;
}

Isa initial_isa() {
  Isa best = isas_available().back();
  if (const char* env = std::getenv("NPFAST_ISA"); env && *env) {
    Isa cap = parse_isa(env, "NPFAST_ISA");
    // A cap above what the CPU has is not an error: the variable is a cap, not a demand.
    if (isa_supported(cap))
      best = cap;
    else if (cap == Isa::scalar)
      best = Isa::scalar;
    else if (cap == Isa::avx2 && best == Isa::avx512)
      best = Isa::avx2;
  }
  return best;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
  }
  return "?";
}

Isa parse_isa(const std::string& name, const char* what) {
  for (int i = 0; i < kNumIsas; ++i)
    if (name == isa_name(static_cast<Isa>(i))) return static_cast<Isa>(i);
  throw ValueError(std::string(what) + ": must be one of scalar, avx2, avx512, neon; got '" + name +
                   "'");
}

const std::vector<Isa>& isas_available() {
  static const std::vector<Isa> isas = detect();
  return isas;
}

bool isa_supported(Isa isa) {
  for (Isa i : isas_available())
    if (i == isa) return true;
  return false;
}

size_t l3_cache_bytes() {
#if defined(__x86_64__) || defined(_M_X64)
  static const size_t bytes = x86_last_level_cache();
  return bytes;
#else
  return 0;
#endif
}

Isa active_isa() { return registry::active().isa; }

void set_active_isa(Isa isa) {
  if (!isa_supported(isa))
    throw ValueError(std::string("isa: this CPU cannot run '") + isa_name(isa) + "'");
  registry::activate(isa);
}

}  // namespace npfast
