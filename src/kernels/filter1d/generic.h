// SIMD body of the filter1d family, instantiated per ISA by x86_<isa>.cc (which includes the
// ISA header and defines NPFAST_TARGET first). No include guard: one inclusion per ISA file.
//
// Vectorised across the lanes (the lines side by side): a row is loaded as up to kVectors
// vectors at a time, and each output element is the filter1d.h sum in exactly its order, with
// separate multiplies and adds, so every lane matches the reference bit for bit. The lane tail
// uses masked loads and stores.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "src/kernels/filter1d/filter1d.h"
#include "src/kernels/row_prefetch.h"
#include "src/kernels/row_stores.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace filter1d {

constexpr int kVectors = 4;

// acc + a * w: fused in float (one rounding; SciPy's order is not float32's anyway), two
// roundings in double, as SciPy.
template <class T>
inline V<T> madd(V<T> a, V<T> w, V<T> acc) {
  if constexpr (sizeof(T) == 4)
    return fma(a, w, acc);
  else
    return add(acc, mul(a, w));
}

// a / b lane by lane: IEEE division, the same bits at any width. On AVX-512, float as two
// 256-bit divisions: the 512-bit divide costs this machine more per element (npfast_bench
// f32_uniform2d__<isa>/4000_k5x5: avx512 2.65 G elements/s against avx2 3.0, division bound).
template <class T>
inline V<T> divide(V<T> a, V<T> b) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    const __m256 lo = _mm256_div_ps(_mm512_castps512_ps256(a), _mm512_castps512_ps256(b));
    const __m256 hi = _mm256_div_ps(_mm512_extractf32x8_ps(a, 1), _mm512_extractf32x8_ps(b, 1));
    return _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
  }
#endif
  return div(a, b);
}

template <class T, int NV, bool Masked>
struct Lanes {
  static constexpr int U = NV + (Masked ? 1 : 0);
  static V<T> ld(const T* p, int u, int m) {
    return (Masked && u == NV) ? loadn(p + u * kLanes<T>, m) : load(p + u * kLanes<T>);
  }
  static void st(T* p, int u, int m, V<T> v) {
    if (Masked && u == NV)
      storen(p + u * kLanes<T>, v, m);
    else
      store(p + u * kLanes<T>, v);
  }
  // An output store: non-temporal when Stream and the vector is aligned (a row that does not
  // start on a vector boundary is stored plainly), st otherwise.
  template <bool Stream>
  static void out(T* p, int u, int m, V<T> v) {
    T* q = p + u * kLanes<T>;
    if (Stream && !(Masked && u == NV) &&
        reinterpret_cast<uintptr_t>(q) % (kLanes<T> * sizeof(T)) == 0)
      stream(q, v);
    else
      st(p, u, m, v);
  }
};

// The outputs of a streamed row before its first 64-byte line (at most n; 0 where p is not
// aligned to T): Lanes::out stores a row off a vector boundary plainly all along, each line read
// for ownership first, so the streamed line kernels store these few plainly and the rest, from
// the line on, non-temporally (a vector boundary would leave AVX2's half lines to be combined
// with plain stores). Gaussian sigma 2 at 4000^2 float32 into np.empty_like's output (16 bytes
// past a line) was 12-15% slower cold than into a new, aligned one.
template <class T>
inline int64_t head_to_line(const T* p, int64_t n) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  if (a % sizeof(T) != 0) return 0;
  return std::min<int64_t>(n, static_cast<int64_t>((64 - a % 64) % 64 / sizeof(T)));
}

// Prefetches the kVectors vectors at p: in the column-chunk loops below, the chunk after next
// of the row an output is the first to read, ahead of the hardware prefetcher, which does not
// follow n + size - 1 short runs a row stride apart (one chunk ahead was 10% slower on a
// 4000-wide uniform filter, four no faster).
template <class T>
inline void prefetch_chunk(const T* p) {
  const char* c = reinterpret_cast<const char*>(p);
#pragma GCC unroll 8
  for (int v = 0; v < kVectors * kLanes<T> * static_cast<int>(sizeof(T)); v += 64)
    __builtin_prefetch(c + v);
}

// Lanes [l, l + NV * L + (Masked ? m : 0)) of R consecutive output rows (x: the row pointers
// of the first one's centre; out: the R rows). R rows at once give R * U independent sums to
// overlap (one row's U sums are each a chain of size / 2 + 1 dependent multiply-adds).
template <class T, int NV, bool Masked, int R, bool Stream>
inline void corr1d_rows(const T* const* x, T* const* out, int64_t c, int64_t s2, const T* fw,
                        int sym, int64_t l, int m) {
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  V<T> acc[R][U];
  if (R == 2 && sym != 0) {
    // Two rows share their loads: at tap j, output 0 pairs rows j and -j, output 1 rows
    // j + 1 and 1 - j; row j + 1 is output 0's lower row at tap j + 1, row -j output 1's
    // upper row there. Two loads per tap for both outputs; the same sums in the same order.
    const V<T> w0 = set1<T>(fw[0]);
    V<T> lo[U], hi[U];  // lo: row j (output 0), hi: row 1 - j (output 1)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      acc[0][u] = mul(LN::ld(x[0] + l, u, m), w0);
      acc[R - 1][u] = mul(LN::ld(x[1] + l, u, m), w0);
      lo[u] = LN::ld(x[-c] + l, u, m);
      hi[u] = LN::ld(x[1 + c] + l, u, m);
    }
    for (int64_t j = -c; j < 0; ++j) {
      const V<T> wj = set1<T>(fw[j]);
      const T* next_lo = x[j + 1] + l;
      const T* next_hi = x[-j] + l;
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) {
        const V<T> nlo = LN::ld(next_lo, u, m), nhi = LN::ld(next_hi, u, m);
        acc[0][u] = madd<T>(sym > 0 ? add(lo[u], nhi) : sub(lo[u], nhi), wj, acc[0][u]);
        acc[R - 1][u] = madd<T>(sym > 0 ? add(nlo, hi[u]) : sub(nlo, hi[u]), wj, acc[R - 1][u]);
        lo[u] = nlo;
        hi[u] = nhi;
      }
    }
  } else if (sym != 0) {
    const V<T> w0 = set1<T>(fw[0]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) acc[r][u] = mul(LN::ld(x[r] + l, u, m), w0);
    for (int64_t j = -c; j < 0; ++j) {
      const V<T> wj = set1<T>(fw[j]);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const T* lo = x[r + j] + l;
        const T* hi = x[r - j] + l;
        if (sym > 0) {
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u)
            acc[r][u] = madd<T>(add(LN::ld(lo, u, m), LN::ld(hi, u, m)), wj, acc[r][u]);
        } else {
#pragma GCC unroll 8
          for (int u = 0; u < U; ++u)
            acc[r][u] = madd<T>(sub(LN::ld(lo, u, m), LN::ld(hi, u, m)), wj, acc[r][u]);
        }
      }
    }
  } else {
    const V<T> wl = set1<T>(fw[s2]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) acc[r][u] = mul(LN::ld(x[r + s2] + l, u, m), wl);
    for (int64_t j = -c; j < s2; ++j) {
      const V<T> wj = set1<T>(fw[j]);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const T* p = x[r + j] + l;
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u) acc[r][u] = madd<T>(LN::ld(p, u, m), wj, acc[r][u]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) LN::template out<Stream>(out[r] + l, u, m, acc[r][u]);
}

