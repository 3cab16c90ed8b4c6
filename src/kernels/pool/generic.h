// SIMD body of the pooling family, written once against the vocabulary of src/core/simd/ and
// instantiated per ISA by x86_<isa>.cc (which includes the ISA header and defines NPFAST_TARGET
// first). No include guard: one inclusion per ISA file.
//
// Layout of the work: output row by output row. Only the in-plane window rows are visited, so
// top and bottom padding cost nothing. Output columns split into left and right edges (some tap
// column outside the plane: scalar code, PyTorch's loop) and the interior, computed a vector of
// output columns at a time: lane l holds output column ow + l, whose taps sit sW elements apart.
// A row of taps is read by one load (sW == 1), by two or three loads split into even/odd
// elements (sW == 2) or into three streams (sW == 3), or by a gather (any other stride; slow on
// some CPUs, so only the fallback). The last vector of a row is shifted left to end
// at the interior's end, recomputing a few outputs with the same values instead of a scalar tail.
#include <cmath>
#include <cstdint>
#include <limits>

#include "src/kernels/pool/pool.h"
#include "src/kernels/row_prefetch.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace pool {

using npfast::pool::AvgOpts;
using npfast::pool::Geom;

// The argmax scan blends, per lane, the offset of the chosen tap from the window's first
// position (r * dH * W + j * dW, as int32 bits in float lanes and int64 in double lanes) from a
// per-tap table of this many entries; larger windows with indices take the scalar path.
constexpr int64_t kMaxTaps = 1024;

enum class Cols { unit, pair, triple, gather };

using npfast::pool::interior;

// Reads the taps of one window row for kLanes consecutive output columns starting at `p`
// (the first output's first tap column): tap(off) returns p[l * s + off] in lane l.
template <class T, Cols C>
struct Taps {
  static constexpr int L = kLanes<T>;
  const T* p;
  int32_t s;
  V<T> even, odd, third;

  static V<T> odd_at(const T* q) {
    V<T> e, o;
    deinterleave(load(q), load(q + L), &e, &o);
    return o;
  }
  static V<T> third_at(const T* q) {
    V<T> x0, x1, x2;
    deinterleave3(load(q), load(q + L), load(q + 2 * L), &x0, &x1, &x2);
    return x2;
  }

  Taps(const T* row, int32_t stride) : p(row), s(stride) {
    if constexpr (C == Cols::pair) deinterleave(load(p), load(p + L), &even, &odd);
    if constexpr (C == Cols::triple)
      deinterleave3(load(p), load(p + L), load(p + 2 * L), &even, &odd, &third);
  }
  // For pair: off 0 and 1 come from the two loads above; tap off > 1 is the odd half of the
  // pair starting at off - 1, which ends exactly at the last element the vector needs (so the
  // operator only picks pair when the window is at least two columns wide).
  V<T> tap(int64_t off) const {
    if constexpr (C == Cols::unit) {
      return load(p + off);
    } else if constexpr (C == Cols::pair) {
      if (off == 0) return even;
      if (off == 1) return odd;
      return odd_at(p + off - 1);
    } else if constexpr (C == Cols::triple) {
      // As pair: offsets 0..2 from the loads above (the window spans at least three columns),
      // others from the third stream of the triple starting two before.
      if (off == 0) return even;
      if (off == 1) return odd;
      if (off == 2) return third;
      return third_at(p + off - 2);
    } else {
      return gather_stride(p + off, s);
    }
  }
};

template <class T>
V<T> restore(V<T> v, Cols c) {
  return c == Cols::pair ? undo_deinterleave(v) : v;
}

// ---------------------------------------------------------------------------------------------
// Max pooling

// One output by PyTorch's loop (edges, and whole rows the vector path does not take).
template <class T>
inline void max_one(const Geom& g, const T* in, int64_t in_row, int64_t h0, int64_t h1, int64_t ow,
                    T* out, int64_t* idx) {
  int64_t w0, w1;
  npfast::pool::max_window(ow, g.sW, g.pW, g.kW, g.dW, g.W, &w0, &w1);
  T m = -std::numeric_limits<T>::infinity();
  int64_t mi = h0 * g.W + w0;
  for (int64_t ih = h0; ih < h1; ih += g.dH)
    for (int64_t iw = w0; iw < w1; iw += g.dW) {
      const T v = in[ih * in_row + iw];
      if (v > m || std::isnan(v)) {
        m = v;
        mi = ih * g.W + iw;
      }
    }
  *out = m;
  if (idx) *idx = mi;
}

