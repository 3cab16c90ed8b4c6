// Scalar reference for the pooling family: PyTorch's loops written plainly. The test oracle
// and the `scalar` ISA kernels.
#include <cmath>
#include <cstdint>
#include <limits>

#include "src/kernels/pool/pool.h"

namespace npfast {
namespace pool {
namespace {

template <class T>
void max_pool_ref(const Geom& g, const T* in, int64_t in_row, T* out, int64_t* idx, int64_t oh0,
                  int64_t oh1) {
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1;
    max_window(oh, g.sH, g.pH, g.kH, g.dH, g.H, &h0, &h1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t w0, w1;
      max_window(ow, g.sW, g.pW, g.kW, g.dW, g.W, &w0, &w1);
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
      out[oh * g.OW + ow] = m;
      if (idx) idx[oh * g.OW + ow] = mi;
    }
  }
}

template <class T>
void avg_pool_ref(const Geom& g, const AvgOpts& a, const T* in, int64_t in_row, T* out, int64_t oh0,
                  int64_t oh1) {
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1, hp;
    avg_window(oh, g.sH, g.pH, g.kH, g.H, &h0, &h1, &hp);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t w0, w1, wp;
      avg_window(ow, g.sW, g.pW, g.kW, g.W, &w0, &w1, &wp);
      if (h0 >= h1 || w0 >= w1) {
        out[oh * g.OW + ow] = T(0);
        continue;
      }
      double sum = 0;
      for (int64_t ih = h0; ih < h1; ++ih)
        for (int64_t iw = w0; iw < w1; ++iw) sum += double(in[ih * in_row + iw]);
      const int64_t div = a.divisor_override    ? a.divisor_override
                          : a.count_include_pad ? hp * wp
                                                : (h1 - h0) * (w1 - w0);
      out[oh * g.OW + ow] = static_cast<T>(sum / double(div));
    }
  }
}

template <class T>
void max_pool_nhwc_ref(const Geom& g, int64_t C, const T* in, T* out, int64_t* idx, int64_t oh0,
                       int64_t oh1) {
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1;
    max_window(oh, g.sH, g.pH, g.kH, g.dH, g.H, &h0, &h1);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t w0, w1;
      max_window(ow, g.sW, g.pW, g.kW, g.dW, g.W, &w0, &w1);
      const int64_t at = (oh * g.OW + ow) * C;
      max_scan_nhwc(g, C, in, h0, h1, w0, w1, out + at, idx ? idx + at : nullptr);
    }
  }
}

template <class T>
void avg_pool_nhwc_ref(const Geom& g, const AvgOpts& a, int64_t C, const T* in, T* out, int64_t oh0,
                       int64_t oh1) {
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    int64_t h0, h1, hp;
    avg_window(oh, g.sH, g.pH, g.kH, g.H, &h0, &h1, &hp);
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int64_t w0, w1, wp;
      avg_window(ow, g.sW, g.pW, g.kW, g.W, &w0, &w1, &wp);
      for (int64_t c = 0; c < C; ++c) {
        double sum = 0;
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) sum += double(in[(ih * g.W + iw) * C + c]);
        out[(oh * g.OW + ow) * C + c] =
            h0 >= h1 || w0 >= w1
                ? T(0)
                : static_cast<T>(sum / double(avg_divisor(a, h0, h1, hp, w0, w1, wp)));
      }
    }
  }
}

template <class T>
void plane_means_ref(const T* x, int64_t planes, int64_t ps, int64_t h, int64_t w, int64_t rs,
                     T* out) {
  for (int64_t q = 0; q < planes; ++q) {
    double sum = 0;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) sum += double(x[q * ps + i * rs + j]);
    out[q] = static_cast<T>(sum / double(h * w));
  }
}

template <class T>
void plane_means_nhwc_ref(const T* x, int64_t hw, int64_t c, int64_t ld, T* out) {
  for (int64_t j = 0; j < c; ++j) {
    double sum = 0;
    for (int64_t p = 0; p < hw; ++p) sum += double(x[p * ld + j]);
    out[j] = static_cast<T>(sum / double(hw));
  }
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/pool/kernels.inc"
#undef NPFAST_KERNEL
    1, 1};

}  // namespace pool
}  // namespace npfast