// corr1d_rows over rows [0, n) of a block, two at a time.
template <class T, int NV, bool Masked, bool Stream>
inline void corr1d_column(const T* const* in, T* const* out, int64_t n, int64_t c, int64_t s2,
                          const T* fw, int sym, int64_t size, int64_t l, int m) {
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) {
    if (!Masked) {
      prefetch_chunk<T>(in[i + size - 1] + l + 2 * kVectors * kLanes<T>);
      prefetch_chunk<T>(in[i + size] + l + 2 * kVectors * kLanes<T>);
    }
    corr1d_rows<T, NV, Masked, 2, Stream>(in + i + c, out + i, c, s2, fw, sym, l, m);
  }
  if (i < n) corr1d_rows<T, NV, Masked, 1, Stream>(in + i + c, out + i, c, s2, fw, sym, l, m);
}

// Lanes [l, l + NV * L + (Masked ? m : 0)) of output row i of the running sum, whose state
// (one sum per lane, lane l at state[l - c0]) lives in `state` between rows.
template <class T, int NV, bool Masked>
inline void uniform1d_row(const T* const* in, T* const* out, T* state, int64_t c0, int64_t i,
                          int64_t size, V<T> div_v, int64_t l, int m) {
  T* st = state + (l - c0);
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  V<T> s[U];
  if (i == 0 || (sizeof(T) == 4 && i % npfast::filter1d::kReanchor == 0)) {
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) s[u] = zero<T>();
    // float: partial sums of kAnchorBlock elements (filter1d.h); double: SciPy's order.
    const int64_t block = sizeof(T) == 4 ? npfast::filter1d::kAnchorBlock : size;
    for (int64_t k0 = 0; k0 < size; k0 += block) {
      V<T> p[U];
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) p[u] = zero<T>();
      for (int64_t k = k0; k < std::min(size, k0 + block); ++k)
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u) p[u] = add(p[u], LN::ld(in[i + k] + l, u, m));
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) s[u] = add(s[u], p[u]);
    }
  } else {
    const T* hi = in[i - 1 + size] + l;
    const T* lo = in[i - 1] + l;
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u)
      s[u] = add(LN::ld(st, u, m), sub(LN::ld(hi, u, m), LN::ld(lo, u, m)));
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) {
    LN::st(st, u, m, s[u]);
    LN::st(out[i] + l, u, m, divide<T>(s[u], div_v));
  }
}

// corr1d_rows for R output rows across all lanes.
template <class T, int R, bool Stream>
inline void corr1d_across(const T* const* x, T* const* out, int64_t lanes, int64_t c, int64_t s2,
                          const T* fw, int sym) {
  constexpr int L = kLanes<T>;
  int64_t l = 0;
  for (; l + kVectors * L <= lanes; l += kVectors * L)
    corr1d_rows<T, kVectors, false, R, Stream>(x, out, c, s2, fw, sym, l, 0);
  for (; l + L <= lanes; l += L) corr1d_rows<T, 1, false, R, Stream>(x, out, c, s2, fw, sym, l, 0);
  if (l < lanes)
    corr1d_rows<T, 0, true, R, Stream>(x, out, c, s2, fw, sym, l, static_cast<int>(lanes - l));
}

// Rows an output pair reads that fit L1 whole (with room for the outputs) are read row pair by
// row pair. Wider ones go column chunk by column chunk, every row of the block in each: a
// chunk's input rows (n + size - 1 pieces of kVectors vectors) stay in L1 while all n outputs
// read them, so each input line comes from L2 or memory once per block, where row by row over
// the whole width it came size times (a 4000-wide float row is 16 KiB: size rows of it do not
// fit L1); the chunk loops cost 15% on 256-wide images, whose rows fit.
constexpr int64_t kRowsInL1 = 24 << 10;

template <class T, bool Stream = false>
void corr1d(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w, int64_t size,
            int sym) {
  constexpr int L = kLanes<T>;
  const int64_t c = size / 2, s2 = size - c - 1;
  const T* fw = w + c;
  if ((size + 1) * lanes * static_cast<int64_t>(sizeof(T)) <= kRowsInL1) {
    int64_t i = 0;
    for (; i + 2 <= n; i += 2)
      corr1d_across<T, 2, Stream>(in + i + c, out + i, lanes, c, s2, fw, sym);
    if (i < n) corr1d_across<T, 1, Stream>(in + i + c, out + i, lanes, c, s2, fw, sym);
    if (Stream) stream_fence();
    return;
  }
  int64_t l = 0;
  for (; l + kVectors * L <= lanes; l += kVectors * L)
    corr1d_column<T, kVectors, false, Stream>(in, out, n, c, s2, fw, sym, size, l, 0);
  for (; l + L <= lanes; l += L)
    corr1d_column<T, 1, false, Stream>(in, out, n, c, s2, fw, sym, size, l, 0);
  if (l < lanes)
    corr1d_column<T, 0, true, Stream>(in, out, n, c, s2, fw, sym, size, l,
                                      static_cast<int>(lanes - l));
  if (Stream) stream_fence();
}

// corr1d with its outputs stored non-temporally (filter1d.h: `_nt`).
template <class T>
void corr1d_nt(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w,
               int64_t size, int sym) {
  corr1d<T, true>(in, out, n, lanes, w, size, sym);
}

// How far ahead corr1d_line_copy prefetches the row it copies, in bytes (into L2). Its reads
// come from L3 (pair_fused's next band): read as the outputs are made, with the hardware
// prefetcher alone, gaussian sigma 2 at 2048^2 was 5-10% slower; 1 KiB and 2 KiB ahead were
// even, 256 bytes slower.
constexpr int64_t kCopyAhead = 1024;

// The row a line kernel copies alongside its outputs (corr1d_line_copy): elements [i, i + k)
// as it makes outputs [i, i + k). Copy = false: none.
template <class T, bool Copy>
struct RowCopy {
  const T* src;
  T* dst;
  // Whole vectors [i, i + nv * L).
  inline void vectors(int64_t i, int nv) const {
    if constexpr (Copy) {
      constexpr int L = kLanes<T>;
      const char* ahead = reinterpret_cast<const char*>(src + i) + kCopyAhead;
      for (int64_t b = 0; b < nv * L * static_cast<int64_t>(sizeof(T)); b += 64)
        __builtin_prefetch(ahead + b, 0, 2);
      for (int v = 0; v < nv; ++v) store(dst + i + v * L, load(src + i + v * L));
    }
  }
  // Elements [i, n).
  inline void rest(int64_t i, int64_t n) const {
    if constexpr (Copy)
      for (; i < n; ++i) dst[i] = src[i];
  }
};

// corr1d_lines' `next` row (filter1d.h): its lines [i, i + nv * L) prefetched as the outputs
// [i, i + nv * L) are made, none where next is null. prefetcht0 and t2 were even, t1 3-4%
// slower (gaussian sigma 2, float32 4000^2 cold, CPU time); 4 or 16 KiB further ahead, or two
// lines a vector over the band's first rows, no faster (docs/ndimage-speed.md "gauss6").
template <class T>
inline void prefetch_next(const T* next, int64_t i, int nv) {
  if (next == nullptr) return;
  const char* p = reinterpret_cast<const char*>(next + i);
  for (int64_t b = 0; b < nv * kLanes<T> * static_cast<int64_t>(sizeof(T)); b += 64)
    __builtin_prefetch(p + b, 0, 3);
}

