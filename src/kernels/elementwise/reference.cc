// Scalar reference for the elementwise family: the test oracle and the fallback kernel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "src/kernels/elementwise/cast.h"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace elementwise {
namespace {

template <class Src, class Dst>
void convert_ref(int64_t n, const void* xv, void* yv, double scale, double offset) {
  const Src* x = static_cast<const Src*>(xv);
  Dst* y = static_cast<Dst*>(yv);
  for (int64_t i = 0; i < n; ++i) y[i] = cast_from_f64<Dst>(std::fma(double(x[i]), scale, offset));
}

template <class Dst>
void normalize_ref(int64_t n, const uint8_t* x, void* yv, const double* scale, const double* offset,
                   int64_t channels, int64_t phase, bool /*stream*/) {
  Dst* y = static_cast<Dst*>(yv);
  int64_t c = phase;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = cast_from_f64<Dst>(std::fma(double(x[i]), scale[c], offset[c]));
    if (++c == channels) c = 0;
  }
}

template <class Dst>
void gather_ref(int64_t n, const uint8_t* x, int64_t sx, void* yv, double scale, double offset,
                bool /*stream*/) {
  Dst* y = static_cast<Dst*>(yv);
  for (int64_t i = 0; i < n; ++i)
    y[i] = cast_from_f64<Dst>(std::fma(double(x[i * sx]), scale, offset));
}

template <class Dst>
void trunc_ref(int64_t n, const double* x, void* y) {
  for (int64_t i = 0; i < n; ++i) {
    const Dst v = trunc_from_f64<Dst>(x[i]);
    std::memcpy(static_cast<char*>(y) + i * static_cast<int64_t>(sizeof(Dst)), &v, sizeof(Dst));
  }
}

void zero_ref(size_t n, void* p) { std::memset(p, 0, n); }

void copy_ref(size_t n, const void* x, void* y) { std::memcpy(y, x, n); }

template <class T>
T absmax_ref(int64_t n, const T* x) {
  T m = T(0);
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) return std::numeric_limits<T>::quiet_NaN();
    m = std::max(m, std::fabs(x[i]));
  }
  return m;
}

template <class T>
bool finite_ref(int64_t rows, int64_t n, const T* const* x) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(x[r][i])) return false;
  return true;
}

const GatherTable kGather = {gather_ref<float>, gather_ref<double>};

const NormalizeTable kNormalize = {normalize_ref<float>, normalize_ref<double>};

const TruncTable kTruncReference = {trunc_ref<uint8_t>, trunc_ref<int8_t>, trunc_ref<uint16_t>,
                                    trunc_ref<int16_t>, trunc_ref<int32_t>};

}  // namespace

#define NPFAST_CONVERT_ROW(Src) \
  { convert_ref<Src, float>, convert_ref<Src, double>, convert_ref<Src, uint8_t> }
const ConvertTable kConvertReference = {NPFAST_CONVERT_ROW(uint8_t),  NPFAST_CONVERT_ROW(int8_t),
                                        NPFAST_CONVERT_ROW(uint16_t), NPFAST_CONVERT_ROW(int16_t),
                                        NPFAST_CONVERT_ROW(int32_t),  NPFAST_CONVERT_ROW(int64_t),
                                        NPFAST_CONVERT_ROW(float),    NPFAST_CONVERT_ROW(double)};
#undef NPFAST_CONVERT_ROW

// The scalar kernels have no streaming stores: the stream table is the plain one.
const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/elementwise/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace elementwise
}  // namespace npfast
