// Scalar reference for the elementwise family: the test oracle and the fallback kernel.
#include <cmath>
#include <cstdint>

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

}  // namespace

#define NPFAST_CONVERT_ROW(Src) \
  {convert_ref<Src, float>, convert_ref<Src, double>, convert_ref<Src, uint8_t>}
const ConvertTable convert_reference = {
    NPFAST_CONVERT_ROW(uint8_t), NPFAST_CONVERT_ROW(int8_t),  NPFAST_CONVERT_ROW(uint16_t),
    NPFAST_CONVERT_ROW(int16_t), NPFAST_CONVERT_ROW(int32_t), NPFAST_CONVERT_ROW(int64_t),
    NPFAST_CONVERT_ROW(float),   NPFAST_CONVERT_ROW(double)};
#undef NPFAST_CONVERT_ROW

}  // namespace elementwise
}  // namespace npfast
