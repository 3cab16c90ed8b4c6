// Scalar reference for the filter1d family: the test oracle and the scalar ISA's kernels.
// Written as SciPy's NI_Correlate1D / NI_UniformFilter1D loops (filter1d.h).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "src/kernels/filter1d/filter1d.h"

namespace npfast {
namespace filter1d {
namespace {

// acc + a * w as the SIMD kernels compute it: fused in float, two roundings in double.
template <class T>
T madd(T a, T w, T acc) {
  if constexpr (sizeof(T) == 4)
    return std::fma(a, w, acc);
  else
    return acc + a * w;
}

template <class T>
void corr1d_ref(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w,
                int64_t size, int sym) {
  const int64_t c = size / 2, s2 = size - c - 1;
  const T* fw = w + c;
  for (int64_t i = 0; i < n; ++i) {
    const T* const* x = in + i + c;  // x[j][l]: the line's element j from the centre
    for (int64_t l = 0; l < lanes; ++l) {
      T acc;
      if (sym > 0) {
        acc = x[0][l] * fw[0];
        for (int64_t j = -c; j < 0; ++j) acc = madd<T>(x[j][l] + x[-j][l], fw[j], acc);
      } else if (sym < 0) {
        acc = x[0][l] * fw[0];
        for (int64_t j = -c; j < 0; ++j) acc = madd<T>(x[j][l] - x[-j][l], fw[j], acc);
      } else {
        acc = x[s2][l] * fw[s2];
        for (int64_t j = -c; j < s2; ++j) acc = madd<T>(x[j][l], fw[j], acc);
      }
      out[i][l] = acc;
    }
  }
}

template <class T>
void corr1d_line_ref(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym) {
  const int64_t c = size / 2, s2 = size - c - 1;
  const T* fw = w + c;
  for (int64_t i = 0; i < n; ++i) {
    const T* x = in + i + c;
    T acc;
    if (sym > 0) {
      acc = x[0] * fw[0];
      for (int64_t j = -c; j < 0; ++j) acc = madd<T>(x[j] + x[-j], fw[j], acc);
    } else if (sym < 0) {
      acc = x[0] * fw[0];
      for (int64_t j = -c; j < 0; ++j) acc = madd<T>(x[j] - x[-j], fw[j], acc);
    } else {
      acc = x[s2] * fw[s2];
      for (int64_t j = -c; j < s2; ++j) acc = madd<T>(x[j], fw[j], acc);
    }
    out[i] = acc;
  }
}

template <class T>
void corr1d_line_copy_ref(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym,
                          const T* src, T* dst) {
  corr1d_line_ref<T>(in, out, n, w, size, sym);
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

template <class T>
void corr1d_lines_ref(const T* const* in, T* const* out, int64_t rows, int64_t n, const T* w,
                      int64_t size, int sym, const T* const* /*next: a hint*/) {
  for (int64_t r = 0; r < rows; ++r) corr1d_line_ref<T>(in[r], out[r], n, w, size, sym);
}

template <class T>
void uniform1d_ref(const T* const* in, T* const* out, int64_t n, int64_t lanes, int64_t size) {
  const T div = static_cast<T>(size);
  if (sizeof(T) == 4 && size <= kDirectRows) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t l = 0; l < lanes; ++l) {
        T s = in[i][l];
        for (int64_t k = 1; k < size; ++k) s += in[i + k][l];
        out[i][l] = s / div;
      }
    return;
  }
  // The window sum at i: float in partial sums of kAnchorBlock, double in SciPy's order.
  const int64_t block = sizeof(T) == 4 ? kAnchorBlock : size;
  auto window = [&](int64_t i, int64_t l) {
    T s = 0;
    for (int64_t k0 = 0; k0 < size; k0 += block) {
      T p = 0;
      for (int64_t k = k0; k < std::min(size, k0 + block); ++k) p += in[i + k][l];
      s += p;
    }
    return s;
  };
  for (int64_t l = 0; l < lanes; ++l) {
    T s = window(0, l);
    out[0][l] = s / div;
    for (int64_t i = 1; i < n; ++i) {
      if (sizeof(T) == 4 && i % kReanchor == 0) {
        s = window(i, l);
      } else {
        s += in[i - 1 + size][l] - in[i - 1][l];
      }
      out[i][l] = s / div;
    }
  }
}

template <class T>
void uniform1d_line_ref(const T* in, T* out, int64_t n, int64_t size) {
  const T div = static_cast<T>(size);
  for (int64_t i = 0; i < n; ++i) {
    T s = in[i];
    for (int64_t k = 1; k < size; ++k) s += in[i + k];
    out[i] = s / div;
  }
}

void uniform2d_ref(const float* const* in, float* out, int64_t n, int64_t k0, int64_t k1,
                   float* v) {
  for (int64_t c = 0; c < n + k1 - 1; ++c) {
    float s = in[0][c];
    for (int64_t r = 1; r < k0; ++r) s += in[r][c];
    v[c] = s / static_cast<float>(k0);
  }
  uniform1d_line_ref<float>(v, out, n, k1);
}

void uniform2d_rows_ref(const float* const* in, float* const* out, int64_t m, int64_t n, int64_t k0,
                        int64_t k1, float* const* v) {
  for (int64_t r = 0; r < m; ++r) uniform2d_ref(in + r, out[r], n, k0, k1, v[r]);
}

void sep3_row_ref(const float* const* in, float* out, int64_t n, const float* wh, int symh,
                  const float* wv, int symv) {
  const float whf[3] = {wh[0], wh[1], symh > 0 ? wh[0] : -wh[0]};
  const float wvf[3] = {wv[0], wv[1], symv > 0 ? wv[0] : -wv[0]};
  for (int64_t j = 0; j < n; ++j) {
    float h[3];
    for (int r = 0; r < 3; ++r) corr1d_line_ref<float>(in[r] + j - 1, &h[r], 1, whf, 3, symh);
    const float* hr[3] = {&h[0], &h[1], &h[2]};
    float* o = out + j;
    corr1d_ref<float>(hr, &o, 1, 1, wvf, 3, symv);
  }
}

void sep3_rows_ref(const float* const* in, float* const* out, int64_t m, int64_t n, const float* wh,
                   int symh, const float* wv, int symv) {
  for (int64_t r = 0; r < m; ++r) sep3_row_ref(in + r, out[r], n, wh, symh, wv, symv);
}

// The lanes kernel's reference on one line seen as rows of one lane.
template <class T>
void uniform1d_run_ref(const T* in, T* out, int64_t n, int64_t size) {
  std::vector<const T*> rows(static_cast<size_t>(n + size - 1));
  std::vector<T*> res(static_cast<size_t>(n));
  for (int64_t t = 0; t < n + size - 1; ++t) rows[t] = in + t;
  for (int64_t i = 0; i < n; ++i) res[i] = out + i;
  uniform1d_ref<T>(rows.data(), res.data(), n, 1, size);
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/filter1d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace filter1d
}  // namespace npfast
