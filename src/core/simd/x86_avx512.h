// AVX-512 (F/BW/DQ/VL) vocabulary; see README.md. Include only from x86_avx512*.cc files.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace npfast {
namespace avx512 {

template <class T>
struct VecOf;
template <>
struct VecOf<float> {
  using type = __m512;
};
template <>
struct VecOf<double> {
  using type = __m512d;
};
template <class T>
using V = typename VecOf<T>::type;
template <class T>
constexpr int kLanes = 64 / sizeof(T);
// Architectural vector registers, for sizing register tiles.
constexpr int kVectorRegisters = 32;

inline __m512 load(const float* p) { return _mm512_loadu_ps(p); }
inline __m512d load(const double* p) { return _mm512_loadu_pd(p); }
inline __mmask16 mask16(int n) { return static_cast<__mmask16>(_bzhi_u32(0xffffu, n)); }
inline __mmask8 mask8(int n) { return static_cast<__mmask8>(_bzhi_u32(0xffu, n)); }
inline __m512 loadn(const float* p, int n) { return _mm512_maskz_loadu_ps(mask16(n), p); }
inline __m512d loadn(const double* p, int n) { return _mm512_maskz_loadu_pd(mask8(n), p); }
inline void store(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
inline void store(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
inline void storen(float* p, __m512 v, int n) { _mm512_mask_storeu_ps(p, mask16(n), v); }
inline void storen(double* p, __m512d v, int n) { _mm512_mask_storeu_pd(p, mask8(n), v); }

template <class T>
V<T> set1(T x);
template <>
inline __m512 set1<float>(float x) {
  return _mm512_set1_ps(x);
}
template <>
inline __m512d set1<double>(double x) {
  return _mm512_set1_pd(x);
}
template <class T>
V<T> zero() {
  return set1<T>(T(0));
}

inline __m512 add(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
inline __m512d add(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
inline __m512 sub(__m512 a, __m512 b) { return _mm512_sub_ps(a, b); }
inline __m512d sub(__m512d a, __m512d b) { return _mm512_sub_pd(a, b); }
inline __m512 mul(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
inline __m512d mul(__m512d a, __m512d b) { return _mm512_mul_pd(a, b); }
inline __m512 fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
inline __m512d fma(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }

// NaN-propagating max/min (NaN if either input is NaN): x86 max returns the second operand
// when either is NaN, which covers a NaN in `b`; a NaN in `a` is blended back in.
inline __m512 max_nan(__m512 a, __m512 b) {
  return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}
inline __m512d max_nan(__m512d a, __m512d b) {
  return _mm512_mask_mov_pd(_mm512_max_pd(a, b), _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), a);
}
inline __m512 min_nan(__m512 a, __m512 b) {
  return _mm512_mask_mov_ps(_mm512_min_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}
inline __m512d min_nan(__m512d a, __m512d b) {
  return _mm512_mask_mov_pd(_mm512_min_pd(a, b), _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), a);
}
// x86's max / min: the second operand where either is NaN (one instruction; for loops that
// track NaNs apart, as absmax).
inline __m512 max_raw(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
inline __m512d max_raw(__m512d a, __m512d b) { return _mm512_max_pd(a, b); }
inline __m512 min_raw(__m512 a, __m512 b) { return _mm512_min_ps(a, b); }
inline __m512d min_raw(__m512d a, __m512d b) { return _mm512_min_pd(a, b); }

// Non-temporal (streaming) stores: bypass the cache for outputs far larger than it; 64-byte
// aligned pointer required. stream_fence orders them before later stores.
inline void stream(float* p, __m512 v) { _mm512_stream_ps(p, v); }
inline void stream(double* p, __m512d v) { _mm512_stream_pd(p, v); }
inline void stream_fence() { _mm_sfence(); }

// Conversions through double: load_f64 reads kLanes<double> elements of any source type into
// a double vector; store_f64 writes one back as float, double, or uint8 (round half to even,
// saturate, NaN -> 0).
inline __m512d load_f64(const uint8_t* p) {
  return _mm512_cvtepi32_pd(
      _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m512d load_f64(const int8_t* p) {
  return _mm512_cvtepi32_pd(
      _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m512d load_f64(const uint16_t* p) {
  return _mm512_cvtepi32_pd(
      _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512d load_f64(const int16_t* p) {
  return _mm512_cvtepi32_pd(
      _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512d load_f64(const int32_t* p) {
  return _mm512_cvtepi32_pd(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512d load_f64(const int64_t* p) { return _mm512_cvtepi64_pd(_mm512_loadu_si512(p)); }
inline __m512d load_f64(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
inline __m512d load_f64(const double* p) { return _mm512_loadu_pd(p); }

inline void store_f64(double* p, __m512d v) { _mm512_storeu_pd(p, v); }
inline void store_f64(float* p, __m512d v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
inline void store_f64(uint8_t* p, __m512d v) {
  // max(v, 0) returns 0 for NaN (the second operand), then clamp and convert (nearest even).
  v = _mm512_min_pd(_mm512_max_pd(v, _mm512_setzero_pd()), _mm512_set1_pd(255.0));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(v)));
}

// store_trunc: kLanes<double> doubles as C casts them to a type of at most 32 bits
// (elementwise.h, trunc): truncated toward zero into int32 (vcvttpd2dq: INT32_MIN for NaN and
// anything outside int32, as the scalar cvttsd2si), then the low 8 / 16 / 32 bits (vpmovd*).
inline void store_trunc(int32_t* p, __m512d v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvttpd_epi32(v));
}
inline void store_trunc(int16_t* p, __m512d v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtepi32_epi16(_mm512_cvttpd_epi32(v)));
}
inline void store_trunc(uint16_t* p, __m512d v) { store_trunc(reinterpret_cast<int16_t*>(p), v); }
inline void store_trunc(int8_t* p, __m512d v) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm256_cvtepi32_epi8(_mm512_cvttpd_epi32(v)));
}
inline void store_trunc(uint8_t* p, __m512d v) { store_trunc(reinterpret_cast<int8_t*>(p), v); }

// ---- pool family ----
// Lanes where a > b or a is NaN: the replace rule of PyTorch's max-pooling scan.
inline __mmask16 gt_or_nan(__m512 a, __m512 b) {
  return static_cast<__mmask16>(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ) |
                                _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q));
}
inline __mmask8 gt_or_nan(__m512d a, __m512d b) {
  return static_cast<__mmask8>(_mm512_cmp_pd_mask(a, b, _CMP_GT_OQ) |
                               _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q));
}
// m ? a : b, lane by lane, for a mask from a comparison.
inline __m512 select(__mmask16 m, __m512 a, __m512 b) { return _mm512_mask_blend_ps(m, b, a); }
inline __m512d select(__mmask8 m, __m512d a, __m512d b) { return _mm512_mask_blend_pd(m, b, a); }
// a > b lane by lane (ordered: false where either is NaN), as a mask for select.
inline __mmask16 gt(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline __mmask8 gt(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
// !(a <= b): a > b, or either is NaN.
inline __mmask16 not_le(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_NLE_UQ); }
inline __mmask8 not_le(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_NLE_UQ); }
inline __m512 div(__m512 a, __m512 b) { return _mm512_div_ps(a, b); }
inline __m512d div(__m512d a, __m512d b) { return _mm512_div_pd(a, b); }
// The even and odd elements of the 2*kLanes elements a:b, in order (see x86_avx2.h).
inline void deinterleave(__m512 a, __m512 b, __m512* even, __m512* odd) {
  const __m512i e = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  *even = _mm512_permutex2var_ps(a, e, b);
  *odd = _mm512_permutex2var_ps(a, _mm512_add_epi32(e, _mm512_set1_epi32(1)), b);
}
inline void deinterleave(__m512d a, __m512d b, __m512d* even, __m512d* odd) {
  const __m512i e = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  *even = _mm512_permutex2var_pd(a, e, b);
  *odd = _mm512_permutex2var_pd(a, _mm512_add_epi64(e, _mm512_set1_epi64(1)), b);
}
inline __m512 undo_deinterleave(__m512 v) { return v; }
inline __m512d undo_deinterleave(__m512d v) { return v; }
// p[l * s] for every lane l; (kLanes - 1) * s must fit in int32.
inline __m512 gather_stride(const float* p, int32_t s) {
  const __m512i i =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(s));
  return _mm512_i32gather_ps(i, p, 4);
}
inline __m512d gather_stride(const double* p, int32_t s) {
  const __m256i i =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(s));
  return _mm512_i32gather_pd(i, p, 8);
}
// The three interleaved streams of the 3*kLanes elements a:b:c: x_k[l] = element 3l + k.
inline void deinterleave3(__m512 a, __m512 b, __m512 c, __m512* x0, __m512* x1, __m512* x2) {
  const __m512i three_l =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(3));
  __m512* out[3] = {x0, x1, x2};
  for (int k = 0; k < 3; ++k) {
    const __m512i i = _mm512_add_epi32(three_l, _mm512_set1_epi32(k));
    const __mmask16 from_c = _mm512_cmpge_epi32_mask(i, _mm512_set1_epi32(32));
    const __m512 ab = _mm512_permutex2var_ps(a, i, b);
    *out[k] = _mm512_mask_permutexvar_ps(ab, from_c, _mm512_sub_epi32(i, _mm512_set1_epi32(32)), c);
  }
}
inline void deinterleave3(__m512d a, __m512d b, __m512d c, __m512d* x0, __m512d* x1, __m512d* x2) {
  const __m512i three_l = _mm512_setr_epi64(0, 3, 6, 9, 12, 15, 18, 21);
  __m512d* out[3] = {x0, x1, x2};
  for (int k = 0; k < 3; ++k) {
    const __m512i i = _mm512_add_epi64(three_l, _mm512_set1_epi64(k));
    const __mmask8 from_c = _mm512_cmpge_epi64_mask(i, _mm512_set1_epi64(16));
    const __m512d ab = _mm512_permutex2var_pd(a, i, b);
    *out[k] = _mm512_mask_permutexvar_pd(ab, from_c, _mm512_sub_epi64(i, _mm512_set1_epi64(16)), c);
  }
}
// An integer as the bit pattern of every lane: int32 in float lanes, int64 in double lanes
// (the argmax scan blends these alongside the values).
template <class T>
V<T> int_bits(int64_t v);
template <>
inline __m512 int_bits<float>(int64_t v) {
  return _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int32_t>(v)));
}
template <>
inline __m512d int_bits<double>(int64_t v) {
  return _mm512_castsi512_pd(_mm512_set1_epi64(v));
}
// dst[l] = base + l * step + (the integer held in lane l of v, see int_bits).
inline void store_index(int64_t* dst, __m512 v, int64_t base, int64_t step) {
  const __m512i i = _mm512_castps_si512(v);
  const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const __m512i b0 =
      _mm512_add_epi64(_mm512_set1_epi64(base), _mm512_mullo_epi64(lane, _mm512_set1_epi64(step)));
  const __m512i b1 = _mm512_add_epi64(b0, _mm512_set1_epi64(8 * step));
  _mm512_storeu_si512(dst, _mm512_add_epi64(b0, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(i))));
  _mm512_storeu_si512(dst + 8,
                      _mm512_add_epi64(b1, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(i, 1))));
}
inline void store_index(int64_t* dst, __m512d v, int64_t base, int64_t step) {
  const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const __m512i b0 =
      _mm512_add_epi64(_mm512_set1_epi64(base), _mm512_mullo_epi64(lane, _mm512_set1_epi64(step)));
  _mm512_storeu_si512(dst, _mm512_add_epi64(b0, _mm512_castpd_si512(v)));
}
// ---- end pool family ----
// --- elementwise / memory: non-temporal stores (the line bypasses the cache; p aligned to
// the store width). stream2_f64 writes what two store_f64 write; stream_fence orders them.
// Two vectors at once: a float result is one full 64-byte line.
inline void stream2_f64(double* p, __m512d a, __m512d b) {
  _mm512_stream_pd(p, a);
  _mm512_stream_pd(p + 8, b);
}
inline void stream2_f64(float* p, __m512d a, __m512d b) {
  _mm512_stream_ps(
      p, _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(a)), _mm512_cvtpd_ps(b), 1));
}
inline void stream2_f64(uint8_t* p, __m512d a, __m512d b) {
  store_f64(p, a);
  store_f64(p + 8, b);
}
inline void stream_zero64(void* p) {
  _mm512_stream_si512(static_cast<__m512i*>(p), _mm512_setzero_si512());
}
// The 64 bytes at src (any alignment) to the 64-byte aligned dst with a streaming store.
inline void stream_copy64(void* dst, const void* src) {
  _mm512_stream_si512(static_cast<__m512i*>(dst), _mm512_loadu_si512(src));
}
// kLanes<double> uint8 values at p[0], p[s], p[2 s], ... as doubles (32-bit gathers masked to
// the low byte: each lane reads 4 bytes, so p[(lanes-1) s + 3] must be readable).
inline __m512d load_f64_strided(const uint8_t* p, int32_t s) {
  const __m256i idx =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(s));
  const __m256i v = _mm256_i32gather_epi32(reinterpret_cast<const int*>(p), idx, 1);
  return _mm512_cvtepi32_pd(_mm256_and_si256(v, _mm256_set1_epi32(0xff)));
}
// The same for strides 3 and 4 (interleaved RGB / RGBA) with loads and byte shuffles; reads
// kStridedReadBytes bytes from p.
constexpr int kStridedReadBytes = 32;
inline __m512d load_f64_stride3(const uint8_t* p) {
  // Lanes 0-3 from p[0..11], lanes 4-7 from p[12..23]: one shuffle per 16-byte half.
  const __m256i v = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(p + 12),
                                        reinterpret_cast<const __m128i*>(p));
  const __m256i pick = _mm256_setr_epi8(0, 3, 6, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 3, 6, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);  // bytes 0-3 and 16-19
  const __m128i packed =
      _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
  return _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(packed));
}
inline __m512d load_f64_stride4(const uint8_t* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_cvtepi32_pd(_mm256_and_si256(v, _mm256_set1_epi32(0xff)));
}

