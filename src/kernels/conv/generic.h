// SIMD body of the direct convolution kernels (see conv.h for the contract), written once
// against the src/core/simd vocabulary and instantiated per ISA by x86_<isa>.cc. No include
// guard: one inclusion per ISA file.
#include <cstdint>

#include "src/kernels/conv/conv.h"
#include "src/kernels/pack/pack.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace conv {

using npfast::conv::DirectArgs;

// The output vectors of a direct call: rows [oy0, oy1) taken one after another, ceil(ow / L)
// vectors a row (the last one partial where L does not divide ow). A cursor walks them.
template <class T>
struct VectorCursor {
  int64_t oy, ox;  // the current vector's row and first column
  void next(const DirectArgs<T>& a) {
    if ((ox += kLanes<T>) < a.ow) return;
    ox = 0;
    ++oy;
  }
};

// One tile: OB output channels x NV consecutive output vectors (VectorCursor) from c, so a
// tile may end one row and start the next: every tile but a call's last is full (the ResNet
// stem's 112 columns, 14 AVX2 vectors, ran as 3 + 3 + 3 + 3 + 2 a row, the 2-vector tail ~20%
// slower per flop). Every tap loads NV input vectors once and reuses them for the OB
// channels, so loads stay below the FMA count. Which tile holds a column does not change its
// sum (bias, then one FMA per tap in tap order).
template <class T, int OB, int NV, int WS>
void tile(const DirectArgs<T>& a, VectorCursor<T> c) {
  constexpr int L = kLanes<T>;
  using Vt = V<T>;
  Vt acc[OB][NV];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) {
    const Vt b = set1<T>((a.bias && o < a.ob) ? a.bias[o] : T(0));
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[o][v] = b;
  }
  const T* base[NV];
  int64_t yoff[NV], cols[NV];
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v, c.next(a)) {
    base[v] = a.x + c.oy * a.sh * a.sw * a.wq + c.ox;
    yoff[v] = c.oy * a.ow + c.ox;
    cols[v] = a.ow - c.ox;
  }
  const T* wp = a.w;
  const int64_t taps = a.c * a.kh * a.kw;
  for (int64_t t = 0; t < taps; ++t, wp += WS) {
    const int64_t off = a.taps[t];
    Vt xv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) xv[v] = load(base[v] + off);
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) {
      const Vt wv = set1<T>(wp[o]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[o][v] = fma(xv[v], wv, acc[o][v]);
    }
  }
  const Vt z = zero<T>();
  for (int o = 0; o < OB; ++o) {
    if (o >= a.ob) break;
    T* yo = a.y + o * a.ys;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      const Vt res = a.relu ? max_nan(acc[o][v], z) : acc[o][v];
      if (cols[v] >= L)
        store(yo + yoff[v], res);
      else
        storen(yo + yoff[v], res, static_cast<int>(cols[v]));
    }
  }
}

// The last n < NV vectors of the call.
template <class T, int OB, int NV, int WS>
void tail(const DirectArgs<T>& a, VectorCursor<T> c, int64_t n) {
  if constexpr (NV > 1) {
    if (n < NV) return tail<T, OB, NV - 1, WS>(a, c, n);
  }
  tile<T, OB, NV, WS>(a, c);
}

template <class T, int OB, int NV, int WS>
void direct(const DirectArgs<T>& a) {
  const int64_t nv = (a.oy1 - a.oy0) * ((a.ow + kLanes<T> - 1) / kLanes<T>);
  VectorCursor<T> c{a.oy0, 0};
  int64_t f = 0;
  for (; f + NV <= nv; f += NV) {
    tile<T, OB, NV, WS>(a, c);
    for (int v = 0; v < NV; ++v) c.next(a);
  }
  if (f < nv) tail<T, OB, NV, WS>(a, c, nv - f);
}

// Depthwise with a fixed kernel size: the KH*KW weights live in registers for the whole call
// and every tap is unrolled, so a tap costs NV loads and NV FMAs and no loop overhead.
template <class T, int KH, int KW, int NV>
void dw_tile(const DirectArgs<T>& a, const V<T>* wv, const int64_t* off, int64_t oy, int64_t ox0,
             int64_t n) {
  constexpr int L = kLanes<T>;
  using Vt = V<T>;
  Vt acc[NV];
  const Vt b = set1<T>(a.bias ? a.bias[0] : T(0));
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) acc[v] = b;
  const int64_t xrow = a.sw * a.wq;
