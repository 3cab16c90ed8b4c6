// Scalar reference for the filter1d family: the test oracle and the scalar ISA's kernels.
// Written as SciPy's NI_Correlate1D / NI_UniformFilter1D loops (filter1d.h).
#include <cstdint>

#include "src/kernels/filter1d/filter1d.h"

namespace npfast {
namespace filter1d {
namespace {

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
        for (int64_t j = -c; j < 0; ++j) acc += (x[j][l] + x[-j][l]) * fw[j];
      } else if (sym < 0) {
        acc = x[0][l] * fw[0];
        for (int64_t j = -c; j < 0; ++j) acc += (x[j][l] - x[-j][l]) * fw[j];
      } else {
        acc = x[s2][l] * fw[s2];
        for (int64_t j = -c; j < s2; ++j) acc += x[j][l] * fw[j];
      }
      out[i][l] = acc;
    }
  }
}

template <class T>
void uniform1d_ref(const T* const* in, T* const* out, int64_t n, int64_t lanes, int64_t size) {
  const T div = static_cast<T>(size);
  for (int64_t l = 0; l < lanes; ++l) {
    T s = 0;
    for (int64_t k = 0; k < size; ++k) s += in[k][l];
    out[0][l] = s / div;
    for (int64_t i = 1; i < n; ++i) {
      s += in[i - 1 + size][l] - in[i - 1][l];
      out[i][l] = s / div;
    }
  }
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/filter1d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace filter1d
}  // namespace npfast