// The interior [a, b) of output row oh (b - a >= kLanes), window rows [h0, h1) step dH.
// KW: the window width when known at compile time (with dW == 1), else 0.
template <class T, Cols C, int KW, bool Idx>
void max_row(const Geom& g, const T* in, int64_t in_row, T* out, int64_t* idx, int64_t oh,
             int64_t h0, int64_t h1, int64_t a, int64_t b, const int64_t* tapoff) {
  constexpr int L = kLanes<T>;
  const int64_t kW = KW ? KW : g.kW;
  const int64_t dW = KW ? 1 : g.dW;
  const int64_t top = oh * g.sH - g.pH;
  const int64_t r0 = (h0 - top) / g.dH;
  const V<T> ninf = set1<T>(-std::numeric_limits<T>::infinity());
  for (int64_t ow = a; ow < b; ow += L) {
    const int64_t o = ow + L <= b ? ow : b - L;
    const int64_t iw = o * g.sW - g.pW;
    V<T> cur = ninf;
    V<T> tap = int_bits<T>(tapoff[r0 * kW]);
    int64_t t = r0 * kW;  // tap number r * kW + j; visited rows are consecutive kernel rows
    // Each window row is reduced on its own, then merged into the running result. The merge
    // rule is associative (the later segment wins when its max is greater or NaN), so this
    // equals the tap-by-tap scan, while the rows' chains run in parallel instead of one
    // compare-blend chain through all kH * kW taps.
    for (int64_t ih = h0; ih < h1; ih += g.dH, t += kW) {
      const Taps<T, C> row(in + ih * in_row + iw, static_cast<int32_t>(g.sW));
      V<T> rv = row.tap(0);
      if constexpr (Idx) {
        V<T> rt = int_bits<T>(tapoff[t]);
        for (int64_t j = 1; j < kW; ++j) {
          const V<T> v = row.tap(j * dW);
          const auto m = gt_or_nan(v, rv);
          rv = select(m, v, rv);
          rt = select(m, int_bits<T>(tapoff[t + j]), rt);
        }
        const auto m = gt_or_nan(rv, cur);
        cur = select(m, rv, cur);
        tap = select(m, rt, tap);
      } else {
        for (int64_t j = 1; j < kW; ++j) rv = max_nan(row.tap(j * dW), rv);
        cur = max_nan(rv, cur);
      }
    }
    store(out + oh * g.OW + o, restore<T>(cur, C));
    if constexpr (Idx) store_index(idx + oh * g.OW + o, restore<T>(tap, C), top * g.W + iw, g.sW);
  }
}

template <class T>
using MaxRowFn = void (*)(const Geom&, const T*, int64_t, T*, int64_t*, int64_t, int64_t, int64_t,
                          int64_t, int64_t, const int64_t*);

template <class T, Cols C, bool Idx>
MaxRowFn<T> pick_max_row(const Geom& g) {
  if (g.dW == 1 && g.kW == 2) return max_row<T, C, 2, Idx>;
  if (g.dW == 1 && g.kW == 3) return max_row<T, C, 3, Idx>;
  return max_row<T, C, 0, Idx>;
}

template <class T, bool Idx>
MaxRowFn<T> pick_max_row(const Geom& g, Cols c) {
  switch (c) {
    case Cols::unit:
      return pick_max_row<T, Cols::unit, Idx>(g);
    case Cols::pair:
      return pick_max_row<T, Cols::pair, Idx>(g);
    case Cols::triple:
      return pick_max_row<T, Cols::triple, Idx>(g);
    default:
      return pick_max_row<T, Cols::gather, Idx>(g);
  }
}

// How interior columns are read, or false when the vector path cannot take this geometry.
template <class T>
bool pick_cols(const Geom& g, Cols* c) {
  if (g.sW == 1) {
    *c = Cols::unit;
  } else if (g.sW == 2 && (g.kW - 1) * g.dW >= 1) {
    *c = Cols::pair;
  } else if (g.sW == 3 && (g.kW - 1) * g.dW >= 2) {
    *c = Cols::triple;
  } else if (g.sW <= std::numeric_limits<int32_t>::max() / kLanes<T>) {
    *c = Cols::gather;
  } else {
    return false;
  }
  return true;
}

