// SIMD probes, instantiated per ISA (see src/core/simd/README.md). No include guard.
#include <cstdint>

#include "src/kernels/limits/limits.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace limits {

// 12 independent accumulators: more than FMA latency (4) x FMA pipes (2) on current x86 cores.
template <class T>
int64_t fma_loop(int64_t iters, double* sink) {
  constexpr int kChains = 12;
  V<T> acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = set1<T>(T(1) + T(j) * T(1e-3));
  const V<T> m = set1<T>(T(0.999999)), c = set1<T>(T(1e-7));
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kChains; ++j) acc[j] = fma(acc[j], m, c);
  }
  V<T> s = acc[0];
  for (int j = 1; j < kChains; ++j) s = add(s, acc[j]);
  alignas(64) T lanes[kLanes<T>];
  store(lanes, s);
  double total = 0;
  for (T v : lanes) total += v;
  *sink = total;
  return iters * kChains * kLanes<T> * 2;
}

inline double read(const double* x, int64_t n) {
  constexpr int L = kLanes<double>;
  V<double> s0 = zero<double>(), s1 = zero<double>(), s2 = zero<double>(), s3 = zero<double>();
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    s0 = add(s0, load(x + i));
    s1 = add(s1, load(x + i + L));
    s2 = add(s2, load(x + i + 2 * L));
    s3 = add(s3, load(x + i + 3 * L));
  }
  alignas(64) double lanes[L];
  store(lanes, add(add(s0, s1), add(s2, s3)));
  double total = 0;
  for (double v : lanes) total += v;
  for (; i < n; ++i) total += x[i];
  return total;
}

inline void write(double* y, int64_t n, double v) {
  constexpr int L = kLanes<double>;
  const V<double> vv = set1<double>(v);
  int64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(y + i) % 64) != 0; ++i) y[i] = v;
  for (; i + L <= n; i += L) stream(y + i, vv);
  for (; i < n; ++i) y[i] = v;
  stream_fence();
}

inline constexpr npfast::limits::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/limits/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace limits
}  // namespace NPFAST_TARGET
}  // namespace npfast
