// The scalar side of the conv family: the oracle (a direct 7-loop convolution accumulating in
// double, the test reference) and the scalar ISA's direct kernels (the fallback path).
#include <cstdint>

#include "src/kernels/conv/conv.h"
#include "src/kernels/pack/pack.h"

namespace npfast {
namespace conv {

template <class T>
void reference(const T* x, int64_t n, int64_t c, int64_t h, int64_t wd, const T* w, int64_t o,
               int64_t kh, int64_t kw, const T* bias, int64_t sh, int64_t sw, int64_t pt,
               int64_t pl, int64_t dh, int64_t dw, int64_t groups, T* y, int64_t oh, int64_t ow) {
  const int64_t cg = c / groups, og = o / groups;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc) {
      const int64_t g = oc / og;
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          double acc = bias ? static_cast<double>(bias[oc]) : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < kh; ++ky) {
              const int64_t iy = oy * sh + ky * dh - pt;
              if (iy < 0 || iy >= h) continue;
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t ix = ox * sw + kx * dw - pl;
                if (ix < 0 || ix >= wd) continue;
                const double xv = x[((b * c + g * cg + ci) * h + iy) * wd + ix];
                const double wv = w[((oc * cg + ci) * kh + ky) * kw + kx];
                acc += xv * wv;
              }
            }
          y[((b * o + oc) * oh + oy) * ow + ox] = static_cast<T>(acc);
        }
    }
}

template void reference<float>(const float*, int64_t, int64_t, int64_t, int64_t, const float*,
                               int64_t, int64_t, int64_t, const float*, int64_t, int64_t, int64_t,
                               int64_t, int64_t, int64_t, int64_t, float*, int64_t, int64_t);
template void reference<double>(const double*, int64_t, int64_t, int64_t, int64_t, const double*,
                                int64_t, int64_t, int64_t, const double*, int64_t, int64_t, int64_t,
                                int64_t, int64_t, int64_t, int64_t, double*, int64_t, int64_t);

namespace {

// The direct-kernel contracts of conv.h in plain loops: weight stride ws per tap; output
// planes (conv_direct) or channels-last pixels (conv_direct_nhwc).
template <class T>
void direct_loops(const DirectArgs<T>& a, int64_t ws, bool nhwc) {
  const int64_t xrow = a.sw * a.wq, xplane = a.hp * xrow;
  for (int64_t o = 0; o < a.ob; ++o)
    for (int64_t oy = a.oy0; oy < a.oy1; ++oy)
      for (int64_t ox = 0; ox < a.ow; ++ox) {
        T acc = a.bias ? a.bias[o] : T(0);
        const T* wp = a.w + o;
        for (int64_t ci = 0; ci < a.c; ++ci)
          for (int64_t ky = 0; ky < a.kh; ++ky) {
            const T* row = a.x + ci * xplane + (oy * a.sh + ky * a.dh) * xrow;
            for (int64_t kx = 0; kx < a.kw; ++kx, wp += ws) {
              const int64_t j = ox * a.sw + kx * a.dw;
              acc += row[(j % a.sw) * a.wq + j / a.sw] * *wp;
            }
          }
        if (a.relu && acc < T(0)) acc = T(0);
        a.y[nhwc ? (oy * a.ow + ox) * a.ys + o : o * a.ys + oy * a.ow + ox] = acc;
      }
}

template <class T, int WS>
void direct_scalar(const DirectArgs<T>& a) {
  direct_loops(a, WS, false);
}

template <class T>
void direct_nhwc_scalar(const DirectArgs<T>& a) {
  direct_loops(a, a.ob, true);
}

template <class T>
void dw_grad_scalar(const DirectArgs<T>& a, const T* gy, T* gw) {
  const int64_t xrow = a.sw * a.wq;
  for (int64_t ky = 0; ky < a.kh; ++ky)
    for (int64_t kx = 0; kx < a.kw; ++kx) {
      T acc = T(0);
      for (int64_t oy = a.oy0; oy < a.oy1; ++oy) {
        const T* row = a.x + (oy * a.sh + ky * a.dh) * xrow;
        for (int64_t ox = 0; ox < a.ow; ++ox) {
          const int64_t j = ox * a.sw + kx * a.dw;
          acc += gy[oy * a.ow + ox] * row[(j % a.sw) * a.wq + j / a.sw];
        }
      }
      gw[ky * a.kw + kx] = acc;
    }
}

// The Winograd transforms one channel at a time (conv.h); the SIMD versions do the same
// operations in the same order on a vector of channels.
// V = Bt d B of one channel's 4x4 window d, stored as o[xi * vx] = V(xi / 4, xi % 4).
template <class T>
void wino_bt_scalar(const T (&d)[4][4], T* o, int64_t vx) {
  T t[4][4];
  for (int s = 0; s < 4; ++s) {
    t[0][s] = d[0][s] - d[2][s];
    t[1][s] = d[1][s] + d[2][s];
    t[2][s] = d[2][s] - d[1][s];
    t[3][s] = d[1][s] - d[3][s];
  }
  for (int r = 0; r < 4; ++r) {
    T* q = o + (r * 4) * vx;
    q[0] = t[r][0] - t[r][2];
    q[vx] = t[r][1] + t[r][2];
    q[2 * vx] = t[r][2] - t[r][1];
    q[3 * vx] = t[r][1] - t[r][3];
  }
}

template <class T>
void wino_in_scalar(const T* x, int64_t ps, int64_t rs, int64_t c, int64_t nt, T* v, int64_t vt,
                    int64_t vx) {
  for (int64_t j = 0; j < nt; ++j)
    for (int64_t ch = 0; ch < c; ++ch) {
      const T* p = x + j * 2 * ps + ch;
      T d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 4; ++s) d[r][s] = p[r * rs + s * ps];
      wino_bt_scalar(d, v + j * vt + ch, vx);
    }
}