#pragma GCC unroll 8
  for (int ky = 0; ky < KH; ++ky) {
    const T* row = a.x + (oy * a.sh + ky * a.dh) * xrow + ox0;
#pragma GCC unroll 8
    for (int kx = 0; kx < KW; ++kx) {
      const T* p = row + off[kx];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[v] = fma(load(p + v * L), wv[ky * KW + kx], acc[v]);
    }
  }
  const Vt z = zero<T>();
  T* yo = a.y + oy * a.ow + ox0;
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const Vt res = a.relu ? max_nan(acc[v], z) : acc[v];
    const int64_t lanes = n - v * L;
    if (lanes >= L)
      store(yo + v * L, res);
    else if (lanes > 0)
      storen(yo + v * L, res, static_cast<int>(lanes));
  }
}

template <class T, int KH, int KW, int NV>
void dw_tail(const DirectArgs<T>& a, const V<T>* wv, const int64_t* off, int64_t oy, int64_t ox0,
             int64_t n) {
  if constexpr (NV > 1) {
    if (n <= (NV - 1) * kLanes<T>) return dw_tail<T, KH, KW, NV - 1>(a, wv, off, oy, ox0, n);
  }
  dw_tile<T, KH, KW, NV>(a, wv, off, oy, ox0, n);
}

template <class T, int KH, int KW, int NV>
void dw_fixed(const DirectArgs<T>& a) {
  V<T> wv[KH * KW];
  for (int t = 0; t < KH * KW; ++t) wv[t] = set1<T>(a.w[t]);
  int64_t off[KW];
  for (int kx = 0; kx < KW; ++kx) {
    const int64_t j = kx * a.dw;
    off[kx] = (j % a.sw) * a.wq + j / a.sw;
  }
  constexpr int64_t B = NV * kLanes<T>;
  for (int64_t oy = a.oy0; oy < a.oy1; ++oy) {
    int64_t ox = 0;
    for (; ox + B <= a.ow; ox += B) dw_tile<T, KH, KW, NV>(a, wv, off, oy, ox, B);
    if (ox < a.ow) dw_tail<T, KH, KW, NV>(a, wv, off, oy, ox, a.ow - ox);
  }
}

// 3x3, vertical stride and dilation 1: two output rows per tile share the 4 input rows they
// read (24 loads for 36 FMAs per pair of vectors instead of 18 for 18), weights in registers.
template <class T, int NV>
void dw3x3_pair(const DirectArgs<T>& a, const V<T>* wv, const int64_t* off, int64_t oy, int64_t ox0,
                int64_t n) {
  constexpr int L = kLanes<T>;
  using Vt = V<T>;
  Vt acc0[NV], acc1[NV];
  const Vt b = set1<T>(a.bias ? a.bias[0] : T(0));
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) acc0[v] = acc1[v] = b;
  const int64_t xrow = a.sw * a.wq;
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const T* row = a.x + (oy + i) * xrow + ox0;
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        const Vt xv = load(row + off[kx] + v * L);
        if (i < 3) acc0[v] = fma(xv, wv[i * 3 + kx], acc0[v]);
        if (i > 0) acc1[v] = fma(xv, wv[(i - 1) * 3 + kx], acc1[v]);
      }
    }
  }
  const Vt z = zero<T>();
  T* y0 = a.y + oy * a.ow + ox0;
  T* y1 = y0 + a.ow;
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const Vt r0 = a.relu ? max_nan(acc0[v], z) : acc0[v];
    const Vt r1 = a.relu ? max_nan(acc1[v], z) : acc1[v];
    const int64_t lanes = n - v * L;
    if (lanes >= L) {
      store(y0 + v * L, r0);
      store(y1 + v * L, r1);
    } else if (lanes > 0) {
      storen(y0 + v * L, r0, static_cast<int>(lanes));
      storen(y1 + v * L, r1, static_cast<int>(lanes));
    }
  }
}

