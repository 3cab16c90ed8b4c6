// The scalar side of the conv family: the oracle (a direct 7-loop convolution accumulating in
// double, the test reference) and the scalar ISA's direct kernels (the fallback path).
#include <cstdint>

#include "src/kernels/conv/conv.h"

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

// The direct-kernel contract of conv.h in plain loops; WS is the weight stride per tap.
template <class T, int WS>
void direct_scalar(const DirectArgs<T>& a) {
  const int64_t xrow = a.sw * a.wq, xplane = a.hp * xrow;
  for (int64_t o = 0; o < a.ob; ++o)
    for (int64_t oy = a.oy0; oy < a.oy1; ++oy)
      for (int64_t ox = 0; ox < a.ow; ++ox) {
        T acc = a.bias ? a.bias[o] : T(0);
        const T* wp = a.w + o;
        for (int64_t ci = 0; ci < a.c; ++ci)
          for (int64_t ky = 0; ky < a.kh; ++ky) {
            const T* row = a.x + ci * xplane + (oy * a.sh + ky * a.dh) * xrow;
            for (int64_t kx = 0; kx < a.kw; ++kx, wp += WS) {
              const int64_t j = ox * a.sw + kx * a.dw;
              acc += row[(j % a.sw) * a.wq + j / a.sw] * *wp;
            }
          }
        if (a.relu && acc < T(0)) acc = T(0);
        a.y[o * a.ys + oy * a.ow + ox] = acc;
      }
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

}  // namespace

const KernelTable kernels_scalar = {direct_scalar<float, kOcBlock>, direct_scalar<double, kOcBlock>,
                                    direct_scalar<float, 1>,        direct_scalar<double, 1>,
                                    dw_grad_scalar<float>,          dw_grad_scalar<double>};

}  // namespace conv
}  // namespace npfast