// Along one line: output positions [i, i + NV * L + (Masked ? m : 0)).
template <class T, int NV, bool Masked, bool Stream>
inline void corr1d_line_block(const T* in, T* out, int64_t i, int64_t c, int64_t s2, const T* fw,
                              int sym, int m) {
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  const T* x = in + i + c;
  V<T> acc[U];
  if (sym != 0) {
    const V<T> w0 = set1<T>(fw[0]);
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) acc[u] = mul(LN::ld(x, u, m), w0);
    for (int64_t j = -c; j < 0; ++j) {
      const V<T> wj = set1<T>(fw[j]);
      if (sym > 0) {
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u)
          acc[u] = madd<T>(add(LN::ld(x + j, u, m), LN::ld(x - j, u, m)), wj, acc[u]);
      } else {
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u)
          acc[u] = madd<T>(sub(LN::ld(x + j, u, m), LN::ld(x - j, u, m)), wj, acc[u]);
      }
    }
  } else {
    const V<T> wl = set1<T>(fw[s2]);
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) acc[u] = mul(LN::ld(x + s2, u, m), wl);
    for (int64_t j = -c; j < s2; ++j) {
      const V<T> wj = set1<T>(fw[j]);
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) acc[u] = madd<T>(LN::ld(x + j, u, m), wj, acc[u]);
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) LN::template out<Stream>(out + i, u, m, acc[u]);
}

#if defined(__AVX512F__) || defined(__AVX2__)
// float, odd symmetric or antisymmetric weights of radius C, along a line: each vector of L
// outputs reads L + 2C inputs; three loads (one of them new per vector) and shifts (valignd;
// on AVX2 vperm2f128 and vpalignr) give most of the 2C + 1 shifted vectors, where 2C + 1
// unaligned loads split cache lines 15 times in 16 (7 in 16 for AVX2's 32 bytes; AVX-512 all
// loads: load-bound, 12% slower; sym_taps loads some of them). Same sums in the same order.
// Returns the outputs done (whole vectors while the third load stays inside the extended line).
//
// shifted<O>: inputs [O, O + L) of the 3L in a0 | a1 | a2, O in [0, 2L].
template <int O>
inline V<float> shifted(V<float> a0, V<float> a1, V<float> a2) {
#if !defined(__AVX512F__)
  // AVX2: vpalignr shifts within 128-bit halves, so the vector straddling two inputs' halves
  // (vperm2f128) is made first; the compiler makes each such middle vector once per step.
  if constexpr (O % 8 == 0) {
    return O == 0 ? a0 : O == 8 ? a1 : a2;
  } else {
    const __m256 lo = O < 8 ? a0 : a1, hi = O < 8 ? a1 : a2;
    const __m256 mid = _mm256_permute2f128_ps(lo, hi, 0x21);
    constexpr int k = O % 8;
    if constexpr (k == 4) return mid;
    const __m256i a = _mm256_castps_si256(k < 4 ? lo : mid);
    const __m256i b = _mm256_castps_si256(k < 4 ? mid : hi);
    return _mm256_castsi256_ps(_mm256_alignr_epi8(b, a, 4 * (k % 4)));
  }
#else
  if constexpr (O == 0) {
    return a0;
  } else if constexpr (O < 16) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(a1), _mm512_castps_si512(a0), O));
  } else if constexpr (O == 16) {
    return a1;
  } else {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(a2), _mm512_castps_si512(a1), O - 16));
  }
#endif
}

// Taps K .. C - 1 of the folded sum (j = K - C: (x[K] +- x[2C - K]) * fw[j]), in order; p: the
// inputs a0 | a1 | a2 hold. Loads: every third tap's pair is loaded unaligned instead of
// shifted. valignd runs on port 5 only, which also takes half the adds and multiply-adds, and
// the loads have ports of their own, so a third of the shifts moved there balances the two (12%
// faster alone with C = 8, 4096-long lines; all loads, or all shifts, were the slowest). Not
// while a row is copied alongside (corr1d_line_copy): its reads from L3 or memory then waited
// behind the extra loads (10-25% slower). The same values either way.
// On AVX2 (Zen 3) every second pair is loaded: its shifts take two instructions on the pipes
// of the adds and multiply-adds, and its two load pipes split unaligned loads across lines
// (npfast_bench f32_corr1d_line__avx2/4096_17tap: all loads 1.4-1.75 G elements/s, a third
// loaded 1.85-2.05, half 2.0-2.25, nearly all shifted 1.75-2.1; docs/ndimage-speed.md
// "zen3-24").
constexpr int kLoadEvery = kLanes<float> == 16 ? 3 : 2;
template <int C, int K, bool Loads>
inline V<float> sym_taps(V<float> acc, const float* p, V<float> a0, V<float> a1, V<float> a2,
                         const V<float>* wv, int sym) {
  if constexpr (K == C) {
    return acc;
  } else {
    constexpr bool kLoad = Loads && K % kLoadEvery == 1;
    const V<float> lo = kLoad ? load(p + K) : shifted<K>(a0, a1, a2);
    const V<float> hi = kLoad ? load(p + 2 * C - K) : shifted<2 * C - K>(a0, a1, a2);
    acc = madd<float>(sym > 0 ? add(lo, hi) : sub(lo, hi), wv[C - K], acc);
    return sym_taps<C, K + 1, Loads>(acc, p, a0, a1, a2, wv, sym);
  }
}

// sym_taps for two vectors of outputs at once (inputs a0 | a1 | a2 and a1 | a2 | a3), tap by
// tap across the two, with the pairs of taps 3 and 7 loaded (K % 4 == 3): each output's sum is
// the same sequence as sym_taps', so the same bits. On Zen 5 (its adds and valignd share two
// pipes) a 4096-float line in L1 with 17 taps ran 7.1 G elements/s against 5.1 for sym_taps
// (npfast_bench, docs/ndimage-speed.md "gauss7"); on the Xeon two vectors were even and
// K % 3 == 1 the best (gauss5), so the operators take it where tune_amd() (the `_x2` kernels).
template <int C, int K>
inline void sym_taps2(V<float>& acc0, V<float>& acc1, const float* p, V<float> a0, V<float> a1,
                      V<float> a2, V<float> a3, const V<float>* wv, int sym) {
  if constexpr (K < C) {
    constexpr bool kLoad = K % 4 == 3;
    const V<float> lo0 = kLoad ? load(p + K) : shifted<K>(a0, a1, a2);
    const V<float> hi0 = kLoad ? load(p + 2 * C - K) : shifted<2 * C - K>(a0, a1, a2);
    const V<float> lo1 = kLoad ? load(p + kLanes<float> + K) : shifted<K>(a1, a2, a3);
    const V<float> hi1 =
        kLoad ? load(p + kLanes<float> + 2 * C - K) : shifted<2 * C - K>(a1, a2, a3);
    acc0 = madd<float>(sym > 0 ? add(lo0, hi0) : sub(lo0, hi0), wv[C - K], acc0);
    acc1 = madd<float>(sym > 0 ? add(lo1, hi1) : sub(lo1, hi1), wv[C - K], acc1);
    sym_taps2<C, K + 1>(acc0, acc1, p, a0, a1, a2, a3, wv, sym);
  }
}

