// Scalar reference for the corr2d family: the test oracle and the scalar ISA's kernel.
// Accumulates in double and rounds once.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "src/kernels/corr2d/corr2d.h"

namespace npfast {
namespace corr2d {
namespace {

template <class T>
void rows_ref(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps, int kh,
              int kw) {
  for (int o = 0; o < nrows; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int a = 0; a < kh; ++a) {
        const T* row = in[o + a] + j;
        for (int b = 0; b < kw; ++b) acc += double(taps[a * kw + b]) * double(row[b]);
      }
      out[o][j] = static_cast<T>(acc);
    }
  }
}

// SciPy's sums (NI_Correlate; corr2d.h, the `_scipy` kernel): from 0.0, row-major, taps with
// |w| <= DBL_EPSILON skipped, each product rounded before its add (the build has no FP
// contraction: -ffp-contract=off).
template <class T>
void rows_scipy_ref(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps, int kh,
                    int kw) {
  static_assert(std::is_same_v<T, double>, "SciPy sums in double");
  for (int o = 0; o < nrows; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int a = 0; a < kh; ++a)
        for (int b = 0; b < kw; ++b) {
          const double w = taps[a * kw + b];
          if (std::fabs(w) > DBL_EPSILON) acc += in[o + a][j + b] * w;
        }
      out[o][j] = acc;
    }
  }
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/corr2d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace corr2d
}  // namespace npfast
