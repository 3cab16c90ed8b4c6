// SIMD body of the corr2d family, written once against src/core/simd/ and instantiated per ISA
// by x86_<isa>.cc (which includes the ISA header and defines NPFAST_TARGET first). No include
// guard: one inclusion per ISA file.
//
// Vectorised along the output row: a block is R output rows x U vectors; every tap is one
// broadcast multiplied into R * U accumulators, the inputs read straight from the row pointers
// (unaligned loads, folded into the FMA). The column tail uses masked loads and stores, so
// every output column goes through the same sequence of FMAs (bitwise stable under any column
// split). Fixed shapes broadcast their taps once per call and unroll the tap loops.
#include <cstdint>

#include "src/kernels/corr2d/corr2d.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace corr2d {

using npfast::corr2d::kMaxRows;

// The tap loop for any shape (and single rows): tap by tap, each tap broadcast once into
// R * U accumulators, the inputs read straight from the row pointers.
template <class T, int R, int U, int NV, bool Masked>
inline void block_taps(const T* const* in, int64_t j, int m, const T* taps, const V<T>* tv, int kh,
                       int kw, V<T> (&acc)[R][U]) {
  constexpr int L = kLanes<T>;
  for (int a = 0; a < kh; ++a) {
    const T* rows[R];
#pragma GCC unroll 16
    for (int o = 0; o < R; ++o) rows[o] = in[o + a] + j;
    for (int b = 0; b < kw; ++b) {
      const V<T> t = tv ? tv[a * kw + b] : set1<T>(taps[a * kw + b]);
#pragma GCC unroll 16
      for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) {
          const V<T> x =
              (Masked && u == NV) ? loadn(rows[o] + b + u * L, m) : load(rows[o] + b + u * L);
          acc[o][u] = fma(t, x, acc[o][u]);
        }
    }
  }
}

// Accumulates one block of R rows x (NV full vectors + one masked vector of m lanes when
// Masked). tv: pre-broadcast taps (fixed shapes) or null (taps broadcast here).
template <class T, int R, int NV, bool Masked, int KH, int KW>
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
  if constexpr (KH > 0 && KH <= 5 && KW > 0 && R > 1) {
    // Fixed shapes: each loaded input vector feeds every output row that uses it (input row
    // i is tap row a = i - o of output row o), so it is loaded once per input row instead of
    // once per output row: 7x7 with R = 4 loads 210 input vectors per block instead of 588
    // (a third of them split across cache lines), plus one tap per row that uses it. The
    // vectors are pinned in registers (12 accumulators + 3 inputs + 1 tap = 16), else GCC
    // folds the loads back into the FMAs. Every accumulator still sees its taps in the order
    // a, then b: the same FMAs in the same order, so the same bits. Measured (1 thread, CPU
    // time, 1000^2): 3x3 0.76 -> 0.57 ms, 5x5 1.90 -> 1.54 ms; 7x7 went 3.5 -> 5.3 ms (the
    // unrolled block, ~1000 instructions, no longer runs from the op cache), so 7x7 keeps the
    // tap loop.
#pragma GCC unroll 16
    for (int i = 0; i < KH + R - 1; ++i) {
      const T* row = in[i] + j;
#pragma GCC unroll 16
      for (int b = 0; b < KW; ++b) {
        V<T> x[U];
#pragma GCC unroll 16
        for (int u = 0; u < U; ++u) {
          x[u] = (Masked && u == NV) ? loadn(row + b + u * L, m) : load(row + b + u * L);
          pin(x[u]);
        }
#pragma GCC unroll 16
        for (int o = 0; o < R; ++o) {
          const int a = i - o;
          if (a < 0 || a >= KH) continue;
          V<T> t = tv[a * KW + b];
          pin(t);
#pragma GCC unroll 16
          for (int u = 0; u < U; ++u) acc[o][u] = fma(t, x[u], acc[o][u]);
        }
      }
    }
  } else {
    block_taps<T, R, U, NV, Masked>(in, j, m, taps, tv, kh, kw, acc);
  }
#pragma GCC unroll 16
  for (int o = 0; o < R; ++o)
#pragma GCC unroll 16
    for (int u = 0; u < U; ++u) {
      if (Masked && u == NV)
        storen(out[o] + j + u * L, acc[o][u], m);
      else
        store(out[o] + j + u * L, acc[o][u]);
    }
}

// R * U = 12 independent FMA chains cover FMA latency x throughput of current cores (Zen 5:
// 4 cycles x 2 pipes needs 8). The last partial block keeps as many chains as it has vectors.
constexpr int kVectors = 3;

template <class T, int R, int KH, int KW>
inline void run(const T* const* in, T* const* out, int64_t n, const T* taps, const V<T>* tv, int kh,
                int kw) {
  constexpr int L = kLanes<T>;
  constexpr int U = kVectors;
  int64_t j = 0;
  for (; j + U * L <= n; j += U * L) block<T, R, U, false, KH, KW>(in, out, j, 0, taps, tv, kh, kw);
  const int64_t rem = n - j;
  const int m = static_cast<int>(rem % L);
  static_assert(kVectors == 3, "the tail switch covers 0..2 full vectors");
  switch ((rem / L) * 2 + (m > 0 ? 1 : 0)) {
    case 1:
      block<T, R, 0, true, KH, KW>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 2:
      block<T, R, 1, false, KH, KW>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 3:
      block<T, R, 1, true, KH, KW>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 4:
      block<T, R, 2, false, KH, KW>(in, out, j, m, taps, tv, kh, kw);
      break;
    case 5:
      block<T, R, 2, true, KH, KW>(in, out, j, m, taps, tv, kh, kw);
      break;
    default:
      break;
  }
}

template <class T, int KH, int KW>
void dispatch_rows(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps,
                   const V<T>* tv, int kh, int kw) {
  switch (nrows) {
    case 4:
      run<T, 4, KH, KW>(in, out, n, taps, tv, kh, kw);
      break;
    case 3:
      run<T, 3, KH, KW>(in, out, n, taps, tv, kh, kw);
      break;
    case 2:
      run<T, 2, KH, KW>(in, out, n, taps, tv, kh, kw);
      break;
    default:
      run<T, 1, KH, KW>(in, out, n, taps, tv, kh, kw);
      break;
  }
}

template <class T, int KH, int KW>
void rows(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps, int kh, int kw) {
  if constexpr (KH && KW) {
    V<T> tv[KH * KW];
    for (int i = 0; i < KH * KW; ++i) tv[i] = set1<T>(taps[i]);
    dispatch_rows<T, KH, KW>(in, out, nrows, n, taps, tv, kh, kw);
  } else {
    dispatch_rows<T, KH, KW>(in, out, nrows, n, taps, nullptr, kh, kw);
  }
}
static_assert(kMaxRows == 4, "rows() dispatches nrows 1..4");

inline constexpr npfast::corr2d::Table kTable = {
    {rows<float, 3, 3>, rows<float, 5, 5>, rows<float, 7, 7>, rows<float, 0, 0>},
    {rows<double, 3, 3>, rows<double, 5, 5>, rows<double, 7, 7>, rows<double, 0, 0>}};

}  // namespace corr2d
}  // namespace NPFAST_TARGET
}  // namespace npfast