// Two: two vectors a step (sym_taps2) while they fit, then one (not while copying).
template <int C, bool Stream, bool Copy, bool Two>
int64_t corr1d_line_sym(const float* in, float* out, int64_t n, const float* fw, int sym,
                        const RowCopy<float, Copy>& copy, const float* next) {
  using LN = Lanes<float, 1, false>;
  constexpr int L = kLanes<float>;
  V<float> wv[C + 1];
#pragma GCC unroll 17
  for (int j = 0; j <= C; ++j) wv[j] = set1<float>(fw[-j]);
  const int64_t end = n + 2 * C;  // the extended line's length
  if (end < 3 * L) return 0;
  int64_t i = 0;
  V<float> a0 = load(in), a1 = load(in + L);
  if constexpr (Two && !Copy && L == 16) {
    for (; i + 2 * L <= n && i + 4 * L <= end; i += 2 * L) {
      prefetch_next(next, i, 2);
      const V<float> a2 = load(in + i + 2 * L), a3 = load(in + i + 3 * L);
      V<float> acc0 = mul(shifted<C>(a0, a1, a2), wv[0]);
      V<float> acc1 = mul(shifted<C>(a1, a2, a3), wv[0]);
      sym_taps2<C, 0>(acc0, acc1, in + i, a0, a1, a2, a3, wv, sym);
      LN::template out<Stream>(out + i, 0, 0, acc0);
      LN::template out<Stream>(out + i + L, 0, 0, acc1);
      a0 = a2;
      a1 = a3;
    }
  }
  for (; i + L <= n && i + 3 * L <= end; i += L) {
    copy.vectors(i, 1);
    prefetch_next(next, i, 1);
    const V<float> a2 = load(in + i + 2 * L);
    const V<float> acc = mul(shifted<C>(a0, a1, a2), wv[0]);
    LN::template out<Stream>(out + i, 0, 0,
                             sym_taps<C, 0, !Copy>(acc, in + i, a0, a1, a2, wv, sym));
    a0 = a1;
    a1 = a2;
  }
  return i;
}

// corr1d_line_sym for a radius c known at run time: C = 1 .. kMaxSymRadius, else none.
// (AVX2: radius 8, gaussian sigma 2's, at most: shifted reads within three vectors of 8.)
constexpr int kMaxSymRadius = kLanes<float> == 16 ? 12 : 8;
template <bool Stream, bool Copy, bool Two, int C = 1>
int64_t corr1d_line_sym_any(const float* in, float* out, int64_t n, const float* fw, int64_t c,
                            int sym, const RowCopy<float, Copy>& copy, const float* next) {
  if (c == C) return corr1d_line_sym<C, Stream, Copy, Two>(in, out, n, fw, sym, copy, next);
  if constexpr (C < kMaxSymRadius)
    return corr1d_line_sym_any<Stream, Copy, Two, C + 1>(in, out, n, fw, c, sym, copy, next);
  return 0;
}
#endif

// corr1d_line, copying `copy`'s row alongside (Copy = true), prefetching `next` (null: none;
// prefetch_next); Two: the AVX-512 float body two vectors a step (sym_taps2, the `_x2` kernels).
template <class T, bool Stream, bool Copy, bool Two = false>
void corr1d_line_with(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym,
                      const RowCopy<T, Copy>& copy, const T* next = nullptr) {
  static_assert(!(Stream && Copy), "the copying kernel stores plainly");
  constexpr int L = kLanes<T>;
  const int64_t c = size / 2, s2 = size - c - 1;
  const T* fw = w + c;
  if constexpr (Stream) {
    const int64_t h = head_to_line(out, n);  // plainly, so that the rest streams
    if (h > 0) {
      int64_t j = 0;
      for (; j + L <= h; j += L)
        corr1d_line_block<T, 1, false, false>(in, out, j, c, s2, fw, sym, 0);
      if (j < h)
        corr1d_line_block<T, 0, true, false>(in, out, j, c, s2, fw, sym, static_cast<int>(h - j));
      in += h;
      out += h;
      n -= h;
      if (next) next += h;
    }
  }
  int64_t i = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
  if constexpr (sizeof(T) == 4)
    if (sym != 0) i = corr1d_line_sym_any<Stream, Copy, Two>(in, out, n, fw, c, sym, copy, next);
#endif
  for (; i + kVectors * L <= n; i += kVectors * L) {
    copy.vectors(i, kVectors);
    prefetch_next(next, i, kVectors);
    corr1d_line_block<T, kVectors, false, Stream>(in, out, i, c, s2, fw, sym, 0);
  }
  for (; i + L <= n; i += L) {
    copy.vectors(i, 1);
    prefetch_next(next, i, 1);
    corr1d_line_block<T, 1, false, Stream>(in, out, i, c, s2, fw, sym, 0);
  }
  copy.rest(i, n);
  if (i < n)
    corr1d_line_block<T, 0, true, Stream>(in, out, i, c, s2, fw, sym, static_cast<int>(n - i));
}

// Fence = false: a streamed line whose caller fences once after many (corr1d_lines: a fence a
// line waits for every line's stores to drain, 16 times a band).
template <class T, bool Stream = false, bool Fence = Stream, bool Two = false>
void corr1d_line(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym) {
  corr1d_line_with<T, Stream, false, Two>(in, out, n, w, size, sym,
                                          RowCopy<T, false>{nullptr, nullptr});
  if (Fence) stream_fence();
}

// corr1d_line two vectors a step (filter1d.h: f32_corr1d_line_x2).
template <class T>
void corr1d_line_x2(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym) {
  corr1d_line<T, false, false, true>(in, out, n, w, size, sym);
}

// corr1d_line, and dst[0, n) = src[0, n) alongside (filter1d.h: f32_corr1d_line_copy).
template <class T>
void corr1d_line_copy(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym,
                      const T* src, T* dst) {
  corr1d_line_with<T, false, true>(in, out, n, w, size, sym, RowCopy<T, true>{src, dst});
}

template <class T>
void corr1d_line_nt(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym) {
  corr1d_line<T, true>(in, out, n, w, size, sym);
}

// corr1d_line on each of `rows` lines, prefetching next[r] alongside line r (filter1d.h:
// f32_corr1d_lines_nt).
template <class T, bool Stream = false, bool Two = false>
void corr1d_lines(const T* const* in, T* const* out, int64_t rows, int64_t n, const T* w,
                  int64_t size, int sym, const T* const* next) {
  for (int64_t r = 0; r < rows; ++r)
    corr1d_line_with<T, Stream, false, Two>(in[r], out[r], n, w, size, sym,
                                            RowCopy<T, false>{nullptr, nullptr},
                                            next ? next[r] : nullptr);
  if (Stream) stream_fence();
}

template <class T>
void corr1d_lines_nt(const T* const* in, T* const* out, int64_t rows, int64_t n, const T* w,
                     int64_t size, int sym, const T* const* next) {
  corr1d_lines<T, true>(in, out, rows, n, w, size, sym, next);
}

// corr1d_lines_nt two vectors a step (filter1d.h: f32_corr1d_lines_nt_x2).
template <class T>
void corr1d_lines_nt_x2(const T* const* in, T* const* out, int64_t rows, int64_t n, const T* w,
                        int64_t size, int sym, const T* const* next) {
  corr1d_lines<T, true, true>(in, out, rows, n, w, size, sym, next);
}

// Row by row over chunks of kStateLanes lanes, so each input row is read once per chunk
// (lines read in place are long rows far apart in memory).
constexpr int64_t kStateLanes = 1024;

