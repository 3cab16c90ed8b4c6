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