template <class T>
void dw3x3_rows1(const DirectArgs<T>& a) {
  constexpr int L = kLanes<T>;
  V<T> wv[9];
  for (int t = 0; t < 9; ++t) wv[t] = set1<T>(a.w[t]);
  int64_t off[3];
  for (int kx = 0; kx < 3; ++kx) {
    const int64_t j = kx * a.dw;
    off[kx] = (j % a.sw) * a.wq + j / a.sw;
  }
  int64_t oy = a.oy0;
  for (; oy + 2 <= a.oy1; oy += 2) {
    int64_t ox = 0;
    for (; ox + 2 * L <= a.ow; ox += 2 * L) dw3x3_pair<T, 2>(a, wv, off, oy, ox, 2 * L);
    // The tail loads the fewest vectors that cover it (the column slack is under one vector).
    if (a.ow - ox > L)
      dw3x3_pair<T, 2>(a, wv, off, oy, ox, a.ow - ox);
    else if (ox < a.ow)
      dw3x3_pair<T, 1>(a, wv, off, oy, ox, a.ow - ox);
  }
  if (oy < a.oy1) {
    DirectArgs<T> last = a;
    last.oy0 = oy;
    dw_fixed<T, 3, 3, 4>(last);
  }
}

template <class T>
void depthwise(const DirectArgs<T>& a) {
  if (a.kh == 3 && a.kw == 3 && a.sh == 1 && a.dh == 1) return dw3x3_rows1<T>(a);
  if (a.kh == 3 && a.kw == 3) return dw_fixed<T, 3, 3, 4>(a);
  direct<T, 1, 4, 1>(a);
}

// Depthwise weight gradient (conv.h): per tap, vector partial sums over the plane, then the
// lanes added in order.
template <class T>
void dw_grad(const DirectArgs<T>& a, const T* gy, T* gw) {
  constexpr int L = kLanes<T>;
  using Vt = V<T>;
  const int64_t xrow = a.sw * a.wq;
  for (int64_t ky = 0; ky < a.kh; ++ky)
    for (int64_t kx = 0; kx < a.kw; ++kx) {
      const int64_t j = kx * a.dw, off = (j % a.sw) * a.wq + j / a.sw;
      Vt acc0 = zero<T>(), acc1 = zero<T>();
      for (int64_t oy = a.oy0; oy < a.oy1; ++oy) {
        const T* xr = a.x + (oy * a.sh + ky * a.dh) * xrow + off;
        const T* gr = gy + oy * a.ow;
        int64_t ox = 0;
        for (; ox + 2 * L <= a.ow; ox += 2 * L) {
          acc0 = fma(load(gr + ox), load(xr + ox), acc0);
          acc1 = fma(load(gr + ox + L), load(xr + ox + L), acc1);
        }
        for (; ox < a.ow; ox += L) {
          const int n = static_cast<int>(a.ow - ox < L ? a.ow - ox : L);
          acc0 = fma(loadn(gr + ox, n), loadn(xr + ox, n), acc0);
        }
      }
      T lanes[L];
      store(lanes, add(acc0, acc1));
      T s = lanes[0];
      for (int i = 1; i < L; ++i) s += lanes[i];
      gw[ky * a.kw + kx] = s;
    }
}

// Direct weight gradient (conv.h): OB channels x TB taps of vector partial sums along the
// output row. Each grad_output vector is loaded once per tap block and each input vector
// once per channel block: (OB + TB) / (OB * TB) loads per FMA. Rows go in bands of kGradBand
// so that a band's grad_output stays in L1 while every tap block passes over it (the partials
// wait in `work` between bands); a whole-plane sweep per tap block ran at L2's pace. A block
// past the last channel or tap computes on a repeated one and drops the result.
constexpr int64_t kGradBand = 8;

// One vector of columns from ox: gp[o] are the channels' grad_output rows, xp[j] the taps'
// input rows (hoisted per row, so a step is loads and FMAs only).
template <class T, int OB, int TB, bool Full>
inline void grad_step(const T* const (&gp)[OB], const T* const (&xp)[TB], int64_t ox, int n,
                      V<T> (&acc)[OB][TB]) {
  V<T> g[OB];
#pragma GCC unroll 8
  for (int o = 0; o < OB; ++o) g[o] = Full ? load(gp[o] + ox) : loadn(gp[o] + ox, n);
#pragma GCC unroll 8
  for (int j = 0; j < TB; ++j) {
    const V<T> xv = Full ? load(xp[j] + ox) : loadn(xp[j] + ox, n);
#pragma GCC unroll 8
    for (int o = 0; o < OB; ++o) acc[o][j] = fma(g[o], xv, acc[o][j]);
  }
}

