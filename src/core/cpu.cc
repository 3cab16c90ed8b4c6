// CPU feature detection and the active-ISA setting.
#include <atomic>
#include <cstdlib>
#include <string>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"

namespace npfast {
namespace {

std::vector<Isa> detect() {
  std::vector<Isa> isas{Isa::scalar};
#if defined(__x86_64__) || defined(_M_X64)
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vl");
  if (avx2) isas.push_back(Isa::avx2);
  if (avx512) isas.push_back(Isa::avx512);
#elif defined(__aarch64__)
  isas.push_back(Isa::neon);  // NEON is baseline on aarch64; no kernels yet, scalar fallback
#endif
  return isas;
}

bool supported(Isa isa) {
  for (Isa i : isas_available())
    if (i == isa) return true;
  return false;
}

Isa initial_isa() {
  Isa best = isas_available().back();
  if (const char* env = std::getenv("NPFAST_ISA"); env && *env) {
    Isa cap = parse_isa(env, "NPFAST_ISA");
    // A cap above what the CPU has is not an error: the variable is a cap, not a demand.
    if (supported(cap)) best = cap;
    else if (cap == Isa::scalar) best = Isa::scalar;
    else if (cap == Isa::avx2 && best == Isa::avx512) best = Isa::avx2;
  }
  return best;
}

std::atomic<int>& active() {
  static std::atomic<int> isa{static_cast<int>(initial_isa())};
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "?";
}

Isa parse_isa(const std::string& name, const char* what) {
  for (int i = 0; i < kNumIsas; ++i)
    if (name == isa_name(static_cast<Isa>(i))) return static_cast<Isa>(i);
  throw ValueError(std::string(what) + ": must be one of scalar, avx2, avx512, neon; got '" +
                   name + "'");
}

const std::vector<Isa>& isas_available() {
  static const std::vector<Isa> isas = detect();
  return isas;
}

Isa active_isa() { return static_cast<Isa>(active().load(std::memory_order_relaxed)); }

void set_active_isa(Isa isa) {
  if (!supported(isa))
    throw ValueError(std::string("isa: this CPU cannot run '") + isa_name(isa) + "'");
  active().store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace npfast