template <class T>
void max_pool(const Geom& g, const T* in, int64_t in_row, T* out, int64_t* idx, int64_t oh0,
              int64_t oh1) {
  int64_t a, b;
  interior(g, true, &a, &b);
  Cols c = Cols::unit;
  bool vec = b - a >= kLanes<T> && pick_cols<T>(g, &c);
  if (idx) {
    vec = vec && g.kH <= kMaxTaps && g.kW <= kMaxTaps && g.kH * g.kW <= kMaxTaps;
    // Float lanes hold tap offsets as int32.
    const int64_t lim = std::numeric_limits<int32_t>::max();
    vec = vec && (sizeof(T) == 8 || ((g.kH - 1) * g.dH < lim / 2 && g.W < lim / 2 &&
                                     (g.kH - 1) * g.dH * g.W + (g.kW - 1) * g.dW < lim));
  }
  int64_t tapoff[kMaxTaps];
  MaxRowFn<T> row = nullptr;
  if (vec) {
    if (idx) {
      for (int64_t r = 0; r < g.kH; ++r)
        for (int64_t j = 0; j < g.kW; ++j) tapoff[r * g.kW + j] = r * g.dH * g.W + j * g.dW;
      row = pick_max_row<T, true>(g, c);
    } else {
      row = pick_max_row<T, false>(g, c);
    }
  }
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1;
    npfast::pool::max_window(oh, g.sH, g.pH, g.kH, g.dH, g.H, &h0, &h1);
    T* o = out + oh * g.OW;
    int64_t* x = idx ? idx + oh * g.OW : nullptr;
    if (!vec || h0 >= h1) {
      for (int64_t ow = 0; ow < g.OW; ++ow)
        max_one(g, in, in_row, h0, h1, ow, o + ow, x ? x + ow : nullptr);
      continue;
    }
    for (int64_t ow = 0; ow < a; ++ow)
      max_one(g, in, in_row, h0, h1, ow, o + ow, x ? x + ow : nullptr);
    row(g, in, in_row, out, idx, oh, h0, h1, a, b, tapoff);
    for (int64_t ow = b; ow < g.OW; ++ow)
      max_one(g, in, in_row, h0, h1, ow, o + ow, x ? x + ow : nullptr);
  }
}

// ---------------------------------------------------------------------------------------------
// Average pooling (sums in T, in scan order, as PyTorch)

template <class T>
inline T avg_one(const Geom& g, const AvgOpts& a, const T* in, int64_t in_row, int64_t h0,
                 int64_t h1, int64_t hp, int64_t ow) {
  int64_t w0, w1, wp;
  npfast::pool::avg_window(ow, g.sW, g.pW, g.kW, g.W, &w0, &w1, &wp);
  if (h0 >= h1 || w0 >= w1) return T(0);
  T sum = 0;
  for (int64_t ih = h0; ih < h1; ++ih)
    for (int64_t iw = w0; iw < w1; ++iw) sum += in[ih * in_row + iw];
  const int64_t div = a.divisor_override    ? a.divisor_override
                      : a.count_include_pad ? hp * wp
                                            : (h1 - h0) * (w1 - w0);
  return sum / T(div);
}

template <class T, Cols C, int KW>
void avg_row(const Geom& g, const T* in, int64_t in_row, T* out, int64_t oh, int64_t h0, int64_t h1,
             int64_t a, int64_t b, T divisor) {
  constexpr int L = kLanes<T>;
  const int64_t kW = KW ? KW : g.kW;
  const V<T> vdiv = set1<T>(divisor);
  for (int64_t ow = a; ow < b; ow += L) {
    const int64_t o = ow + L <= b ? ow : b - L;
    const int64_t iw = o * g.sW - g.pW;
    V<T> sum = zero<T>();
    for (int64_t ih = h0; ih < h1; ++ih) {
      const Taps<T, C> row(in + ih * in_row + iw, static_cast<int32_t>(g.sW));
      for (int64_t j = 0; j < kW; ++j) sum = add(sum, row.tap(j));
    }
    store(out + oh * g.OW + o, div(restore<T>(sum, C), vdiv));
  }
}

