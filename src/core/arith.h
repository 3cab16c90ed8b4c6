// Integer helpers for sizes and tilings (non-negative a, positive b).
#pragma once

#include <cstdint>

namespace npfast {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
// a rounded up to a multiple of b.
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

}  // namespace npfast