template <class T, int OB, int TB>
void direct_grad(const DirectArgs<T>& a, const T* gy, int64_t images, int64_t x_image,
                 int64_t gy_image, T* work, T* gw) {
  constexpr int L = kLanes<T>;
  const int64_t taps = a.c * a.kh * a.kw, xrow = a.sh * a.sw * a.wq;
  const int64_t tblocks = (taps + TB - 1) / TB;
  for (int64_t o0 = 0; o0 < a.ob; o0 += OB) {
    const int nob = static_cast<int>(a.ob - o0 < OB ? a.ob - o0 : OB);
    // Partials: tap block b, channel o, tap j at work[((b * OB + o) * TB + j) * L].
    const int64_t nparts = tblocks * OB * TB;
    for (int64_t q = 0; q < nparts; ++q) store(work + q * L, zero<T>());
    for (int64_t img = 0; img < images; ++img) {
      const T* x = a.x + img * x_image;
      const T* gi = gy + img * gy_image + o0 * a.ys;
      for (int64_t b0 = a.oy0; b0 < a.oy1; b0 += kGradBand) {
        const int64_t b1 = b0 + kGradBand < a.oy1 ? b0 + kGradBand : a.oy1;
        for (int64_t tb = 0; tb < tblocks; ++tb) {
          const int64_t t0 = tb * TB;
          int64_t off[TB];
          for (int j = 0; j < TB; ++j) off[j] = a.taps[t0 + j < taps ? t0 + j : t0];
          T* pb = work + tb * OB * TB * L;
          V<T> acc[OB][TB];
#pragma GCC unroll 8
          for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
            for (int j = 0; j < TB; ++j) acc[o][j] = load(pb + (o * TB + j) * L);
          for (int64_t oy = b0; oy < b1; ++oy) {
            const T* gp[OB];
            const T* xp[TB];
            for (int o = 0; o < OB; ++o) gp[o] = gi + (o < nob ? o : 0) * a.ys + oy * a.ow;
            for (int j = 0; j < TB; ++j) xp[j] = x + oy * xrow + off[j];
            int64_t ox = 0;
            for (; ox + L <= a.ow; ox += L) grad_step<T, OB, TB, true>(gp, xp, ox, L, acc);
            if (ox < a.ow)
              grad_step<T, OB, TB, false>(gp, xp, ox, static_cast<int>(a.ow - ox), acc);
          }
#pragma GCC unroll 8
          for (int o = 0; o < OB; ++o)
#pragma GCC unroll 8
            for (int j = 0; j < TB; ++j) store(pb + (o * TB + j) * L, acc[o][j]);
        }
      }
    }
    for (int o = 0; o < nob; ++o)
      for (int64_t t = 0; t < taps; ++t) {
        const T* lanes = work + ((t / TB * OB + o) * TB + t % TB) * L;
        T s = lanes[0];
        for (int i = 1; i < L; ++i) s += lanes[i];
        gw[(o0 + o) * taps + t] += s;
      }
  }
}

// Winograd F(2x2, 3x3) transforms (conv.h), one vector of n channels at a time.
template <class T>
inline V<T> ld(const T* p, int n) {
  return n == kLanes<T> ? load(p) : loadn(p, n);
}
template <class T>
inline void st(T* p, V<T> v, int n) {
  if (n == kLanes<T>)
    store(p, v);
  else
    storen(p, v, n);
}