// Window sums of lanes [l, l + NV * L + (Masked ? m : 0)) of output row i (float, size <=
// kDirectRows).
template <class T, int NV, bool Masked>
inline void uniform1d_direct_row(const T* const* in, T* out, int64_t size, V<T> div_v, int64_t l,
                                 int m) {
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  V<T> s[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) s[u] = LN::ld(in[0] + l, u, m);
  for (int64_t k = 1; k < size; ++k)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) s[u] = add(s[u], LN::ld(in[k] + l, u, m));
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) LN::st(out + l, u, m, divide<T>(s[u], div_v));
}

template <class T>
void uniform1d(const T* const* in, T* const* out, int64_t n, int64_t lanes, int64_t size) {
  constexpr int L = kLanes<T>;
  const V<T> div_v = set1<T>(static_cast<T>(size));
  if (sizeof(T) == 4 && size <= npfast::filter1d::kDirectRows) {
    // Column chunk by column chunk, as corr1d: the chunk's rows stay in L1 for all n outputs.
    int64_t l = 0;
    for (; l + kVectors * L <= lanes; l += kVectors * L)
      for (int64_t i = 0; i < n; ++i) {
        prefetch_chunk<T>(in[i + size - 1] + l + 2 * kVectors * L);
        uniform1d_direct_row<T, kVectors, false>(in + i, out[i], size, div_v, l, 0);
      }
    for (; l + L <= lanes; l += L)
      for (int64_t i = 0; i < n; ++i)
        uniform1d_direct_row<T, 1, false>(in + i, out[i], size, div_v, l, 0);
    if (l < lanes)
      for (int64_t i = 0; i < n; ++i)
        uniform1d_direct_row<T, 0, true>(in + i, out[i], size, div_v, l,
                                         static_cast<int>(lanes - l));
    return;
  }
  alignas(64) T state[kStateLanes];
  for (int64_t c0 = 0; c0 < lanes; c0 += kStateLanes) {
    const int64_t c1 = c0 + kStateLanes < lanes ? c0 + kStateLanes : lanes;
    for (int64_t i = 0; i < n; ++i) {
      int64_t l = c0;
      for (; l + kVectors * L <= c1; l += kVectors * L)
        uniform1d_row<T, kVectors, false>(in, out, state, c0, i, size, div_v, l, 0);
      for (; l + L <= c1; l += L)
        uniform1d_row<T, 1, false>(in, out, state, c0, i, size, div_v, l, 0);
      if (l < c1)
        uniform1d_row<T, 0, true>(in, out, state, c0, i, size, div_v, l, static_cast<int>(c1 - l));
    }
  }
}

// Along one line: window sums of positions [i, i + NV * L + (Masked ? m : 0)).
template <class T, int NV, bool Masked, bool Stream>
inline void uniform1d_line_block(const T* in, T* out, int64_t i, int64_t size, V<T> div_v, int m) {
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  V<T> s[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) s[u] = LN::ld(in + i, u, m);
  for (int64_t k = 1; k < size; ++k)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) s[u] = add(s[u], LN::ld(in + i + k, u, m));
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) LN::template out<Stream>(out + i, u, m, divide<T>(s[u], div_v));
}

template <class T, bool Stream = false>
void uniform1d_line(const T* in, T* out, int64_t n, int64_t size) {
  constexpr int L = kLanes<T>;
  const V<T> div_v = set1<T>(static_cast<T>(size));
  int64_t i = 0;
  for (; i + kVectors * L <= n; i += kVectors * L)
    uniform1d_line_block<T, kVectors, false, Stream>(in, out, i, size, div_v, 0);
  for (; i + L <= n; i += L) uniform1d_line_block<T, 1, false, Stream>(in, out, i, size, div_v, 0);
  if (i < n)
    uniform1d_line_block<T, 0, true, Stream>(in, out, i, size, div_v, static_cast<int>(n - i));
  if (Stream) stream_fence();
}

template <class T>
void uniform1d_line_nt(const T* in, T* out, int64_t n, int64_t size) {
  uniform1d_line<T, true>(in, out, n, size);
}

// Lanes t .. t + L - 1 of the concatenation a:b (valignd on AVX-512, a permute pair on AVX2).
template <int t, size_t... i>
inline V<float> concat_shift(V<float> a, V<float> b, std::index_sequence<i...>) {
  // __builtin_shufflevector (GCC >= 12 and clang; __builtin_shuffle is GCC's alone).
  return __builtin_shufflevector(a, b, (t + static_cast<int>(i))...);
}

// a[r] / K for M registers and a compile-time K, the same bits as divide(): on AVX-512, for K
// odd or a power of two, q = a * RN(1 / K) corrected by one fma, fma(fma(-q, K, a), RN(1 / K),
// q), equals a / K for every finite float a but -0 (checked for all 2^32 patterns, K = 1 .. 9).
// When any register holds a zero, an |a| below about 2^-90, an inf or a NaN, all M take the
// division: above that bound every intermediate is normal, so the bits do not depend on MXCSR
// (FTZ / DAZ, set by -ffast-math code in the process, made the correction underflow:
// 0x1.800004p-125 / 3 gave 0x1.000004p-126). One fpclass where a sign fix for -0 and a NaN
// compare were: the same speed in cache (keeping zeros fast took three integer ops more and
// cost 13%), and one range test for the M registers of a group (ndcliff: 8-10% of the uniform
// kernel was these tests). Checked for all 2^32 a, K = 3, 5, 7, 9, with and without FTZ | DAZ
// (docs/ndimage-speed.md "revfix6"); even K but powers of two mismatch and stay out. Two
// divisions per output bound uniform2d in cache: `npfast_bench --benchmark_filter=uniform2d`,
// AVX-512, four rows a call 2.63 -> 3.75 G px/s (from memory no change: the filter waits for
// its lines there). Off on AVX2 (slower there: 2.74 -> 2.06 G px/s, docs/ndimage-speed.md
// "fstream").
template <int K, int M>
inline void divide_all_by(V<float>* a) {
#if defined(__AVX512F__)
  if constexpr (K % 2 == 1 || (K & (K - 1)) == 0) {
    const __m512 y = _mm512_set1_ps(1.0f / static_cast<float>(K));
    const __m512 d = _mm512_set1_ps(static_cast<float>(K));
    // a * 2^-36 is zero, subnormal (or flushed to zero under FTZ), inf or NaN (fpclass 0xbf:
    // all classes but normal and negative) where a is, or |a| < 2^-90 (up to the rounding).
    __mmask16 odd = 0;
#pragma GCC unroll 8
    for (int r = 0; r < M; ++r)
      odd |= _mm512_fpclass_ps_mask(_mm512_mul_ps(a[r], _mm512_set1_ps(0x1p-36f)), 0xbf);
    if (__builtin_expect(odd == 0, 1)) {
#pragma GCC unroll 8
      for (int r = 0; r < M; ++r) {
        const __m512 q = _mm512_mul_ps(a[r], y);
        a[r] = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d, a[r]), y, q);
      }
      return;
    }
  }
#endif
  const V<float> k = set1<float>(static_cast<float>(K));
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r) a[r] = divide<float>(a[r], k);
}

