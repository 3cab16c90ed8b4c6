// SIMD body of the corr2d family, written once against src/core/simd/ and instantiated per ISA
// by x86_<isa>.cc (which includes the ISA header and defines NPFAST_TARGET first). No include
// guard: one inclusion per ISA file.
//
// Vectorised along the output row: a block is R output rows x U vectors; every tap is one
// broadcast multiplied into R * U accumulators, the inputs read straight from the row pointers
// (unaligned loads, folded into the FMA). The column tail uses masked loads and stores, so
// every output column goes through the same sequence of FMAs (bitwise stable under any column
// split). Fixed shapes broadcast their taps once per call and walk input rows, each loaded
// vector feeding every output row of the block that uses it (block_rows).
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "src/kernels/corr2d/corr2d.h"
#include "src/kernels/row_prefetch.h"
#include "src/kernels/row_stores.h"
#include "src/kernels/sanitized.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace corr2d {

using npfast::corr2d::kMaxRows;

// R * U = 12 independent FMA chains cover FMA latency x throughput of current cores (Zen 5:
// 4 cycles x 2 pipes needs 8). The last partial block keeps as many chains as it has vectors.
constexpr int kVectors = 3;

// A non-temporal store of v at p when p is vector-aligned (stream() requires it), else a plain
// one: the streamed blocks of AVX2, of calls of fewer than 4 rows, and of rows off an element's
// alignment (AVX-512's 4-row calls stream rows off a line through stream_shifted instead).
template <class T>
inline void stream_vec(T* p, V<T> v) {
  if (reinterpret_cast<uintptr_t>(p) % sizeof(V<T>) == 0)
    stream(p, v);
  else
    store(p, v);
}

// How store_block stores a block's full vectors. kPlain: plain stores. kStreamAny: each through
// stream_vec (rows of any alignment). kStreamAligned: every vector is vector-aligned (every row
// starts on one), all stream.
constexpr int kPlain = 0, kStreamAny = 1, kStreamAligned = 2;

// Stores a block's R x (NV + Masked) accumulators at column j (the masked vector: m lanes)
// as Stream says.
template <class T, int R, int NV, bool Masked, int Stream = kPlain>
inline void store_block(T* const* out, int64_t j, int m,
                        const V<T> (&acc)[R][NV + (Masked ? 1 : 0)]) {
  constexpr int L = kLanes<T>;
#pragma GCC unroll 16
  for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
    for (int u = 0; u < NV + (Masked ? 1 : 0); ++u) {
      if (Masked && u == NV)
        storen(out[o] + j + u * L, acc[o][u], m);
      else if (Stream == kStreamAligned)
        stream(out[o] + j + u * L, acc[o][u]);
      else if (Stream == kStreamAny)
        stream_vec(out[o] + j + u * L, acc[o][u]);
      else
        store(out[o] + j + u * L, acc[o][u]);
    }
}

// Accumulates one block of R rows x (NV full vectors + one masked vector of m lanes when
// Masked). tv: pre-broadcast taps (fixed shapes) or null (taps broadcast here). Scipy: SciPy's
// sum instead of fused multiply-adds (the `_scipy` kernel, corr2d.h): taps with |w| <=
// DBL_EPSILON skipped, each product rounded before its add.
template <class T, int R, int NV, bool Masked, int KH, int KW, int Stream = kPlain,
          bool Scipy = false>
inline void block(const T* const* in, T* const* out, int64_t j, int m, const T* taps,
                  const V<T>* tv, int kh_rt, int kw_rt) {
  constexpr int L = kLanes<T>;
  constexpr int U = NV + (Masked ? 1 : 0);
  const int kh = KH ? KH : kh_rt;
  const int kw = KW ? KW : kw_rt;
  V<T> acc[R][U];
#pragma GCC unroll 16
  for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u) acc[o][u] = zero<T>();
  for (int a = 0; a < kh; ++a) {
    const T* rows[R];
#pragma GCC unroll 16
    for (int o = 0; o < R; ++o) rows[o] = in[o + a] + j;
    for (int b = 0; b < kw; ++b) {
      if (Scipy && !(std::fabs(taps[a * kw + b]) > DBL_EPSILON)) continue;
      const V<T> t = (KH && KW) ? tv[a * kw + b] : set1<T>(taps[a * kw + b]);
#pragma GCC unroll 16
      for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) {
          const V<T> x =
              (Masked && u == NV) ? loadn(rows[o] + b + u * L, m) : load(rows[o] + b + u * L);
          acc[o][u] = Scipy ? add(acc[o][u], mul(x, t)) : fma(t, x, acc[o][u]);
        }
    }
  }
  store_block<T, R, NV, Masked, Stream>(out, j, m, acc);
}