// V = Bt d B of one tile's 4x4 window d (rows first, then columns), stored as
// o[xi * vx] = V(xi / 4, xi % 4).
template <class T>
inline void wino_bt(const V<T> (&d)[4][4], T* o, int64_t vx, int n) {
  V<T> t[4][4];
#pragma GCC unroll 4
  for (int s = 0; s < 4; ++s) {
    t[0][s] = sub(d[0][s], d[2][s]);
    t[1][s] = add(d[1][s], d[2][s]);
    t[2][s] = sub(d[2][s], d[1][s]);
    t[3][s] = sub(d[1][s], d[3][s]);
  }
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    T* q = o + (r * 4) * vx;
    st(q, sub(t[r][0], t[r][2]), n);
    st(q + vx, add(t[r][1], t[r][2]), n);
    st(q + 2 * vx, sub(t[r][2], t[r][1]), n);
    st(q + 3 * vx, sub(t[r][1], t[r][3]), n);
  }
}

template <class T>
void wino_in(const T* x, int64_t ps, int64_t rs, int64_t c, int64_t nt, T* v, int64_t vt,
             int64_t vx) {
  constexpr int L = kLanes<T>;
  for (int64_t j = 0; j < nt; ++j)
    for (int64_t ch = 0; ch < c; ch += L) {
      const int n = static_cast<int>(c - ch < L ? c - ch : L);
      const T* p = x + j * 2 * ps + ch;
      V<T> d[4][4];
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
        for (int s = 0; s < 4; ++s) d[r][s] = ld(p + r * rs + s * ps, n);
      wino_bt(d, v + j * vt + ch, vx, n);
    }
}

template <class T>
void wino_in_edge(const T* x, int64_t ps, int64_t rs, int64_t h, int64_t w, int64_t r0, int64_t c0,
                  int64_t c, int64_t nt, T* v, int64_t vt, int64_t vx) {
  constexpr int L = kLanes<T>;
  const V<T> z = zero<T>();
  for (int64_t j = 0; j < nt; ++j)
    for (int64_t ch = 0; ch < c; ch += L) {
      const int n = static_cast<int>(c - ch < L ? c - ch : L);
      V<T> d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 4; ++s) {
          const int64_t iy = r0 + r, ix = c0 + 2 * j + s;
          d[r][s] = iy >= 0 && iy < h && ix >= 0 && ix < w ? ld(x + iy * rs + ix * ps + ch, n) : z;
        }
      wino_bt(d, v + j * vt + ch, vx, n);
    }
}

template <class T>
void wino_out(const T* m, int64_t mt, int64_t mx, int64_t c, int64_t nt, const T* bias,
              const T* res, bool relu, T* y, int64_t yp, int64_t yr) {
  constexpr int L = kLanes<T>;
  const V<T> z = zero<T>();
  for (int64_t j = 0; j < nt; ++j)
    for (int64_t ch = 0; ch < c; ch += L) {
      const int n = static_cast<int>(c - ch < L ? c - ch : L);
      const T* p = m + j * mt + ch;
      V<T> t[2][4];
#pragma GCC unroll 4
      for (int s = 0; s < 4; ++s) {
        const V<T> m0 = ld(p + s * mx, n), m1 = ld(p + (4 + s) * mx, n);
        const V<T> m2 = ld(p + (8 + s) * mx, n), m3 = ld(p + (12 + s) * mx, n);
        t[0][s] = add(add(m0, m1), m2);
        t[1][s] = sub(sub(m1, m2), m3);
      }
      const V<T> b = bias ? ld(bias + ch, n) : z;
#pragma GCC unroll 2
      for (int r = 0; r < 2; ++r) {
        V<T> y0 = add(add(add(t[r][0], t[r][1]), t[r][2]), b);
        V<T> y1 = add(sub(sub(t[r][1], t[r][2]), t[r][3]), b);
        const int64_t i0 = r * yr + (2 * j) * yp + ch, i1 = i0 + yp;
        if (res) {  // residual_act's `v < 0 ? 0 : v` (-0.0 kept), not max_nan's +0.0
          y0 = add(y0, ld(res + i0, n));
          y1 = add(y1, ld(res + i1, n));
          if (relu) {
            y0 = select(gt(z, y0), z, y0);
            y1 = select(gt(z, y1), z, y1);
          }
        } else if (relu) {
          y0 = max_nan(y0, z);
          y1 = max_nan(y1, z);
        }
        st(y + i0, y0, n);
        st(y + i1, y1, n);
      }
    }
}

