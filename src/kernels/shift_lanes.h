// Run-time lane shifts, for kernels that store several output rows at once with non-temporal
// stores: the loop's registers line up with one row's aligned addresses, and a row whose
// alignment differs by d lanes stores each register joined with the previous one (shift_var)
// at its own aligned address, its first d outputs and the last register's rest plainly
// (store_lanes). Used by row_stores.h (the filter1d, corr2d and rank families' shifted row
// stores) and rank's lines kernel. Included by a family's generic.h after the ISA header, with
// NPFAST_TARGET defined: the bodies depend on the ISA, so they live in its namespace.
#ifndef NPFAST_KERNELS_SHIFT_LANES_H_
#define NPFAST_KERNELS_SHIFT_LANES_H_

#include <cstdint>
#include <cstring>

namespace npfast {
namespace NPFAST_TARGET {

// idx for shift_var with a shift of d elements of T, R a register of the ISA: the 32-bit lane
// numbers d * sizeof(T) / 4 + 0, 1, ...
template <class T, class R>
inline R shift_index(int64_t d) {
  int32_t idx[sizeof(R) / 4];
  for (int l = 0; l < static_cast<int>(sizeof(R) / 4); ++l)
    idx[l] = static_cast<int32_t>(d * static_cast<int64_t>(sizeof(T)) / 4 + l);
  R r;
  std::memcpy(&r, idx, sizeof r);
  return r;
}

// Lanes d .. d + L - 1 of the concatenation a:b for a shift d known only at run time, given as
// idx = shift_index(d): one vpermt2d on AVX-512, two vpermd and a blend on AVX2.
template <class R>
inline R shift_var(R a, R b, R idx) {
#if defined(__AVX512F__)
  static_assert(sizeof(R) == 64);
  return reinterpret_cast<R>(_mm512_permutex2var_epi32(
      reinterpret_cast<__m512i>(a), reinterpret_cast<__m512i>(idx), reinterpret_cast<__m512i>(b)));
#else
  static_assert(sizeof(R) == 32);
  const __m256i i = reinterpret_cast<__m256i>(idx);
  const __m256 lo = _mm256_permutevar8x32_ps(reinterpret_cast<__m256>(a), i);
  const __m256 hi = _mm256_permutevar8x32_ps(reinterpret_cast<__m256>(b), i);
  const __m256 from_b = _mm256_castsi256_ps(_mm256_cmpgt_epi32(i, _mm256_set1_epi32(7)));
  return reinterpret_cast<R>(_mm256_blendv_ps(lo, hi, from_b));
#endif
}

// A register R of T holding src[0, n) in its first n lanes and zeros above (0 <= n < the
// lanes), reading nothing past src + n: one masked load where the ISA has one for T (AVX-512BW
// any T, AVX2 4- and 8-byte T). A copy to a zeroed buffer read back whole stalled on the store
// forwarding (median_square's row ends: 45% of a 16^2 3x3 median's time on Zen 4).
template <class T, class R>
inline R load_lanes(const T* src, int64_t n) {
  R r;
#if defined(__AVX512BW__)
  static_assert(sizeof(R) == 64);
  const __mmask64 k = (__mmask64{1} << (static_cast<unsigned>(n) * sizeof(T))) - 1;
  const __m512i v = _mm512_maskz_loadu_epi8(k, src);
  std::memcpy(&r, &v, sizeof r);
#else
  static_assert(sizeof(R) == 32);
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    constexpr int kLanes32 = 8;
    int32_t m[kLanes32];
    const int64_t words = n * static_cast<int64_t>(sizeof(T)) / 4;
    for (int l = 0; l < kLanes32; ++l) m[l] = l < words ? -1 : 0;
    __m256i mask;
    std::memcpy(&mask, m, sizeof mask);
    const __m256i v = _mm256_maskload_epi32(reinterpret_cast<const int*>(src), mask);
    std::memcpy(&r, &v, sizeof r);
  } else {
    T part[sizeof(R) / sizeof(T)] = {};
    std::memcpy(part, src, static_cast<size_t>(n) * sizeof(T));
    std::memcpy(&r, part, sizeof r);
  }
#endif
  return r;
}

// Lanes [from, to) of x, a register of T, stored plainly at dst + from.
template <class T, class R>
inline void store_lanes(T* dst, R x, int64_t from, int64_t to) {
  T copy[sizeof(R) / sizeof(T)];
  std::memcpy(copy, &x, sizeof copy);
  const size_t bytes = static_cast<size_t>(to - from) * sizeof(T);
  // At most a register: GCC then copies inline, where a call of memcpy (the bound lost through
  // RowStores' members) spilled the callers' live accumulators around it.
  if (bytes > sizeof(R)) __builtin_unreachable();
  std::memcpy(dst + from, copy + from, bytes);
}

}  // namespace NPFAST_TARGET
}  // namespace npfast

#endif  // NPFAST_KERNELS_SHIFT_LANES_H_