// The same block, walking input rows instead of kernel rows: input row r (of the R + KH - 1
// the block reads) and tap column b give U vectors, loaded once and multiplied into every
// output row o with 0 <= r - o < KH (tap (r - o, b)). Loads per block drop from R*KH*KW*U to
// (R + KH - 1)*KW*U (7x7, R = 4: 588 -> 210), which is what limits the wide kernels (one
// unaligned load per FMA, half of them split across cache lines). Each output still sees its
// taps in the order a = 0..KH-1, b = 0..KW-1: the same bits as block().
// Calls f(integral_constant<int, I>) for I = LO..HI (none when LO > HI).
template <int LO, int HI, class F>
inline __attribute__((always_inline)) void for_range(F&& f) {
  if constexpr (LO <= HI) {
    f(std::integral_constant<int, LO>{});
    for_range<LO + 1, HI>(f);
  }
}

// Whether block_rows keeps each loaded input vector and tap in a register (pin): GCC otherwise
// folds the load into every FMA that uses the value (a tap into its U FMAs, an input vector into
// up to 4 in the rows that feed few outputs), and each folded operand is one more load, which
// bound the kernel (Zen 5: two 64-byte loads a cycle, a load that splits a cache line takes
// two). Pinned, the tap columns and the steady rows are unrolled as well (with a runtime column
// or row loop GCC kept the accumulators in memory: half the speed; 7x7 15% slower). With 16
// registers (AVX2) that fits 3x3 only (12 accumulators, 3 inputs, 1 tap); 5x5 and 7x7 spilled
// and ran 10-25% slower, so they keep GCC's choice there (docs/corr2d.md "corr5").
// Sanitizer builds (ASan) keep the rolled, unpinned loop: the same loads of the same addresses
// and the same FMAs, while the unrolled kernels took clang's ASan+UBSan+coverage build of the
// AVX-512 file from 43 s to 206 s.
#ifdef NPFAST_SANITIZED
template <int KW>
constexpr bool kPinned = false;
#else
template <int KW>
constexpr bool kPinned = kVectorRegisters >= 32 || KW <= 3;
#endif

template <bool Pinned, class V_>
inline __attribute__((always_inline)) void pin(V_& v) {
  // "v" (any of the 32 registers) where the ISA has them, else "x" (the 16).
  if constexpr (Pinned && kVectorRegisters >= 32)
    asm("" : "+v"(v));
  else if constexpr (Pinned)
    asm("" : "+x"(v));
}

