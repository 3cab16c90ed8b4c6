// AVX2+FMA vocabulary; see README.md. Include only from x86_avx2*.cc files.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace npfast {
namespace avx2 {

template <class T>
struct VecOf;
template <>
struct VecOf<float> {
  using type = __m256;
};
template <>
struct VecOf<double> {
  using type = __m256d;
};
template <class T>
using V = typename VecOf<T>::type;
template <class T>
constexpr int kLanes = 32 / sizeof(T);
// Architectural vector registers, for sizing register tiles.
constexpr int kVectorRegisters = 16;

// Lane masks for partial loads/stores: lane i is on when i < n.
inline __m256i mask32(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline __m256i mask64(int n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

inline __m256 load(const float* p) { return _mm256_loadu_ps(p); }
inline __m256d load(const double* p) { return _mm256_loadu_pd(p); }
inline __m256 loadn(const float* p, int n) { return _mm256_maskload_ps(p, mask32(n)); }
inline __m256d loadn(const double* p, int n) { return _mm256_maskload_pd(p, mask64(n)); }
inline void store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void store(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
inline void storen(float* p, __m256 v, int n) { _mm256_maskstore_ps(p, mask32(n), v); }
inline void storen(double* p, __m256d v, int n) { _mm256_maskstore_pd(p, mask64(n), v); }

template <class T>
V<T> set1(T x);
template <>
inline __m256 set1<float>(float x) {
  return _mm256_set1_ps(x);
}
template <>
inline __m256d set1<double>(double x) {
  return _mm256_set1_pd(x);
}
template <class T>
V<T> zero() {
  return set1<T>(T(0));
}

inline __m256 add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
inline __m256d add(__m256d a, __m256d b) { return _mm256_add_pd(a, b); }
inline __m256 sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
inline __m256d sub(__m256d a, __m256d b) { return _mm256_sub_pd(a, b); }
inline __m256 mul(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
inline __m256d mul(__m256d a, __m256d b) { return _mm256_mul_pd(a, b); }
inline __m256 fma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
inline __m256d fma(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }

// NaN-propagating max/min (see x86_avx512.h).
inline __m256 max_nan(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}
inline __m256d max_nan(__m256d a, __m256d b) {
  return _mm256_blendv_pd(_mm256_max_pd(a, b), a, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
}
inline __m256 min_nan(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_min_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}
inline __m256d min_nan(__m256d a, __m256d b) {
  return _mm256_blendv_pd(_mm256_min_pd(a, b), a, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
}
// x86's max / min: the second operand where either is NaN (one instruction; for loops that
// track NaNs apart, as absmax).
inline __m256 max_raw(__m256 a, __m256 b) { return _mm256_max_ps(a, b); }
inline __m256d max_raw(__m256d a, __m256d b) { return _mm256_max_pd(a, b); }
inline __m256 min_raw(__m256 a, __m256 b) { return _mm256_min_ps(a, b); }
inline __m256d min_raw(__m256d a, __m256d b) { return _mm256_min_pd(a, b); }

// Non-temporal (streaming) stores (see x86_avx512.h); 32-byte aligned pointer required.
inline void stream(float* p, __m256 v) { _mm256_stream_ps(p, v); }
inline void stream(double* p, __m256d v) { _mm256_stream_pd(p, v); }
inline void stream_fence() { _mm_sfence(); }

// Conversions through double (see x86_avx512.h).
inline __m128i load_4x8(const void* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm_cvtsi32_si128(v);
}
inline __m256d load_f64(const uint8_t* p) {
  return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(load_4x8(p)));
}
inline __m256d load_f64(const int8_t* p) {
  return _mm256_cvtepi32_pd(_mm_cvtepi8_epi32(load_4x8(p)));
}
inline __m256d load_f64(const uint16_t* p) {
  return _mm256_cvtepi32_pd(
      _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m256d load_f64(const int16_t* p) {
  return _mm256_cvtepi32_pd(
      _mm_cvtepi16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline __m256d load_f64(const int32_t* p) {
  return _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m256d load_f64(const int64_t* p) {
  // AVX2 has no int64 -> double conversion; four scalar conversions.
  return _mm256_setr_pd(double(p[0]), double(p[1]), double(p[2]), double(p[3]));
}
inline __m256d load_f64(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline __m256d load_f64(const double* p) { return _mm256_loadu_pd(p); }

inline void store_f64(double* p, __m256d v) { _mm256_storeu_pd(p, v); }
inline void store_f64(float* p, __m256d v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
inline void store_f64(uint8_t* p, __m256d v) {
  v = _mm256_min_pd(_mm256_max_pd(v, _mm256_setzero_pd()), _mm256_set1_pd(255.0));
  const __m128i i32 = _mm256_cvtpd_epi32(v);
  const __m128i u8 = _mm_packus_epi16(_mm_packus_epi32(i32, i32), _mm_setzero_si128());
  const int32_t bytes = _mm_cvtsi128_si32(u8);
  __builtin_memcpy(p, &bytes, 4);
}

// store_trunc: kLanes<double> doubles as C casts them to a type of at most 32 bits
// (elementwise.h, trunc): truncated toward zero into int32 (cvttpd2dq: INT32_MIN for NaN and
// anything outside int32, as the scalar cvttsd2si), then the low 8 / 16 / 32 bits.
inline __m128i trunc_i32(__m256d v) { return _mm256_cvttpd_epi32(v); }
inline void store_trunc(int32_t* p, __m256d v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), trunc_i32(v));
}
inline void store_trunc(int16_t* p, __m256d v) {
  const __m128i w = _mm_shuffle_epi8(
      trunc_i32(v), _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), w);
}
inline void store_trunc(uint16_t* p, __m256d v) { store_trunc(reinterpret_cast<int16_t*>(p), v); }
inline void store_trunc(int8_t* p, __m256d v) {
  const __m128i b = _mm_shuffle_epi8(
      trunc_i32(v), _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  const int32_t bytes = _mm_cvtsi128_si32(b);
  __builtin_memcpy(p, &bytes, 4);
}
inline void store_trunc(uint8_t* p, __m256d v) { store_trunc(reinterpret_cast<int8_t*>(p), v); }

// ---- pool family ----
// Lanes where a > b or a is NaN: the replace rule of PyTorch's max-pooling scan.
inline __m256 gt_or_nan(__m256 a, __m256 b) {
  return _mm256_or_ps(_mm256_cmp_ps(a, b, _CMP_GT_OQ), _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}
inline __m256d gt_or_nan(__m256d a, __m256d b) {
  return _mm256_or_pd(_mm256_cmp_pd(a, b, _CMP_GT_OQ), _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
}
// m ? a : b, lane by lane, for a mask from a comparison.
inline __m256 select(__m256 m, __m256 a, __m256 b) { return _mm256_blendv_ps(b, a, m); }
inline __m256d select(__m256d m, __m256d a, __m256d b) { return _mm256_blendv_pd(b, a, m); }
// a > b lane by lane (ordered: false where either is NaN), as a mask for select.
inline __m256 gt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline __m256d gt(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
// !(a <= b): a > b, or either is NaN.
inline __m256 not_le(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_NLE_UQ); }
inline __m256d not_le(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_NLE_UQ); }
inline __m256 div(__m256 a, __m256 b) { return _mm256_div_ps(a, b); }
inline __m256d div(__m256d a, __m256d b) { return _mm256_div_pd(a, b); }
// The even and odd elements of the 2*kLanes elements a:b. AVX2 shuffles stay inside 128-bit
// halves, so the lanes come out permuted (the same way for every call); a vector computed
// lane-wise from them is put back in order once, by undo_deinterleave().
inline void deinterleave(__m256 a, __m256 b, __m256* even, __m256* odd) {
  *even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // 0 2 8 10 | 4 6 12 14
  *odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
}
inline void deinterleave(__m256d a, __m256d b, __m256d* even, __m256d* odd) {
  *even = _mm256_unpacklo_pd(a, b);  // 0 4 2 6
  *odd = _mm256_unpackhi_pd(a, b);
}
inline __m256 undo_deinterleave(__m256 v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
}
inline __m256d undo_deinterleave(__m256d v) {
  return _mm256_permute4x64_pd(v, _MM_SHUFFLE(3, 1, 2, 0));
}
// p[l * s] for every lane l; (kLanes - 1) * s must fit in int32.
inline __m256 gather_stride(const float* p, int32_t s) {
  const __m256i i =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(s));
  // The masked forms, with a defined source, keep GCC's maybe-uninitialized warning quiet.
  const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, i, all, 4);
}
inline __m256d gather_stride(const double* p, int32_t s) {
  const __m128i i = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32(s));
  const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  return _mm256_mask_i32gather_pd(_mm256_setzero_pd(), p, i, all, 8);
}
// The three interleaved streams of the 3*kLanes elements a:b:c: x_k[l] = element 3l + k.
inline void deinterleave3(__m256 a, __m256 b, __m256 c, __m256* x0, __m256* x1, __m256* x2) {
  const auto pick = [](__m256 v, int i0, int i1, int i2, int i3, int i4, int i5, int i6, int i7) {
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(i0, i1, i2, i3, i4, i5, i6, i7));
  };
  // Lane sources: x0 = a a a b b b c c, x1 = a a a b b c c c, x2 = a a b b b c c c.
  *x0 = _mm256_blend_ps(
      _mm256_blend_ps(pick(a, 0, 3, 6, 0, 0, 0, 0, 0), pick(b, 0, 0, 0, 1, 4, 7, 0, 0), 0x38),
      pick(c, 0, 0, 0, 0, 0, 0, 2, 5), 0xC0);
  *x1 = _mm256_blend_ps(
      _mm256_blend_ps(pick(a, 1, 4, 7, 0, 0, 0, 0, 0), pick(b, 0, 0, 0, 2, 5, 0, 0, 0), 0x18),
      pick(c, 0, 0, 0, 0, 0, 0, 3, 6), 0xE0);
  *x2 = _mm256_blend_ps(
      _mm256_blend_ps(pick(a, 2, 5, 0, 0, 0, 0, 0, 0), pick(b, 0, 0, 0, 3, 6, 0, 0, 0), 0x1C),
      pick(c, 0, 0, 0, 0, 0, 1, 4, 7), 0xE0);
}
inline void deinterleave3(__m256d a, __m256d b, __m256d c, __m256d* x0, __m256d* x1, __m256d* x2) {
  // x0 = a0 a3 b2 c1, x1 = a1 b0 b3 c2, x2 = a2 b1 c0 c3.
  *x0 = _mm256_blend_pd(_mm256_blend_pd(_mm256_permute4x64_pd(a, _MM_SHUFFLE(0, 0, 3, 0)), b, 0x4),
                        _mm256_permute4x64_pd(c, _MM_SHUFFLE(1, 0, 0, 0)), 0x8);
  *x1 = _mm256_blend_pd(_mm256_blend_pd(_mm256_permute4x64_pd(a, _MM_SHUFFLE(0, 0, 0, 1)),
                                        _mm256_permute4x64_pd(b, _MM_SHUFFLE(0, 3, 0, 0)), 0x6),
                        _mm256_permute4x64_pd(c, _MM_SHUFFLE(2, 0, 0, 0)), 0x8);
  *x2 = _mm256_blend_pd(_mm256_blend_pd(_mm256_permute4x64_pd(a, _MM_SHUFFLE(0, 0, 0, 2)), b, 0x2),
                        _mm256_permute4x64_pd(c, _MM_SHUFFLE(3, 0, 0, 0)), 0xC);
}
// An integer as the bit pattern of every lane: int32 in float lanes, int64 in double lanes
// (the argmax scan blends these alongside the values).
template <class T>
V<T> int_bits(int64_t v);
template <>
inline __m256 int_bits<float>(int64_t v) {
  return _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int32_t>(v)));
}
template <>
inline __m256d int_bits<double>(int64_t v) {
  return _mm256_castsi256_pd(_mm256_set1_epi64x(v));
}
// dst[l] = base + l * step + (the integer held in lane l of v, see int_bits).
inline void store_index(int64_t* dst, __m256 v, int64_t base, int64_t step) {
  const __m256i i = _mm256_castps_si256(v);
  const __m256i b0 = _mm256_setr_epi64x(base, base + step, base + 2 * step, base + 3 * step);
  const __m256i b1 = _mm256_add_epi64(b0, _mm256_set1_epi64x(4 * step));
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(i));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(i, 1));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_add_epi64(b0, lo));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 4), _mm256_add_epi64(b1, hi));
}
inline void store_index(int64_t* dst, __m256d v, int64_t base, int64_t step) {
  const __m256i b0 = _mm256_setr_epi64x(base, base + step, base + 2 * step, base + 3 * step);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst),
                      _mm256_add_epi64(b0, _mm256_castpd_si256(v)));
}
// ---- end pool family ----
// --- elementwise / memory: non-temporal stores (the line bypasses the cache; p aligned to
// the store width). stream2_f64 writes what two store_f64 write; stream_fence orders them.
// Two vectors at once, so a float result is one full 32-byte store (write-combining buffers
// drain whole lines faster than half-filled ones).
inline void stream2_f64(double* p, __m256d a, __m256d b) {
  _mm256_stream_pd(p, a);
  _mm256_stream_pd(p + 4, b);
}
inline void stream2_f64(float* p, __m256d a, __m256d b) {
  _mm256_stream_ps(p, _mm256_set_m128(_mm256_cvtpd_ps(b), _mm256_cvtpd_ps(a)));
}
inline void stream2_f64(uint8_t* p, __m256d a, __m256d b) {
  store_f64(p, a);
  store_f64(p + 4, b);
}
inline void stream_zero64(void* p) {
  const __m256i z = _mm256_setzero_si256();
  _mm256_stream_si256(static_cast<__m256i*>(p), z);
  _mm256_stream_si256(static_cast<__m256i*>(p) + 1, z);
}
// The 64 bytes at src (any alignment) to the 64-byte aligned dst with streaming stores.
inline void stream_copy64(void* dst, const void* src) {
  const __m256i a = _mm256_loadu_si256(static_cast<const __m256i*>(src));
  const __m256i b = _mm256_loadu_si256(static_cast<const __m256i*>(src) + 1);
  _mm256_stream_si256(static_cast<__m256i*>(dst), a);
  _mm256_stream_si256(static_cast<__m256i*>(dst) + 1, b);
}
// kLanes<double> uint8 values at p[0], p[s], p[2 s], ... as doubles (32-bit gathers masked to
// the low byte: each lane reads 4 bytes, so p[(lanes-1) s + 3] must be readable).
inline __m256d load_f64_strided(const uint8_t* p, int32_t s) {
  const __m128i idx = _mm_mullo_epi32(_mm_setr_epi32(0, 1, 2, 3), _mm_set1_epi32(s));
  const __m128i v = _mm_i32gather_epi32(reinterpret_cast<const int*>(p), idx, 1);
  return _mm256_cvtepi32_pd(_mm_and_si128(v, _mm_set1_epi32(0xff)));
}
// The same for strides 3 and 4 (interleaved RGB / RGBA) with one load and a byte shuffle;
// reads kStridedReadBytes bytes from p.
constexpr int kStridedReadBytes = 16;
inline __m256d load_f64_stride3(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i pick = _mm_setr_epi8(0, 3, 6, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_shuffle_epi8(v, pick)));
}
inline __m256d load_f64_stride4(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_cvtepi32_pd(_mm_and_si128(v, _mm_set1_epi32(0xff)));
}