template <class T>
void wino_in_edge_scalar(const T* x, int64_t ps, int64_t rs, int64_t h, int64_t w, int64_t r0,
                         int64_t c0, int64_t c, int64_t nt, T* v, int64_t vt, int64_t vx) {
  for (int64_t j = 0; j < nt; ++j)
    for (int64_t ch = 0; ch < c; ++ch) {
      T d[4][4];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 4; ++s) {
          const int64_t iy = r0 + r, ix = c0 + 2 * j + s;
          d[r][s] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[iy * rs + ix * ps + ch] : T(0);
        }
      wino_bt_scalar(d, v + j * vt + ch, vx);
    }
}

template <class T>
void wino_out_scalar(const T* m, int64_t mt, int64_t mx, int64_t c, int64_t nt, const T* bias,
                     const T* res, bool relu, T* y, int64_t yp, int64_t yr) {
  for (int64_t j = 0; j < nt; ++j)
    for (int64_t ch = 0; ch < c; ++ch) {
      const T* p = m + j * mt + ch;
      T t[2][4];
      for (int s = 0; s < 4; ++s) {
        const T m0 = p[s * mx], m1 = p[(4 + s) * mx], m2 = p[(8 + s) * mx], m3 = p[(12 + s) * mx];
        t[0][s] = m0 + m1 + m2;
        t[1][s] = m1 - m2 - m3;
      }
      const T b = bias ? bias[ch] : T(0);
      for (int r = 0; r < 2; ++r) {
        T y0 = t[r][0] + t[r][1] + t[r][2] + b, y1 = t[r][1] - t[r][2] - t[r][3] + b;
        if (res) {
          y0 += res[r * yr + (2 * j) * yp + ch];
          y1 += res[r * yr + (2 * j + 1) * yp + ch];
        }
        if (relu) {
          y0 = y0 < T(0) ? T(0) : y0;
          y1 = y1 < T(0) ? T(0) : y1;
        }
        y[r * yr + (2 * j) * yp + ch] = y0;
        y[r * yr + (2 * j + 1) * yp + ch] = y1;
      }
    }
}

// The F(2x2, 2x2) transforms (conv.h) element by element, in the order the SIMD versions
// compute each element.
template <class T>
void wino2_in_scalar(const T* d0, const T* d1, const T* d2, int64_t ld, int64_t rows, int64_t n,
                     T* v0, T* v1, T* v2, int64_t vr) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) {
      const T x1 = d1[r * ld + t];
      v0[r * vr + t] = d0[r * ld + t] - x1;
      v1[r * vr + t] = x1;
      v2[r * vr + t] = d2[r * ld + t] - x1;
    }
}

template <class T>
void wino2_out_scalar(const T* m, int64_t ms, int64_t mb, int64_t np, int64_t th, int64_t tw,
                      const T* bias, T* y, int64_t yr) {
  for (int64_t ph = 0; ph < np * np; ++ph)
    for (int64_t tm = 0; tm < th; ++tm)
      for (int64_t t = 0; t < tw; ++t) {
        const int64_t a = ph / np, b = ph % np;
        T mm[3][3];
        for (int u = 0; u < 3; ++u)
          for (int v = 0; v < 3; ++v) mm[u][v] = m[ph * mb + (3 * u + v) * ms + tm * tw + t];
        for (int r = 0; r < 2; ++r) {
          const T g[3] = {mm[r][0] + mm[r + 1][0], mm[r][1] + mm[r + 1][1],
                          mm[r][2] + mm[r + 1][2]};
          for (int q = 0; q < 2; ++q) {
            T val = g[q] + g[q + 1];
            if (bias) val += *bias;
            y[((2 * tm + r) * np + a) * yr + (2 * t + q) * np + b] = val;
          }
        }
      }
}

}  // namespace

// The direct weight gradient (conv.h) in plain loops, summed in double, indexed from the
// geometry (not a.taps).
template <class T>
void direct_grad_scalar(const DirectArgs<T>& a, const T* gy, int64_t images, int64_t x_image,
                        int64_t gy_image, T* /*work*/, T* gw) {
  const int64_t xrow = a.sw * a.wq, xplane = a.hp * xrow, taps = a.c * a.kh * a.kw;
  for (int64_t o = 0; o < a.ob; ++o)
    for (int64_t ci = 0; ci < a.c; ++ci)
      for (int64_t ky = 0; ky < a.kh; ++ky)
        for (int64_t kx = 0; kx < a.kw; ++kx) {
          double s = 0.0;
          for (int64_t img = 0; img < images; ++img)
            for (int64_t oy = a.oy0; oy < a.oy1; ++oy) {
              const T* row = a.x + img * x_image + ci * xplane + (oy * a.sh + ky * a.dh) * xrow;
              const T* g = gy + img * gy_image + o * a.ys + oy * a.ow;
              for (int64_t ox = 0; ox < a.ow; ++ox) {
                const int64_t j = ox * a.sw + kx * a.dw;
                s += static_cast<double>(g[ox]) *
                     static_cast<double>(row[(j % a.sw) * a.wq + j / a.sw]);
              }
            }
          gw[o * taps + (ci * a.kh + ky) * a.kw + kx] += static_cast<T>(s);
        }
}

// The scalar direct kernel takes 4 channels a call; any count is correct.
constexpr int kScalarOb = 4;
const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/conv/kernels.inc"
#undef NPFAST_KERNEL
    kScalarOb, kScalarOb};

}  // namespace conv
}  // namespace npfast