// Masked: the last of the U vectors holds m lanes (masked loads: the lanes past them read
// nothing and are never stored).
template <class T, int R, int U, int KH, int KW, bool Masked = false>
inline __attribute__((always_inline)) void block_rows_acc(const T* const* in, int64_t j,
                                                          const V<T>* tv, V<T> (&acc)[R][U],
                                                          int m = 0) {
  constexpr int L = kLanes<T>;
#pragma GCC unroll 16
  for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u) acc[o][u] = zero<T>();
  // Input row r into outputs LO..HI (compile-time, so acc stays in registers).
  auto row = [&](int r, auto lo, auto hi) __attribute__((always_inline)) {
    const T* p = in[r] + j;
    // Tap column b: U input vectors, each into every output row LO..HI.
    auto col = [&](auto b) __attribute__((always_inline)) {
      V<T> x[U];
#pragma GCC unroll 16
      for (int u = 0; u < U; ++u) {
        x[u] = Masked && u == U - 1 ? loadn(p + b + u * L, m) : load(p + b + u * L);
        pin<kPinned<KW>>(x[u]);
      }
      for_range<decltype(lo)::value, decltype(hi)::value>([&](
          auto o) __attribute__((always_inline)) {
        V<T> t = tv[(r - o) * KW + b];
        pin<kPinned<KW>>(t);
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) acc[o][u] = fma(t, x[u], acc[o][u]);
      });
    };
    if constexpr (kPinned<KW>) {
      for_range<0, KW - 1>(col);
    } else {
#pragma GCC unroll 1
      for (int b = 0; b < KW; ++b) col(b);
    }
  };
  // Rows 0..R-2 feed outputs 0..r; rows R-1..KH-1 feed all R; rows KH..R+KH-2 feed r-KH+1..R-1.
  for_range<0, R - 2>([&](auto r) __attribute__((always_inline)) {
    row(r, std::integral_constant<int, 0>{}, r);
  });
  // The steady rows unrolled where pinned: as a runtime loop (7x7: rows 3..6) GCC stored the 12
  // accumulators to the stack at the end of each row and reloaded them at the next, 24 memory
  // operations and a store-to-load forward in every chain per row (AVX-512 7x7 in L1 164 -> 189
  // GFLOP/s unrolled, docs/corr2d.md "corr6").
  if constexpr (kPinned<KW>) {
    for_range<R - 1, KH - 1>([&](auto r) __attribute__((always_inline)) {
      row(r, std::integral_constant<int, 0>{}, std::integral_constant<int, R - 1>{});
    });
  } else {
#pragma GCC unroll 1
    for (int r = R - 1; r < KH; ++r)
      row(r, std::integral_constant<int, 0>{}, std::integral_constant<int, R - 1>{});
  }
  for_range<KH, R + KH - 2>([&](auto r) __attribute__((always_inline)) {
    row(r, std::integral_constant<int, r - KH + 1>{}, std::integral_constant<int, R - 1>{});
  });
}

template <class T, int R, int U, int KH, int KW, int Stream = kPlain>
inline __attribute__((always_inline)) void block_rows_body(const T* const* in, T* const* out,
                                                           int64_t j, const V<T>* tv) {
  V<T> acc[R][U];
  block_rows_acc<T, R, U, KH, KW>(in, j, tv, acc);
  store_block<T, R, U, false, Stream>(out, j, 0, acc);
}

template <class T, int R, int U, int KH, int KW, int Stream = kPlain>
inline void block_rows(const T* const* in, T* const* out, int64_t j, const V<T>* tv) {
  block_rows_body<T, R, U, KH, KW, Stream>(in, out, j, tv);
}

// A row end's block: NV full vectors and, with Masked, one of m lanes, stored plainly.
template <class T, int R, int NV, bool Masked, int KH, int KW>
inline void block_rows_tail(const T* const* in, T* const* out, int64_t j, int m, const V<T>* tv) {
  constexpr int U = NV + (Masked ? 1 : 0);
  V<T> acc[R][U];
  block_rows_acc<T, R, U, KH, KW, Masked>(in, j, tv, acc, m);
  store_block<T, R, NV, Masked>(out, j, m, acc);
}

// The fixed shapes walk input rows (block_rows: 5x5 and 7x7 11-25% faster than the kernel-row
// walk, docs/corr2d.md; 3x3 since "corr5": 54 input loads per 108 FMAs instead of 108, in L1
// AVX-512 123 -> 147 GFLOP/s, AVX2 88 -> 112); the general kernel walks kernel rows.
template <class T, int R, int NV, bool Masked, int KH, int KW, int Stream = kPlain,
          bool Scipy = false>
inline void any_block(const T* const* in, T* const* out, int64_t j, int m, const T* taps,
                      const V<T>* tv, int kh, int kw) {
  // The blocks of 4 rows; short row groups keep block(), which gives the same bits. A row's
  // end (fewer or masked vectors) walking kernel rows loaded one vector per FMA, most of them
  // split across lines: 7x7 500^2, 1 thread, 17% of the time for 4% of the outputs. Sanitizer
  // builds keep block() for the ends, so that clang's sanitizer+coverage build of this file
  // stays near a minute (every variant: ~3 minutes).
  if constexpr (KH >= 3 && KW >= 3 && R == 4 && NV == kVectors && !Masked && !Scipy)
    block_rows<T, R, NV, KH, KW, Stream>(in, out, j, tv);
#ifndef NPFAST_SANITIZED
  else if constexpr (KH >= 3 && KW >= 3 && R == 4 && Stream == kPlain && !Scipy)
    block_rows_tail<T, R, NV, Masked, KH, KW>(in, out, j, m, tv);
#endif
  else
    block<T, R, NV, Masked, KH, KW, Stream, Scipy>(in, out, j, m, taps, tv, kh, kw);
}

