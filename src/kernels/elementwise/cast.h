// The scalar cast from double used by every convert kernel (its tail and the reference), so
// the SIMD bodies and the oracle agree bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

namespace npfast {
namespace elementwise {

template <class Dst>
inline Dst cast_from_f64(double v) {
  return static_cast<Dst>(v);
}
// Round half to even (the default rounding mode, as the SIMD conversion), saturate, NaN -> 0.
template <>
inline uint8_t cast_from_f64<uint8_t>(double v) {
  if (!(v > 0.0)) return 0;  // also NaN
  if (v >= 255.0) return 255;
  return static_cast<uint8_t>(std::nearbyint(v));
}

}  // namespace elementwise
}  // namespace npfast
