// Out-of-place transpose of a small tile, the data movement of the channels-last conv path:
// d[j * ds + i] = s[i * ss + j] for i < rows, j < cols. 4x4 (float) and 2x2 (double)
// register transposes with SSE2, which every x86-64 has; element by element elsewhere and at
// the edges. A strided scalar loop here cost 6% of a ResNet 3x3 layer (docs/conv.md).
#pragma once

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

namespace npfast {
namespace ops {

template <class T>
inline void transpose_scalar(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows,
                             int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) d[j * ds + i] = s[i * ss + j];
}

template <class T>
inline void transpose(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
#if defined(__SSE2__)
  constexpr int B = sizeof(T) == 4 ? 4 : 2;
  const int64_t r4 = rows / B * B, c4 = cols / B * B;
  for (int64_t i = 0; i < r4; i += B) {
    for (int64_t j = 0; j < c4; j += B) {
      const T* sp = s + i * ss + j;
      T* dp = d + j * ds + i;
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
    transpose_scalar(s + i * ss + c4, ss, d + c4 * ds + i, ds, B, cols - c4);
  }
  transpose_scalar(s + r4 * ss, ss, d + r4, ds, rows - r4, cols);
#else
  transpose_scalar(s, ss, d, ds, rows, cols);
#endif
}

}  // namespace ops
}  // namespace npfast