// How far ahead of its block the streaming kernel prefetches the input rows new to its row
// group: 4 KiB, as sobel's sep3 kernel (filter1d: kUniform2dAhead); 1, 2 and 8 KiB measured
// the same (docs/corr2d.md "corr3s").
constexpr int64_t kPrefetchAheadBytes = 4096;

// The R input rows new to a row group (rows KH - 1 .. R + KH - 2: the rows before them the
// previous group read), at the U vectors kPrefetchAheadBytes past column j (row_prefetch.h).
template <class T, int R, int KH, int U>
inline __attribute__((always_inline)) void prefetch_rows(const T* const* in, int64_t j, int64_t n) {
  prefetch_new_rows<T, R, U * sizeof(V<T>)>(in + KH - 1, j, n,
                                            kPrefetchAheadBytes / static_cast<int64_t>(sizeof(T)));
}

#if defined(__AVX512F__)
// The streaming 4-row blocks where a row is off a vector-aligned address (3000 or 2999 float32
// wide: every other row, or all): each row streams whole lines through row_stores.h (kAny, the
// frame at the first block's column), where stream_vec stored the rows off a line plainly (each
// line read first) and two 256-bit halves per vector (tried for rows 32 bytes off) were slower:
// 2 threads, ns/px in the same rounds, 2999^2 stream_vec 0.168-0.171 -> 0.132-0.139, 3000^2
// halves 0.138-0.157 -> 0.128-0.136, sobel 0.133-0.157 (docs/corr2d.md "corr3s"). Advances j
// past the blocks it ran.
template <class T, int KH, int KW>
inline __attribute__((always_inline)) void stream_shifted(const T* const* in, T* const* out,
                                                          int64_t n, const V<T>* tv, int64_t& j) {
  constexpr int R = 4, U = kVectors, L = kLanes<T>;
  if (j + U * L > n) return;
  RowStores<T, R, true, kAny> st(out, true, j);
  auto step = [&](auto first) __attribute__((always_inline)) {
    prefetch_rows<T, R, KH, U>(in, j, n);
    V<T> acc[R][U];
    block_rows_acc<T, R, U, KH, KW>(in, j, tv, acc);
#pragma GCC unroll 16
    for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
      for (int u = 0; u < U; ++u) st.put(o, j + u * L, acc[o][u], decltype(first)::value && u == 0);
  };
  step(std::true_type{});
  for (j += U * L; j + U * L <= n; j += U * L) step(std::false_type{});
  st.finish(j);
}
#endif