// Winograd F(2x2, 2x2) transforms (conv.h), along tiles. wino2_in's rows are vectors of
// tiles; wino2_out's interleaved stores are a loop the compiler vectorizes for the ISA
// (permutes), with the reference's operations per element.
template <class T>
void wino2_in(const T* d0, const T* d1, const T* d2, int64_t rs, int64_t rows, int64_t n, T* v0,
              T* v1, T* v2, int64_t vr) {
  constexpr int L = kLanes<T>;
  for (int64_t r = 0; r < rows; ++r) {
    const T *a = d0 + r * rs, *b = d1 + r * rs, *c = d2 + r * rs;
    T *o0 = v0 + r * vr, *o1 = v1 + r * vr, *o2 = v2 + r * vr;
    for (int64_t t = 0; t < n; t += L) {
      const int k = static_cast<int>(n - t < L ? n - t : L);
      const V<T> x1 = ld(b + t, k);
      st(o0 + t, sub(ld(a + t, k), x1), k);
      st(o1 + t, x1, k);
      st(o2 + t, sub(ld(c + t, k), x1), k);
    }
  }
}

// One output row of y at a time, in order: a row phase's rows alone (every other row) took
// twice the time where the output missed the cache (the forward, batch 16: 15% of its
// profile against 7%). Per row the row-combined sums of its tiles, then their column
// combinations stored interleaved.
template <class T, int NP, bool kBias>
void wino2_out_np(const T* __restrict m, int64_t ms, int64_t mb, int64_t th, int64_t tw, T bias,
                  T* __restrict y, int64_t yr) {
  for (int64_t tm = 0; tm < th; ++tm)
    for (int r = 0; r < 2; ++r)
      for (int a = 0; a < NP; ++a) {
        const T* p = m + a * NP * mb + r * 3 * ms + tm * tw;
        T* row = y + ((2 * tm + r) * NP + a) * yr;
        for (int64_t t = 0; t < tw; ++t)
#pragma GCC unroll 2
          for (int b = 0; b < NP; ++b) {
            const T* q = p + b * mb + t;
            const T g0 = q[0] + q[3 * ms], g1 = q[ms] + q[4 * ms], g2 = q[2 * ms] + q[5 * ms];
            T o0 = g0 + g1, o1 = g1 + g2;
            if constexpr (kBias) {
              o0 += bias;
              o1 += bias;
            }
            row[2 * t * NP + b] = o0;
            row[(2 * t + 1) * NP + b] = o1;
          }
      }
}

template <class T>
void wino2_out(const T* m, int64_t ms, int64_t mb, int64_t np, int64_t th, int64_t tw,
               const T* bias, T* y, int64_t yr) {
  if (np == 2)
    return bias ? wino2_out_np<T, 2, true>(m, ms, mb, th, tw, *bias, y, yr)
                : wino2_out_np<T, 2, false>(m, ms, mb, th, tw, T(0), y, yr);
  return bias ? wino2_out_np<T, 1, true>(m, ms, mb, th, tw, *bias, y, yr)
              : wino2_out_np<T, 1, false>(m, ms, mb, th, tw, T(0), y, yr);
}

// The direct convolution channels-last (conv.h): PX pixels of an output row x one vector of
// channels in the accumulators; per tap one weight vector and a broadcast input per pixel. The
// same FMA chain per output as tile (bias, taps in order, fma(x, w, acc)), so the same bits.
template <class T, int PX>
void nhwc_pixels(const DirectArgs<T>& a, const T* base, T* y, int64_t o0, int n) {
  using Vt = V<T>;
  const Vt z = zero<T>();
  const Vt b = a.bias ? ld(a.bias + o0, n) : z;
  Vt acc[PX];
#pragma GCC unroll 16
  for (int q = 0; q < PX; ++q) acc[q] = b;
  const T* wp = a.w + o0;
  const int64_t taps = a.c * a.kh * a.kw;
  for (int64_t t = 0; t < taps; ++t, wp += a.ob) {
    const Vt wv = ld(wp, n);
    const T* p = base + a.taps[t];
#pragma GCC unroll 16
    for (int q = 0; q < PX; ++q) acc[q] = fma(set1<T>(p[q]), wv, acc[q]);
  }
#pragma GCC unroll 16
  for (int q = 0; q < PX; ++q) st(y + q * a.ys, a.relu ? max_nan(acc[q], z) : acc[q], n);
}