// Lanes t .. t + L - 1 of cur:next for the window sums: one valignd on AVX-512 (the generic
// shuffle compiled to a register copy and a vpermt2ps), concat_shift elsewhere.
template <int t>
inline V<float> window_shift(V<float> cur, V<float> next) {
#if defined(__AVX512F__)
  static_assert(t > 0 && t < 16, "valignd takes its count modulo 16");
  return reinterpret_cast<V<float>>(
      _mm512_alignr_epi32(reinterpret_cast<__m512i>(next), reinterpret_cast<__m512i>(cur), t));
#else
  return concat_shift<t>(cur, next, std::make_index_sequence<static_cast<size_t>(kLanes<float>)>());
#endif
}

// The window sums of the K1 positions starting at each lane of cur, over the pair cur:next:
// cur, then + each shift 1 .. K1 - 1 in order (t runs 0 .. K1 - 2): uniform1d_line's order.
template <size_t... t>
inline V<float> window_sum(V<float> cur, V<float> next, std::index_sequence<t...>) {
  V<float> s = cur;
  ((s = add(s, window_shift<static_cast<int>(t) + 1>(cur, next))), ...);
  return s;
}

// Whether rows out[0 .. g) start at the same offset within a vector: a streamed group of rows
// then stores each register at once (RowStores, Shift false).
inline bool same_alignment(float* const* out, int64_t g) {
  constexpr uintptr_t kAlign = kLanes<float> * 4;
  for (int64_t k = 1; k < g; ++k)
    if (reinterpret_cast<uintptr_t>(out[k]) % kAlign !=
        reinterpret_cast<uintptr_t>(out[0]) % kAlign)
      return false;
  return true;
}

// M rows of the fused 2-D uniform filter (filter1d.h: f32_uniform2d, f32_uniform2d_rows) for
// K1 - 1 <= L: each register of column sums is kept until the next one is made, and the window
// slides across the pair in registers (K1 - 1 shifts and adds in uniform1d_line's order, so the
// same bits), where the separate horizontal pass loaded every register of v back K1 times,
// unaligned, from a band written a phase earlier. The M rows load each of their k0 + M - 1
// input rows once (M k0 loads alone); in cache that changes little (the divisions bound it:
// `npfast_bench --benchmark_filter=uniform2d`, AVX-512 2.6-2.7 G px/s either way, with K0 a
// compile-time 3 or 5; with k0 read at run time four rows ran at 1.4 on AVX2), from memory it
// saves the L2 re-reads. v is still stored whole, for the caller's borders. Outputs before the
// first aligned one (Stream) and after the last whole register, and the column sums after it,
// go one by one.
// How far ahead of its window uniform2d_regs prefetches the newest input row, in floats: 4 KiB,
// as the fused min / max kernel (rank: kFold2dAhead, best of 0-16 KiB there).
constexpr int64_t kUniform2dAhead = 1024;

template <int K1, int M, int K0, bool Stream, bool Shift>
void uniform2d_regs(const float* const* in, float* const* out, int64_t n, int64_t k0_any,
                    float* const* v) {
  // K0: the rows summed when known at compile time (0: k0_any, run time).
  const int64_t k0 = K0 > 0 ? K0 : k0_any;
  constexpr int64_t L = kLanes<float>;
  static_assert(K1 >= 2 && K1 - 1 <= L);
  struct Regs {
    V<float> s[M];
  };
  const int64_t nv = n + K1 - 1;
  const V<float> div0_v = set1<float>(static_cast<float>(k0));
  // The M rows' column sums at c: input row q loaded once, added to each output row r whose
  // window holds it (r <= q < r + k0), in[r] first: f32_uniform1d's order for every row.
  auto vreg = [&](int64_t c) {
    Regs g{};  // zeros: every lane is set at q == r before it is read
    V<float>* s = g.s;
#pragma GCC unroll 16
    for (int64_t q = 0; q < k0 + M - 1; ++q) {
      const V<float> x = load(in[q] + c);
#pragma GCC unroll 8
      for (int r = 0; r < M; ++r)
        if (q >= r && q < r + k0) s[r] = q == r ? x : add(s[r], x);
    }
    if constexpr (K0 > 0) {
      divide_all_by<K0, M>(s);
    } else {
#pragma GCC unroll 8
      for (int r = 0; r < M; ++r) s[r] = divide<float>(s[r], div0_v);
    }
#pragma GCC unroll 8
    for (int r = 0; r < M; ++r) store(v[r] + c, s[r]);
    return g;
  };
  auto vone = [&](int64_t c) {
    for (int r = 0; r < M; ++r) {
      float s = in[r][c];
      for (int64_t q = 1; q < k0; ++q) s += in[r + q][c];
      v[r][c] = s / static_cast<float>(k0);
    }
  };
  auto hone = [&](int64_t j) {
    for (int r = 0; r < M; ++r) {
      float s = v[r][j];
      for (int64_t t = 1; t < K1; ++t) s += v[r][j + t];
      out[r][j] = s / static_cast<float>(K1);
    }
  };
  // Non-temporal stores from the first vector-aligned output (none when out is not aligned
  // to a float); Shift when the M rows' alignments differ (the caller checks).
  auto st = RowStores<float, M, Stream, (Shift ? kAny : kSame)>::from_row0(out, n);
  const int64_t j0 = st.j0;
  int64_t j = j0;
  for (int64_t c = 0; c < j0; ++c) vone(c);
  int64_t have = j0;  // v holds columns [0, have)
  if (j + 2 * L <= nv && j + L <= n) {
    Regs cur = vreg(j);
    for (; j + L <= n && j + 2 * L <= nv; j += L) {
      prefetch_new_rows<float, M, kLanes<float> * 4>(in + k0 - 1, j, nv, kUniform2dAhead);
      const Regs next = vreg(j + L);
      V<float> o[M];
#pragma GCC unroll 8
      for (int r = 0; r < M; ++r)
        o[r] = window_sum(cur.s[r], next.s[r], std::make_index_sequence<K1 - 1>());
      divide_all_by<K1, M>(o);
#pragma GCC unroll 8
      for (int r = 0; r < M; ++r) st.put(r, j, o[r], j == j0);
      cur = next;
    }
    have = j + L;
  }
  st.finish(j);
  for (int64_t c = have; c < nv; ++c) vone(c);
  for (int64_t i = 0; i < j0; ++i) hone(i);
  for (int64_t i = j; i < n; ++i) hone(i);
}

// M rows (out[r] from in[r .. r + k0 - 1], column sums in v[r]) for the windows K1 the
// registers hold; false for the others.
template <int M, int K0, bool Stream, bool Shift = false>
bool uniform2d_rows_regs(const float* const* in, float* const* out, int64_t n, int64_t k0,
                         int64_t k1, float* const* v) {
  constexpr int64_t L = kLanes<float>;
  switch (k1) {
    case 3:
      return uniform2d_regs<3, M, K0, Stream, Shift>(in, out, n, k0, v), true;
    case 5:
      return uniform2d_regs<5, M, K0, Stream, Shift>(in, out, n, k0, v), true;
    case 7:
      return uniform2d_regs<7, M, K0, Stream, Shift>(in, out, n, k0, v), true;
    case 9:
      if constexpr (L >= 8) return uniform2d_regs<9, M, K0, Stream, Shift>(in, out, n, k0, v), true;
      return false;
    default:
      return false;
  }
}