template <class T, int R, int KH, int KW, bool Stream, bool Reverse, bool Scipy = false>
inline void run(const T* const* in, T* const* out, int64_t n, const T* taps, const V<T>* tv, int kh,
                int kw) {
  constexpr int L = kLanes<T>;
  constexpr int U = kVectors;
  int64_t j = 0;
  if (Stream) {
    // The full blocks; the tail stores plainly. Each row keeps one alignment over the call (a
    // block is 3 x 64 bytes wide), so how its vectors stream is chosen here once, and the
    // 4-row blocks' body is inlined into the loop (through stream_vec's branches, and as a call
    // per block, GCC held 8-12 accumulators on the stack before the non-temporal stores).
    // With the new rows prefetched and every row streamed (shifted where it is off a line),
    // 3x3 past the L3 runs at sobel's pace (ns/px in the same rounds, main -> this, 2 threads:
    // 3000^2 0.157-0.164 -> 0.128-0.136, 4000^2 0.163-0.169 -> 0.141-0.148, sobel 0.133-0.157;
    // 1 thread: 3000^2 0.29-0.30 -> 0.20; docs/corr2d.md "corr3s").
    // stream_shifted's shifts count whole elements: rows off an element's alignment (a
    // caller's byte-offset view) take stream_vec's per-vector test below.
    bool lines = true, elements = true;
    for (int o = 0; o < R; ++o) {
      lines = lines && reinterpret_cast<uintptr_t>(out[o]) % sizeof(V<T>) == 0;
      elements = elements && reinterpret_cast<uintptr_t>(out[o]) % sizeof(T) == 0;
    }
    if constexpr (KH >= 3 && KW >= 3 && R == 4) {
      if (lines) {
        for (; j + U * L <= n; j += U * L) {
          prefetch_rows<T, R, KH, U>(in, j, n);
          block_rows_body<T, R, U, KH, KW, kStreamAligned>(in, out, j, tv);
        }
      }
#if defined(__AVX512F__)
      else if (elements) {
        stream_shifted<T, KH, KW>(in, out, n, tv, j);
      }
#endif
    }
    for (; j + U * L <= n; j += U * L) {
      prefetch_rows<T, R, KH, U>(in, j, n);
      any_block<T, R, U, false, KH, KW, kStreamAny>(in, out, j, 0, taps, tv, kh, kw);
    }
  }
  if (Reverse) {  // the full blocks right to left, then the tail
    const int64_t full = n / (U * L) * (U * L);
    for (int64_t b = full - U * L; b >= 0; b -= U * L)
      any_block<T, R, U, false, KH, KW, kPlain, Scipy>(in, out, b, 0, taps, tv, kh, kw);
    j = full;
  }
  for (; j + U * L <= n; j += U * L)
    any_block<T, R, U, false, KH, KW, kPlain, Scipy>(in, out, j, 0, taps, tv, kh, kw);
  const int64_t rem = n - j;
  const int m = static_cast<int>(rem % L);
  static_assert(kVectors == 3, "the tail switch covers 0..2 full vectors");
  switch ((rem / L) * 2 + (m > 0 ? 1 : 0)) {
    case 1:
      any_block<T, R, 0, true, KH, KW, kPlain, Scipy>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 2:
      any_block<T, R, 1, false, KH, KW, kPlain, Scipy>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 3:
      any_block<T, R, 1, true, KH, KW, kPlain, Scipy>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 4:
      any_block<T, R, 2, false, KH, KW, kPlain, Scipy>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 5:
      any_block<T, R, 2, true, KH, KW, kPlain, Scipy>(in, out, j, m, taps, tv, kh, kw);
      break;
    default:
      break;
  }
}

template <class T, int KH, int KW, bool Stream, bool Reverse, bool Scipy = false>
void dispatch_rows(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps,
                   const V<T>* tv, int kh, int kw) {
  switch (nrows) {
    case 4:
      run<T, 4, KH, KW, Stream, Reverse, Scipy>(in, out, n, taps, tv, kh, kw);
      break;
    case 3:
      run<T, 3, KH, KW, Stream, Reverse, Scipy>(in, out, n, taps, tv, kh, kw);
      break;
    case 2:
      run<T, 2, KH, KW, Stream, Reverse, Scipy>(in, out, n, taps, tv, kh, kw);
      break;
    default:
      run<T, 1, KH, KW, Stream, Reverse, Scipy>(in, out, n, taps, tv, kh, kw);
      break;
  }
}

template <class T, int KH, int KW, bool Stream = false, bool Reverse = false>
void rows(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps, int kh, int kw) {
  if constexpr (KH && KW) {
    V<T> tv[KH * KW];
    for (int i = 0; i < KH * KW; ++i) tv[i] = set1<T>(taps[i]);
    dispatch_rows<T, KH, KW, Stream, Reverse>(in, out, nrows, n, taps, tv, kh, kw);
  } else {
    dispatch_rows<T, KH, KW, Stream, Reverse>(in, out, nrows, n, taps, nullptr, kh, kw);
  }
}
static_assert(kMaxRows == 4, "rows() dispatches nrows 1..4");

// SciPy's sums, any shape (corr2d.h: the `_scipy` kernel). Lanes are independent outputs, so
// each output sees SciPy's scalar sequence of operations exactly.
template <class T>
void rows_scipy(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps, int kh,
                int kw) {
  dispatch_rows<T, 0, 0, false, false, true>(in, out, nrows, n, taps, nullptr, kh, kw);
}

inline constexpr npfast::corr2d::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/corr2d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace corr2d
}  // namespace NPFAST_TARGET
}  // namespace npfast
