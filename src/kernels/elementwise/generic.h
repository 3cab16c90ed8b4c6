// SIMD body of the elementwise family, written once against the vocabulary of
// src/core/simd/ and instantiated per ISA by x86_<isa>.cc, which includes the ISA's header and
// defines NPFAST_TARGET first. No include guard: one inclusion per ISA file.
#include <cstdint>
#include <cstring>

#include "src/kernels/elementwise/cast.h"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace elementwise {

template <class Src, class Dst>
void convert(int64_t n, const void* xv, void* yv, double scale, double offset) {
  const Src* x = static_cast<const Src*>(xv);
  Dst* y = static_cast<Dst*>(yv);
  constexpr int L = kLanes<double>;
  const auto vs = set1<double>(scale);
  const auto vo = set1<double>(offset);
  int64_t i = 0;
  // Two independent vectors per step hide the conversion latency.
  for (; i + 2 * L <= n; i += 2 * L) {
    const auto a = fma(load_f64(x + i), vs, vo);
    const auto b = fma(load_f64(x + i + L), vs, vo);
    store_f64(y + i, a);
    store_f64(y + i + L, b);
  }
  for (; i + L <= n; i += L) store_f64(y + i, fma(load_f64(x + i), vs, vo));
  for (; i < n; ++i) y[i] = npfast::elementwise::cast_from_f64<Dst>(__builtin_fma(double(x[i]), scale, offset));
}

#define NPFAST_CONVERT_ROW(Src) {convert<Src, float>, convert<Src, double>, convert<Src, uint8_t>}
inline constexpr npfast::elementwise::ConvertTable kConvertTable = {
    NPFAST_CONVERT_ROW(uint8_t), NPFAST_CONVERT_ROW(int8_t),  NPFAST_CONVERT_ROW(uint16_t),
    NPFAST_CONVERT_ROW(int16_t), NPFAST_CONVERT_ROW(int32_t), NPFAST_CONVERT_ROW(int64_t),
    NPFAST_CONVERT_ROW(float),   NPFAST_CONVERT_ROW(double)};
#undef NPFAST_CONVERT_ROW

}  // namespace elementwise
}  // namespace NPFAST_TARGET
}  // namespace npfast