// Groups of M rows for the heights K0 compiled in (3 and 5: the loads and sums of a group
// unrolled whole); false for the others.
template <int M, bool Stream, bool Shift>
bool uniform2d_group_as(const float* const* in, float* const* out, int64_t n, int64_t k0,
                        int64_t k1, float* const* v) {
  switch (k0) {
    case 3:
      return uniform2d_rows_regs<M, 3, Stream, Shift>(in, out, n, k0, k1, v);
    case 5:
      return uniform2d_rows_regs<M, 5, Stream, Shift>(in, out, n, k0, k1, v);
    default:
      return false;
  }
}

template <int M, bool Stream>
bool uniform2d_group(const float* const* in, float* const* out, int64_t n, int64_t k0, int64_t k1,
                     float* const* v) {
  if constexpr (Stream && kLanes<float> >= 16)  // AVX-512 only (uniform2d_rows_any)
    if (!same_alignment(out, M)) return uniform2d_group_as<M, Stream, true>(in, out, n, k0, k1, v);
  return uniform2d_group_as<M, Stream, false>(in, out, n, k0, k1, v);
}

template <bool Stream>
void uniform2d_any(const float* const* in, float* out, int64_t n, int64_t k0, int64_t k1,
                   float* v) {
  if (uniform2d_rows_regs<1, 0, Stream>(in, &out, n, k0, k1, &v)) return;
  // Other widths: the column sums whole, then the line kernel along them.
  uniform1d<float>(in, &v, 1, n + k1 - 1, k0);
  uniform1d_line<float, Stream>(v, out, n, k1);
}

// m rows of the fused 2-D uniform filter (filter1d.h: f32_uniform2d_rows): groups of M rows
// load each input row once for the group; the rest go one by one. M = 2 on AVX-512, where
// groups of 4 ran slower in spite of their fewer loads (`npfast_bench
// --benchmark_filter=uniform2d_rows`, Zen 5, 4 rows a call: groups of 4 / 2 / 1 5.3-5.6 /
// 5.9 / 4.4-4.7 G px/s; the filter at 4000^2, 1 thread CPU ns/px 0.208-0.224 -> 0.188-0.205;
// docs/ndimage-speed.md "ndcliff"); 4 on AVX2 (2: 5.0 -> 4.8 G px/s). Streamed rows of different
// alignments group through RowStores' shifted stores on AVX-512 (5000^2 cold, 1 thread CPU
// ns/px 0.58-0.60 -> 0.49-0.50), not on AVX2, where they measured slower (4001^2: 0.683 ->
// 0.707; 16 registers for the sums and four rows' shifts, not checked; docs/ndimage-speed.md
// "sobuni2").
template <bool Stream>
void uniform2d_rows_any(const float* const* in, float* const* out, int64_t m, int64_t n, int64_t k0,
                        int64_t k1, float* const* v) {
  constexpr int M = kLanes<float> >= 16 ? 2 : 4;
  int64_t r = 0;
  for (; r + M <= m && (!Stream || kLanes<float> >= 16 || same_alignment(out + r, M)); r += M)
    if (!uniform2d_group<M, Stream>(in + r, out + r, n, k0, k1, v + r)) break;
  for (; r < m; ++r) uniform2d_any<Stream>(in + r, out[r], n, k0, k1, v[r]);
}

template <class T>
void uniform2d_rows(const T* const* in, T* const* out, int64_t m, int64_t n, int64_t k0, int64_t k1,
                    T* const* v) {
  uniform2d_rows_any<false>(in, out, m, n, k0, k1, v);
}

template <class T>
void uniform2d_rows_nt(const T* const* in, T* const* out, int64_t m, int64_t n, int64_t k0,
                       int64_t k1, T* const* v) {
  uniform2d_rows_any<true>(in, out, m, n, k0, k1, v);
}

template <class T>
void uniform2d(const T* const* in, T* out, int64_t n, int64_t k0, int64_t k1, T* v) {
  uniform2d_any<false>(in, out, n, k0, k1, v);
}

template <class T>
void uniform2d_nt(const T* const* in, T* out, int64_t n, int64_t k0, int64_t k1, T* v) {
  uniform2d_any<true>(in, out, n, k0, k1, v);
}

// The fused 3 x 3 separable correlation (filter1d.h: f32_sep3_row, f32_sep3_rows), SH / SV the
// signs of the along-row and across-rows weights' symmetry: the along-row results of each
// column are made in registers from the input rows (three loads a row, from L1 / L2 but the
// newest) and combined across rows at once, so nothing goes through scratch. sep3_h: one
// along-row result.
template <int SH, int SV>
inline V<float> sep3_h(const float* x, V<float> wh0, V<float> wh1) {
  const V<float> d = SH > 0 ? add(load(x - 1), load(x + 1)) : sub(load(x - 1), load(x + 1));
  return fma(d, wh0, mul(load(x), wh1));
}

#if defined(__AVX512F__)
// a + b and a * w + b with the first source's NaN where both are NaN (x86 returns the first
// source's NaN, its sign and payload): the compiler may swap commutative operands, so which
// NaN an output gets (where an input NaN meets an inf - inf or inf * 0 of the other sign)
// followed its register allocation. Pinned here to the expression's order. The code before
// (three loads a row) got the other order in some rows of some instantiations: NaN signs differ
// from it there, every other bit is the same (docs/ndimage-speed.md "stream6").
inline __m512 add_first(__m512 a, __m512 b) {
  __m512 r;
  asm("vaddps %2, %1, %0" : "=v"(r) : "v"(a), "v"(b));
  return r;
}
inline __m512 fma_first(__m512 d, __m512 w, __m512 b) {
  asm("vfmadd132ps %2, %1, %0" : "+v"(d) : "v"(b), "v"(w));
  return d;
}
// sep3_h from the row's registers: x[j - 1 ..], x[j ..], x[j + 1 ..].
template <int SH>
inline __m512 sep3_h_regs(__m512 left, __m512 x, __m512 right, __m512 wh0, __m512 wh1) {
  return fma_first(SH > 0 ? add_first(left, right) : sub(left, right), wh0, mul(x, wh1));
}
#endif

