// The scalar cast from double used by every convert kernel (its tail and the reference), so
// the SIMD bodies and the oracle agree bit for bit.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

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

// C's cast of a double to an integer type of at most 32 bits as GCC compiles it on x86-64
// (SciPy's line buffers back into integer arrays): truncation toward zero into int32, INT32_MIN
// for NaN and anything outside int32 (the conversion's "integer indefinite"), then the low bits.
// The ndimage line buffers' c_cast (src/ops/ndimage_line.h) takes it for those types.
template <class Dst>
inline Dst trunc_from_f64(double v) {
  static_assert(sizeof(Dst) <= 4 && std::is_integral_v<Dst>, "at most 32-bit integers");
  const int32_t i = v > -2147483649.0 && v < 2147483648.0 ? static_cast<int32_t>(v) : INT32_MIN;
  return static_cast<Dst>(static_cast<uint32_t>(i));
}

}  // namespace elementwise
}  // namespace npfast
