// How filters extend an array past its edges: one enum and one index map for every family
// (corr2d, the ndimage line filters).
#pragma once

#include <cstdint>

namespace npfast {

// How the input is extended past its edges (an index i outside [0, n)):
//   fill     the fill value (scipy.signal "fill", scipy.ndimage "constant")
//   wrap     i mod n                       (signal "wrap", ndimage "wrap")
//   reflect  d c b a | a b c d | d c b a   (signal "symm", ndimage "reflect")
//   nearest  a a a a | a b c d | d d d d   (ndimage "nearest")
//   mirror   d c b | a b c d | c b a       (ndimage "mirror"; n == 1 repeats the element)
// Extensions repeat periodically however far past the edge an index falls (as SciPy's
// NI_ExtendLine, which copies the extension from itself); an empty axis reads the fill value.
enum class Border : int { fill, wrap, reflect, nearest, mirror };

// The index that `i` (any integer) reads under `border` for an axis of length n; -1 for the
// fill value.
inline int64_t map_index(int64_t i, int64_t n, Border border) {
  if (i >= 0 && i < n) return i;
  if (n == 0) return -1;
  switch (border) {
    case Border::fill:
      return -1;
    case Border::nearest:
      return i < 0 ? 0 : n - 1;
    case Border::wrap: {
      // One period out (a filter's reach past the ends): no division, which cost the 2-D
      // filters' edge extensions an idiv an element (gaussian sigma 2 at 1024^2: 16 a row).
      if (i >= -n && i < 2 * n) return i < 0 ? i + n : i - n;
      const int64_t r = i % n;
      return r < 0 ? r + n : r;
    }
    case Border::reflect: {
      if (i >= -n && i < 2 * n) return i < 0 ? -1 - i : 2 * n - 1 - i;
      const int64_t p = 2 * n;
      int64_t r = i % p;
      if (r < 0) r += p;
      return r < n ? r : p - 1 - r;
    }
    case Border::mirror: {
      if (n == 1) return 0;
      if (i > -n && i < 2 * n - 1) return i < 0 ? -i : 2 * n - 2 - i;
      const int64_t p = 2 * n - 2;
      int64_t r = i % p;
      if (r < 0) r += p;
      return r < n ? r : p - r;
    }
  }
  return -1;
}

}  // namespace npfast