template <class T>
using AvgRowFn = void (*)(const Geom&, const T*, int64_t, T*, int64_t, int64_t, int64_t, int64_t,
                          int64_t, T);

template <class T, Cols C>
AvgRowFn<T> pick_avg_row(const Geom& g) {
  if (g.kW == 2) return avg_row<T, C, 2>;
  if (g.kW == 3) return avg_row<T, C, 3>;
  return avg_row<T, C, 0>;
}

template <class T>
void avg_pool(const Geom& g, const AvgOpts& opt, const T* in, int64_t in_row, T* out, int64_t oh0,
              int64_t oh1) {
  int64_t a, b;
  interior(g, false, &a, &b);
  Cols c = Cols::unit;
  const bool vec = b - a >= kLanes<T> && pick_cols<T>(g, &c);
  AvgRowFn<T> row = nullptr;
  if (vec) {
    row = c == Cols::unit     ? pick_avg_row<T, Cols::unit>(g)
          : c == Cols::pair   ? pick_avg_row<T, Cols::pair>(g)
          : c == Cols::triple ? pick_avg_row<T, Cols::triple>(g)
                              : pick_avg_row<T, Cols::gather>(g);
  }
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1, hp;
    npfast::pool::avg_window(oh, g.sH, g.pH, g.kH, g.H, &h0, &h1, &hp);
    T* o = out + oh * g.OW;
    if (!vec || h0 >= h1) {
      for (int64_t ow = 0; ow < g.OW; ++ow) o[ow] = avg_one(g, opt, in, in_row, h0, h1, hp, ow);
      continue;
    }
    for (int64_t ow = 0; ow < a; ++ow) o[ow] = avg_one(g, opt, in, in_row, h0, h1, hp, ow);
    // Interior columns are whole windows: only the row count varies with the padding.
    const int64_t d = opt.divisor_override    ? opt.divisor_override
                      : opt.count_include_pad ? hp * g.kW
                                              : (h1 - h0) * g.kW;
    row(g, in, in_row, out, oh, h0, h1, a, b, T(d));
    for (int64_t ow = b; ow < g.OW; ++ow) o[ow] = avg_one(g, opt, in, in_row, h0, h1, hp, ow);
  }
}

// ---------------------------------------------------------------------------------------------
// Channels-last (contract: pool.h): the lanes are channels, so each tap is one load per vector
// of channels, for any stride or dilation.

template <class T>
void max_pool_nhwc(const Geom& g, int64_t C, const T* in, T* out, int64_t* idx, int64_t oh0,
                   int64_t oh1) {
  constexpr int L = kLanes<T>;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1;
    npfast::pool::max_window(oh, g.sH, g.pH, g.kH, g.dH, g.H, &h0, &h1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t w0, w1;
      npfast::pool::max_window(ow, g.sW, g.pW, g.kW, g.dW, g.W, &w0, &w1);
      T* o = out + (oh * g.OW + ow) * C;
      int64_t* oi = idx ? idx + (oh * g.OW + ow) * C : nullptr;
      // Indices as tap offsets from the window's first position, int32 bits in the lanes (the
      // plane kernels' scheme); offsets past int32 take the shared scalar scan.
      const int64_t origin = h0 * g.W + w0;
      if (idx && (h1 - 1 - h0) * g.W + (w1 - 1 - w0) > int64_t{0x7fffffff}) {
        npfast::pool::max_scan_nhwc(g, C, in, h0, h1, w0, w1, o, oi);
        continue;
      }
      for (int64_t c = 0; c < C; c += L) {
        const int n = C - c < L ? static_cast<int>(C - c) : L;
        V<T> m = set1<T>(-std::numeric_limits<T>::infinity());
        V<T> mi = int_bits<T>(0);
        for (int64_t ih = h0; ih < h1; ih += g.dH)
          for (int64_t iw = w0; iw < w1; iw += g.dW) {
            const T* p = in + (ih * g.W + iw) * C + c;
            const V<T> v = n == L ? load(p) : loadn(p, n);
            if (idx) {  // the scan's step: v (and its tap) when v > m or v is NaN
              const auto take = gt_or_nan(v, m);  // a mask, per ISA
              m = select(take, v, m);
              mi = select(take, int_bits<T>((ih - h0) * g.W + (iw - w0)), mi);
            } else {
              m = max_nan(v, m);  // the same step, without the index
            }
          }
        if (n == L) {
          store(o + c, m);
          if (idx) store_index(oi + c, mi, origin, 0);
        } else {
          storen(o + c, m, n);
          if (idx) {
            int64_t tail[L];
            store_index(tail, mi, origin, 0);
            for (int l = 0; l < n; ++l) oi[c + l] = tail[l];
          }
        }
      }
    }
  }
}

