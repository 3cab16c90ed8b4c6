// The pack family's bodies (contract: pack.h): 4x4 (float) and 2x2 (double) register
// transposes with SSE2, element by element at the edges and without SSE2. A strided scalar
// loop here cost 6% of a ResNet 3x3 layer (docs/conv.md).
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include "src/kernels/pack/pack.h"

namespace npfast {
namespace pack {
namespace detail {

template <class T>
inline void transpose_scalar(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) d[j * ds + i] = s[i * ss + j];
}

template <class T>
inline void pack_rows6_scalar(const T* x, int64_t ld, int64_t p, int64_t kc, T* dst) {
  for (; p < kc; ++p)
    for (int i = 0; i < 6; ++i) dst[p * 6 + i] = x[i * ld + p];
}

}  // namespace detail

template <class T>
inline void transpose(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
#if defined(__SSE2__)
  constexpr int B = sizeof(T) == 4 ? 4 : 2;
  const int64_t r4 = rows / B * B, c4 = cols / B * B;
  for (int64_t i = 0; i < r4; i += B) {
    for (int64_t j = 0; j < c4; j += B) {
      const T* sp = s + i * ss + j;
      T* dp = d + j * ds + i;
      // The next B rows, a cache line ahead of their use: each row is only a K block long
      // (2-3 KB), too short for the hardware prefetcher to ramp up (GEMM A packing at 2000^2:
      // 10% less time).
      if ((j & (64 / static_cast<int64_t>(sizeof(T)) - 1)) == 0 && i + 2 * B <= rows)
        for (int r = 0; r < B; ++r)
          _mm_prefetch(reinterpret_cast<const char*>(sp + (B + r) * ss), _MM_HINT_T0);
      if constexpr (sizeof(T) == 4) {
        __m128 a0 = _mm_loadu_ps(sp), a1 = _mm_loadu_ps(sp + ss);
        __m128 a2 = _mm_loadu_ps(sp + 2 * ss), a3 = _mm_loadu_ps(sp + 3 * ss);
        _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
        _mm_storeu_ps(dp, a0);
        _mm_storeu_ps(dp + ds, a1);
        _mm_storeu_ps(dp + 2 * ds, a2);
        _mm_storeu_ps(dp + 3 * ds, a3);
      } else {
        const __m128d u = _mm_loadu_pd(sp), v = _mm_loadu_pd(sp + ss);
        _mm_storeu_pd(dp, _mm_unpacklo_pd(u, v));
        _mm_storeu_pd(dp + ds, _mm_unpackhi_pd(u, v));
      }
    }
    detail::transpose_scalar(s + i * ss + c4, ss, d + c4 * ds + i, ds, B, cols - c4);
  }
  int64_t r = r4;
  if constexpr (sizeof(T) == 4) {
    // Two rows left (AVX-512's MR = 14 packs A this way): by pairs, 4 columns at a time.
    // Element by element they were a seventh of the panel, copied at scalar speed.
    if (rows - r4 >= 2) {
      const T* s0 = s + r4 * ss;
      for (int64_t j = 0; j < c4; j += 4) {
        const __m128 u = _mm_loadu_ps(s0 + j), v = _mm_loadu_ps(s0 + ss + j);
        const __m128 lo = _mm_unpacklo_ps(u, v), hi = _mm_unpackhi_ps(u, v);
        T* dp = d + j * ds + r4;
        _mm_storel_pi(reinterpret_cast<__m64*>(dp), lo);
        _mm_storeh_pi(reinterpret_cast<__m64*>(dp + ds), lo);
        _mm_storel_pi(reinterpret_cast<__m64*>(dp + 2 * ds), hi);
        _mm_storeh_pi(reinterpret_cast<__m64*>(dp + 3 * ds), hi);
      }
      detail::transpose_scalar(s0 + c4, ss, d + c4 * ds + r4, ds, 2, cols - c4);
      r += 2;
    }
  }
  detail::transpose_scalar(s + r * ss, ss, d + r, ds, rows - r, cols);
#else
  detail::transpose_scalar(s, ss, d, ds, rows, cols);
#endif
}

template <class T>
inline void pack_rows6(const T* x, int64_t ld, int64_t kc, T* dst) {
  int64_t p = 0;
#if defined(__SSE2__)
  constexpr int B = sizeof(T) == 4 ? 4 : 2;
  const T* r[6];
  for (int i = 0; i < 6; ++i) r[i] = x + i * ld;
  for (; p + B <= kc; p += B) {
    T* d = dst + p * 6;
    if constexpr (sizeof(T) == 4) {
      // Rows 0-3 by a 4x4 transpose, rows 4-5 by pairs.
      __m128 a0 = _mm_loadu_ps(r[0] + p), a1 = _mm_loadu_ps(r[1] + p);
      __m128 a2 = _mm_loadu_ps(r[2] + p), a3 = _mm_loadu_ps(r[3] + p);
      _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
      const __m128 b4 = _mm_loadu_ps(r[4] + p), b5 = _mm_loadu_ps(r[5] + p);
      const __m128 lo = _mm_unpacklo_ps(b4, b5), hi = _mm_unpackhi_ps(b4, b5);
      _mm_storeu_ps(d, a0);
      _mm_storel_pi(reinterpret_cast<__m64*>(d + 4), lo);
      _mm_storeu_ps(d + 6, a1);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d + 10), lo);
      _mm_storeu_ps(d + 12, a2);
      _mm_storel_pi(reinterpret_cast<__m64*>(d + 16), hi);
      _mm_storeu_ps(d + 18, a3);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d + 22), hi);
    } else {
      for (int i = 0; i < 6; i += 2) {
        const __m128d u = _mm_loadu_pd(r[i] + p), v = _mm_loadu_pd(r[i + 1] + p);
        _mm_storeu_pd(d + i, _mm_unpacklo_pd(u, v));
        _mm_storeu_pd(d + 6 + i, _mm_unpackhi_pd(u, v));
      }
    }
  }
#endif
  detail::pack_rows6_scalar(x, ld, p, kc, dst);
}

}  // namespace pack
}  // namespace npfast