// M output rows at once, out[r] from in[r .. r + 2]: the M + 2 input rows' along-row results
// are made once for the M rows that share them ((M + 2) / M per output row, 3 for one row
// alone): fewer loads and FP instructions per output, and each row read again from L2 once per
// call, not three times. Each output is fma(h[r] +- h[r + 2], wv0, h[r + 1] * wv1) whatever M:
// the same bits. Streamed rows of different alignments store through RowStores (shifted).
// In cache (`npfast_bench --benchmark_filter=sep3`, AVX-512): one row a call 3.5 G
// px/s, four 5.4. In sobel at 4000^2 cold, 1 thread CPU: M = 1 / 2 / 4 / 8 0.56 / 0.47 /
// 0.42 / 0.42 ns/px (copy 0.35).
// On AVX-512 each input row takes one load per 16 outputs: its registers are carried from step
// to step and the neighbours x[j - 1 ..] and x[j + 1 ..] made from them with valignd, where
// three loads a row (the two shifted ones split across cache lines, as every unaligned 64-byte
// load) bound the kernel in cache. The same values, so the same bits. Zen 5: four rows a call
// in cache 6.1 -> 9.2 G px/s; sobel 4000^2 cold, 1 thread CPU ns/px 0.236 -> 0.205, 2 threads
// (CPU, both) 0.23-0.24 -> 0.19-0.21 (docs/ndimage-speed.md "stream6"). AVX2 keeps the loads
// (a lane shift across a 256-bit register is two permutes there).
template <int SH, int SV, int M, bool Stream, bool Shift>
void sep3_rows_body(const float* const* in, float* const* out, int64_t n, const float* wh,
                    const float* wv) {
  constexpr int64_t L = kLanes<float>;
  const V<float> wh0 = set1<float>(wh[0]), wh1 = set1<float>(wh[1]);
  const V<float> wv0 = set1<float>(wv[0]), wv1 = set1<float>(wv[1]);
  auto hone = [&](const float* x) {
    const float d = SH > 0 ? x[-1] + x[1] : x[-1] - x[1];
    return std::fma(d, wh[0], x[0] * wh[1]);
  };
  auto one = [&](int64_t j) {
    float a = hone(in[0] + j), b = hone(in[1] + j);
    for (int r = 0; r < M; ++r) {
      const float c = hone(in[r + 2] + j);
      out[r][j] = std::fma(SV > 0 ? a + c : a - c, wv[0], b * wv[1]);
      a = b;
      b = c;
    }
  };
  auto st = RowStores<float, M, Stream, (Shift ? kAny : kSame)>::from_row0(out, n);
  int64_t j = st.j0;
  for (int64_t c = 0; c < j; ++c) one(c);
#if defined(__AVX512F__)
  if (j + L <= n) {
    constexpr auto lanes = std::make_index_sequence<static_cast<size_t>(L)>();
    // Row q's registers at columns [j - L, j) (only its last lane, x[j - 1], is read) and
    // [j, j + L). The input rows hold columns -1 .. n (the centre pointers' neighbours).
    V<float> prev[M + 2], cur[M + 2];
#pragma GCC unroll 8
    for (int q = 0; q < M + 2; ++q) {
      prev[q] = set1<float>(in[q][j - 1]);
      cur[q] = load(in[q] + j);
    }
    // Row q's along-row results at [j, j + L), given its register at [j + L, j + 2 L) (of
    // which only lane 0, x[j + L], is read); then one register on.
    auto h = [&](int q, V<float> next) {
      const V<float> res = sep3_h_regs<SH>(concat_shift<L - 1>(prev[q], cur[q], lanes), cur[q],
                                           concat_shift<1>(cur[q], next, lanes), wh0, wh1);
      prev[q] = cur[q];
      cur[q] = next;
      return res;
    };
    for (; j + L <= n; j += L) {
      prefetch_new_rows<float, M, kLanes<float> * 4>(in + 2, j, n, kUniform2dAhead);
      const bool whole = j + 2 * L <= n;  // the next register is in the row
      auto next = [&](int q) { return whole ? load(in[q] + j + L) : set1<float>(in[q][j + L]); };
      V<float> a = h(0, next(0));
      V<float> b = h(1, next(1));
#pragma GCC unroll 8
      for (int r = 0; r < M; ++r) {
        const V<float> c = h(r + 2, next(r + 2));
        st.put(r, j, fma_first(SV > 0 ? add_first(a, c) : sub(a, c), wv0, mul(b, wv1)), j == st.j0);
        a = b;
        b = c;
      }
    }
  }
#else
  for (; j + L <= n; j += L) {
    prefetch_new_rows<float, M, kLanes<float> * 4>(in + 2, j, n, kUniform2dAhead);
    V<float> a = sep3_h<SH, SV>(in[0] + j, wh0, wh1);
    V<float> b = sep3_h<SH, SV>(in[1] + j, wh0, wh1);
    // Unrolled, so each row's store state stays in registers (GCC left it rolled, the state on
    // the stack, once the stores were shared: row_stores.h).
#pragma GCC unroll 8
    for (int r = 0; r < M; ++r) {
      const V<float> c = sep3_h<SH, SV>(in[r + 2] + j, wh0, wh1);
      st.put(r, j, fma(SV > 0 ? add(a, c) : sub(a, c), wv0, mul(b, wv1)), j == st.j0);
      a = b;
      b = c;
    }
  }
#endif
  st.finish(j);
  for (; j < n; ++j) one(j);
}

// M rows, streamed rows of different alignments (a row pitch not a multiple of the vector)
// through RowStores' shifted stores.
template <int SH, int SV, int M, bool Stream>
void sep3_rows_group(const float* const* in, float* const* out, int64_t n, const float* wh,
                     const float* wv) {
  if (Stream && !same_alignment(out, M))
    sep3_rows_body<SH, SV, M, Stream, true>(in, out, n, wh, wv);
  else
    sep3_rows_body<SH, SV, M, Stream, false>(in, out, n, wh, wv);
}

// Rows in groups of 4, then 2, then singles.
template <int SH, int SV, bool Stream>
void sep3_rows_signed(const float* const* in, float* const* out, int64_t m, int64_t n,
                      const float* wh, const float* wv) {
  int64_t r = 0;
  for (; r + 4 <= m; r += 4) sep3_rows_group<SH, SV, 4, Stream>(in + r, out + r, n, wh, wv);
  for (; r + 2 <= m; r += 2) sep3_rows_group<SH, SV, 2, Stream>(in + r, out + r, n, wh, wv);
  for (; r < m; ++r) sep3_rows_body<SH, SV, 1, Stream, false>(in + r, out + r, n, wh, wv);
}

template <bool Stream>
void sep3_rows_any(const float* const* in, float* const* out, int64_t m, int64_t n, const float* wh,
                   int symh, const float* wv, int symv) {
  if (symh > 0)
    symv > 0 ? sep3_rows_signed<1, 1, Stream>(in, out, m, n, wh, wv)
             : sep3_rows_signed<1, -1, Stream>(in, out, m, n, wh, wv);
  else
    symv > 0 ? sep3_rows_signed<-1, 1, Stream>(in, out, m, n, wh, wv)
             : sep3_rows_signed<-1, -1, Stream>(in, out, m, n, wh, wv);
}

template <class T>
void sep3_rows(const T* const* in, T* const* out, int64_t m, int64_t n, const T* wh, int symh,
               const T* wv, int symv) {
  sep3_rows_any<false>(in, out, m, n, wh, symh, wv, symv);
}

template <class T>
void sep3_rows_nt(const T* const* in, T* const* out, int64_t m, int64_t n, const T* wh, int symh,
                  const T* wv, int symv) {
  sep3_rows_any<true>(in, out, m, n, wh, symh, wv, symv);
}

// One row: the m = 1 case.
template <class T>
void sep3_row(const T* const* in, T* out, int64_t n, const T* wh, int symh, const T* wv, int symv) {
  sep3_rows_any<false>(in, &out, 1, n, wh, symh, wv, symv);
}

template <class T>
void sep3_row_nt(const T* const* in, T* out, int64_t n, const T* wh, int symh, const T* wv,
                 int symv) {
  sep3_rows_any<true>(in, &out, 1, n, wh, symh, wv, symv);
}

// SciPy's running sum along one line: scalar, the chain is the loop's whole cost.
template <class T>
void uniform1d_run(const T* in, T* out, int64_t n, int64_t size) {
  const T d = static_cast<T>(size);
  T s = 0;
  for (int64_t k = 0; k < size; ++k) s += in[k];
  out[0] = s / d;
  for (int64_t i = 1; i < n; ++i) {
    s += in[i - 1 + size] - in[i - 1];
    out[i] = s / d;
  }
}

#include "src/kernels/filter1d/rows.h"

inline constexpr npfast::filter1d::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/filter1d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace filter1d
}  // namespace NPFAST_TARGET
}  // namespace npfast