// gemv: the lanes' sum, added in a fixed tree (high half onto low, down to one lane), so a
// given vector always sums to the same bits. The halves go through memory: GCC 12's 512 -> 256
// extracts and casts read an undefined register that -Werror=uninitialized rejects here.
inline float reduce_add(__m512 v) {
  alignas(64) float t[16];
  _mm512_store_ps(t, v);
  const __m256 h = _mm256_add_ps(_mm256_load_ps(t), _mm256_load_ps(t + 8));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline double reduce_add(__m512d v) {
  alignas(64) double t[8];
  _mm512_store_pd(t, v);
  const __m256d h = _mm256_add_pd(_mm256_load_pd(t), _mm256_load_pd(t + 4));
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

// Global average pool (pool::plane_means): the first n (< 8) elements as doubles, the other
// lanes zero; and lane r of the result the sum of v[r]'s lanes (v: 8 vectors), added in one
// fixed tree ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) whatever the other vectors hold.
inline __m512d loadn_f64(const float* p, int n) {
  return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(mask8(n), p));
}
inline __m512d loadn_f64(const double* p, int n) { return loadn(p, n); }
inline __m512d lane_sums(const __m512d* v) {
  __m512d t[4];
  for (int k = 0; k < 4; ++k)  // [r0 l0+l1, r1 l0+l1 | r0 l2+l3, r1 l2+l3 | ...] for r = 2k, 2k+1
    t[k] = _mm512_add_pd(_mm512_unpacklo_pd(v[2 * k], v[2 * k + 1]),
                         _mm512_unpackhi_pd(v[2 * k], v[2 * k + 1]));
  __m512d s[2];
  for (int k = 0; k < 2; ++k)  // 128-bit blocks (b0 b2 | b0 b2) + (b1 b3 | b1 b3) of t[2k], t[2k+1]
    s[k] = _mm512_add_pd(_mm512_shuffle_f64x2(t[2 * k], t[2 * k + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f64x2(t[2 * k], t[2 * k + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_pd(_mm512_shuffle_f64x2(s[0], s[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f64x2(s[0], s[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// Layout (conv::to_channels_last): transpose_square(r) transposes the kLanes x kLanes block
// held in r[0..kLanes) in place (lane j of r[i] <-> lane i of r[j]); moves only, exact.
inline void transpose_square(__m512* r) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {  // 2 x 2 blocks within each 128-bit lane
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + c], 128-bit lane b: rows i..i+3 of column 4b + c
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; ++c) {  // then the 128-bit lanes across the four row groups
    t[c] = _mm512_shuffle_f32x4(r[c], r[c + 4], _MM_SHUFFLE(2, 0, 2, 0));
    t[c + 4] = _mm512_shuffle_f32x4(r[c], r[c + 4], _MM_SHUFFLE(3, 1, 3, 1));
    t[c + 8] = _mm512_shuffle_f32x4(r[c + 8], r[c + 12], _MM_SHUFFLE(2, 0, 2, 0));
    t[c + 12] = _mm512_shuffle_f32x4(r[c + 8], r[c + 12], _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[c + 8], _MM_SHUFFLE(2, 0, 2, 0));
    r[c + 8] = _mm512_shuffle_f32x4(t[c], t[c + 8], _MM_SHUFFLE(3, 1, 3, 1));
    r[c + 4] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], _MM_SHUFFLE(2, 0, 2, 0));
    r[c + 12] = _mm512_shuffle_f32x4(t[c + 4], t[c + 12], _MM_SHUFFLE(3, 1, 3, 1));
  }
}
inline void transpose_square(__m512d* r) {
  __m512d t[8], u[8];
  for (int i = 0; i < 8; i += 2) {  // t[i]: rows i, i+1 of the even columns; t[i + 1]: the odd
    t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
  }
  for (int g = 0; g < 8; g += 4) {  // rows g..g+3: columns (0, 4), (2, 6), (1, 5), (3, 7)
    u[g] = _mm512_shuffle_f64x2(t[g], t[g + 2], _MM_SHUFFLE(2, 0, 2, 0));
    u[g + 1] = _mm512_shuffle_f64x2(t[g], t[g + 2], _MM_SHUFFLE(3, 1, 3, 1));
    u[g + 2] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], _MM_SHUFFLE(2, 0, 2, 0));
    u[g + 3] = _mm512_shuffle_f64x2(t[g + 1], t[g + 3], _MM_SHUFFLE(3, 1, 3, 1));
  }
  // u[k] and u[k + 4] hold columns cols[k][0] (first 128-bit lanes) and cols[k][1] (others).
  constexpr int cols[4][2] = {{0, 4}, {2, 6}, {1, 5}, {3, 7}};
  for (int k = 0; k < 4; ++k) {
    r[cols[k][0]] = _mm512_shuffle_f64x2(u[k], u[k + 4], _MM_SHUFFLE(2, 0, 2, 0));
    r[cols[k][1]] = _mm512_shuffle_f64x2(u[k], u[k + 4], _MM_SHUFFLE(3, 1, 3, 1));
  }
}

}  // namespace avx512
}  // namespace npfast