// `cols` pixels from `base` (input) and `y` (output): blocks of PX, then of PX / 2, ...
template <class T, int PX>
void nhwc_run(const DirectArgs<T>& a, const T* base, T* y, int64_t o0, int n, int64_t cols) {
  int64_t ox = 0;
  for (; ox + PX <= cols; ox += PX) nhwc_pixels<T, PX>(a, base + ox, y + ox * a.ys, o0, n);
  if constexpr (PX > 1) {
    if (ox < cols) nhwc_run<T, PX / 2>(a, base + ox, y + ox * a.ys, o0, n, cols - ox);
  }
}

template <class T>
void direct_nhwc(const DirectArgs<T>& a) {
  constexpr int L = kLanes<T>;
  // Accumulators, the weight vector and a broadcast: 16 + 2 of AVX-512's 32, 8 + 2 of 16.
  constexpr int PX = kVectorRegisters >= 32 ? 16 : 8;
  for (int64_t oy = a.oy0; oy < a.oy1; ++oy) {
    const T* base = a.x + oy * a.sh * a.sw * a.wq;
    T* yrow = a.y + oy * a.ow * a.ys;
    for (int64_t o0 = 0; o0 < a.ob; o0 += L) {
      const int n = static_cast<int>(a.ob - o0 < L ? a.ob - o0 : L);
      nhwc_run<T, PX>(a, base, yrow + o0, o0, n, a.ow);
    }
  }
}

// to_channels_last (conv.h): kLanes x kLanes blocks through the registers (transpose_square),
// the edges (fewer than kLanes rows or columns left) by pack::transpose's 4 x 4 SSE2 blocks.
// A 16-channel block of a 56-pixel row: 3 squares and a 16 x 8 edge on AVX-512, where the
// SSE2 blocks alone took 7% of a stride-2 3x3 layer on the Zen 4 (docs/conv.md, "copy14").
template <class T>
void to_channels_last(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
  constexpr int L = kLanes<T>;
  const int64_t cl = cols / L * L;
  int64_t i = 0;
  for (; i + L <= rows; i += L) {
    for (int64_t j = 0; j < cl; j += L) {
      V<T> r[L];
#pragma GCC unroll 16
      for (int k = 0; k < L; ++k) r[k] = load(s + (i + k) * ss + j);
      transpose_square(r);
#pragma GCC unroll 16
      for (int k = 0; k < L; ++k) store(d + (j + k) * ds + i, r[k]);
    }
    if (cl < cols) pack::transpose(s + i * ss + cl, ss, d + cl * ds + i, ds, int64_t{L}, cols - cl);
  }
  if (i < rows) pack::transpose(s + i * ss, ss, d + i, ds, rows - i, cols);
}

// The direct tile: OB channels x 3 vectors of accumulators, plus 3 inputs and 1 weight, in the
// vector registers: 4 channels on AVX2 (12 + 4 of 16), 8 on AVX-512 (24 + 4 of 32). More
// channels per tile means fewer input loads and less loop overhead per FMA (the ResNet stem:
// 8 channels run 1.25x faster than 4 on AVX-512).
// Weight gradient blocks: OB x TB accumulators, OB grad_output vectors and an input vector in
// the registers: 4 x 5 (+ 5) of AVX-512's 32, 3 x 4 (+ 4) of AVX2's 16.
constexpr int kGradTb = kVectorRegisters >= 32 ? 5 : 4;
constexpr int kGradOb = kVectorRegisters >= 32 ? 4 : 3;
static_assert(kGradOb <= 8 && kGradTb <= 8, "direct_grad_work (conv.h) sizes for 8 x 8");

constexpr int kDirectNv = 3;
constexpr int kDirectOb = (kVectorRegisters - kDirectNv - 1) / kDirectNv >= 8 ? 8 : 4;
// The 4-channel tile takes the registers the 8-channel one would: 6 vectors of a row.
constexpr int kDirect4Nv = kVectorRegisters >= 32 ? 6 : kDirectNv;
inline constexpr npfast::conv::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/conv/kernels.inc"
#undef NPFAST_KERNEL
    kDirectOb, kGradOb};

}  // namespace conv
}  // namespace NPFAST_TARGET
}  // namespace npfast