template <class T>
void avg_pool_nhwc(const Geom& g, const AvgOpts& a, int64_t C, const T* in, T* out, int64_t oh0,
                   int64_t oh1) {
  constexpr int L = kLanes<T>;
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1, hp;
    npfast::pool::avg_window(oh, g.sH, g.pH, g.kH, g.H, &h0, &h1, &hp);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t w0, w1, wp;
      npfast::pool::avg_window(ow, g.sW, g.pW, g.kW, g.W, &w0, &w1, &wp);
      T* o = out + (oh * g.OW + ow) * C;
      if (h0 >= h1 || w0 >= w1) {
        for (int64_t c = 0; c < C; ++c) o[c] = T(0);
        continue;
      }
      const V<T> vdiv = set1<T>(T(npfast::pool::avg_divisor(a, h0, h1, hp, w0, w1, wp)));
      for (int64_t c = 0; c < C; c += L) {
        const int n = C - c < L ? static_cast<int>(C - c) : L;
        V<T> sum = zero<T>();
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const T* p = in + (ih * g.W + iw) * C + c;
            sum = add(sum, n == L ? load(p) : loadn(p, n));
          }
        if (n == L)
          store(o + c, div(sum, vdiv));
        else
          storen(o + c, div(sum, vdiv), n);
      }
    }
  }
}

// kR planes (ps apart, h rows of w elements, rs apart) summed into a[0..kR): each plane in two
// accumulators (a row's even and odd whole vectors, a last whole vector into the first and the
// partial one into the second, row after row), 2 kR independent add chains. The same steps per
// plane whatever kR, so a plane sums to the same bits in a full block and in the remainder.
// kAhead: each two-vector step first prefetches `ahead` bytes past what it reads (the same
// place in the next block's plane, or further along its own).
template <int kR, bool kAhead, class T>
inline void plane_sums(const T* p, int64_t ps, int64_t h, int64_t w, int64_t rs, V<double>* a,
                       int64_t ahead = 0) {
  constexpr int L = kLanes<double>;
  V<double> s0[kR], s1[kR];
  for (int r = 0; r < kR; ++r) s0[r] = s1[r] = zero<double>();
  for (int64_t i = 0; i < h; ++i) {
    const T* q = p + i * rs;
    int64_t j = 0;
    for (; j + 2 * L <= w; j += 2 * L)
      for (int r = 0; r < kR; ++r) {
        if constexpr (kAhead) {
          prefetch_past(q + r * ps + j, ahead);
          if constexpr (sizeof(T) == 8) prefetch_past(q + r * ps + j + L, ahead);
        }
        s0[r] = add(s0[r], load_f64(q + r * ps + j));
        s1[r] = add(s1[r], load_f64(q + r * ps + j + L));
      }
    if (j + L <= w) {
      for (int r = 0; r < kR; ++r) s0[r] = add(s0[r], load_f64(q + r * ps + j));
      j += L;
    }
    if (j < w) {
      const int m = static_cast<int>(w - j);
      for (int r = 0; r < kR; ++r) s1[r] = add(s1[r], loadn_f64(q + r * ps + j, m));
    }
  }
  for (int r = 0; r < kR; ++r) a[r] = add(s0[r], s1[r]);
}

// The first m lanes of v (double means) to out as T. Through memory: GCC 12 rejects AVX-512's
// double -> float vector conversion inlined here (-Werror=uninitialized on its undefined
// register); m scalar conversions per m planes cost little beside the planes' sums.
template <class T>
inline void store_means(T* out, V<double> v, int m) {
  double buf[kLanes<double>];
  store(buf, v);
  for (int k = 0; k < m; ++k) out[k] = static_cast<T>(buf[k]);
}