// gemv: the lanes' sum, added in a fixed tree (high half onto low, then pairs), so a given
// vector always sums to the same bits.
inline float reduce_add(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline double reduce_add(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

// Global average pool (pool::plane_means): the first n (< 4) elements as doubles, the other
// lanes zero; and lane r of the result the sum of v[r]'s lanes (v: 4 vectors), added in one
// fixed tree (l0 + l1) + (l2 + l3) whatever the other vectors hold.
inline __m256d loadn_f64(const float* p, int n) {
  const __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3));
  return _mm256_cvtps_pd(_mm_maskload_ps(p, m));
}
inline __m256d loadn_f64(const double* p, int n) { return loadn(p, n); }
inline __m256d lane_sums(const __m256d* v) {
  const __m256d a = _mm256_hadd_pd(v[0], v[1]);  // [r0 l0+l1, r1 l0+l1, r0 l2+l3, r1 l2+l3]
  const __m256d b = _mm256_hadd_pd(v[2], v[3]);
  return _mm256_add_pd(_mm256_permute2f128_pd(a, b, 0x20), _mm256_permute2f128_pd(a, b, 0x31));
}

// Layout (conv::to_channels_last): transpose_square(r) transposes the kLanes x kLanes block
// held in r[0..kLanes) in place (lane j of r[i] <-> lane i of r[j]); moves only, exact.
inline void transpose_square(__m256* r) {
  __m256 t[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // r[i + c], 128-bit half h: rows i..i+3 of column 4h + c
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; ++c) {
    t[c] = _mm256_permute2f128_ps(r[c], r[c + 4], 0x20);
    t[c + 4] = _mm256_permute2f128_ps(r[c], r[c + 4], 0x31);
  }
  for (int i = 0; i < 8; ++i) r[i] = t[i];
}
inline void transpose_square(__m256d* r) {
  const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
  const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
  r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

}  // namespace avx2
}  // namespace npfast