// A block of one vector's lanes of planes at a time: their sums transposed into one vector by
// lane_sums (so a 49-element plane costs a few adds, not a horizontal reduction of its own),
// divided together.
template <class T>
void plane_means(const T* x, int64_t planes, int64_t ps, int64_t h, int64_t w, int64_t rs, T* out) {
  constexpr int L = kLanes<double>;
  const auto vn = set1<double>(static_cast<double>(h * w));
  // Software prefetch where the hardware prefetcher alone fell short of L3's rate (1 thread,
  // ms, docs/pool.md "gap"): blocks of 4 to 16 KiB fetch the next block (64 x 256 planes of
  // 14 x 14 float32 0.167 -> 0.13, float64 0.46 -> 0.37); longer float32 blocks fetch 512 bytes
  // ahead in each plane (8 x 64 of 56 x 56 0.066-0.075 -> 0.059, 16 x 256 of 28 x 28 0.144-0.152
  // -> 0.129-0.141). 7 x 7 planes gained nothing, longer float64 blocks lost (28 x 28: 0.40-0.43
  // -> 0.48-0.51).
  const int64_t block = L * ps * static_cast<int64_t>(sizeof(T));
  const int64_t ahead = block < 4096 ? 0 : block <= 16384 ? block : sizeof(T) == 4 ? 512 : 0;
  V<double> a[L];
  int64_t q = 0;
  for (; q + L <= planes; q += L) {
    if (ahead)
      plane_sums<L, true>(x + q * ps, ps, h, w, rs, a, ahead);
    else
      plane_sums<L, false>(x + q * ps, ps, h, w, rs, a);
    store_means(out + q, div(lane_sums(a), vn), L);
  }
  if (q < planes) {
    const int m = static_cast<int>(planes - q);
    for (int k = 0; k < L; ++k) a[k] = zero<double>();
    for (int k = 0; k < m; ++k) plane_sums<1, false>(x + (q + k) * ps, ps, h, w, rs, a + k);
    store_means(out + q, div(lane_sums(a), vn), m);
  }
}

// kV vectors of channels (the last one's first `m` lanes when kPartial) through every pixel,
// even and odd pixels in two accumulators: the same order per channel whatever kV.
template <int kV, bool kPartial, class T>
inline void channel_means(const T* x, int64_t hw, int64_t ld, int m, V<double> vn, T* out) {
  constexpr int L = kLanes<double>;
  const auto get = [m](const T* q) {
    if constexpr (kPartial)
      return loadn_f64(q, m);
    else
      return load_f64(q);
  };
  V<double> s0[kV], s1[kV];
  for (int v = 0; v < kV; ++v) s0[v] = s1[v] = zero<double>();
  int64_t p = 0;
  for (; p + 2 <= hw; p += 2)
    for (int v = 0; v < kV; ++v) {
      s0[v] = add(s0[v], get(x + p * ld + v * L));
      s1[v] = add(s1[v], get(x + (p + 1) * ld + v * L));
    }
  if (p < hw)
    for (int v = 0; v < kV; ++v) s0[v] = add(s0[v], get(x + p * ld + v * L));
  for (int v = 0; v < kV; ++v) store_means(out + v * L, div(add(s0[v], s1[v]), vn), m);
}

template <class T>
void plane_means_nhwc(const T* x, int64_t hw, int64_t c, int64_t ld, T* out) {
  constexpr int L = kLanes<double>;
  const auto vn = set1<double>(static_cast<double>(hw));
  // As many vectors of channels per sweep as the registers hold (two accumulators and a load
  // each): the wider a pixel's run, the fewer sweeps over the pixels' rows.
  constexpr int kV = kVectorRegisters >= 32 ? 8 : 4;
  int64_t j = 0;
  for (; j + kV * L <= c; j += kV * L) channel_means<kV, false>(x + j, hw, ld, L, vn, out + j);
  if constexpr (kV > 4)
    for (; j + 4 * L <= c; j += 4 * L) channel_means<4, false>(x + j, hw, ld, L, vn, out + j);
  for (; j + L <= c; j += L) channel_means<1, false>(x + j, hw, ld, L, vn, out + j);
  if (j < c) channel_means<1, true>(x + j, hw, ld, static_cast<int>(c - j), vn, out + j);
}

inline constexpr npfast::pool::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/pool/kernels.inc"
#undef NPFAST_KERNEL
    kLanes<float>, kLanes<double>};

}  // namespace pool
}  // namespace NPFAST_TARGET
}  // namespace npfast
