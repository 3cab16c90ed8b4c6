// SIMD body of the elementwise family, written once against the vocabulary of
// src/core/simd/ and instantiated per ISA by x86_<isa>.cc, which includes the ISA's header and
// defines NPFAST_TARGET first. No include guard: one inclusion per ISA file.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "src/kernels/elementwise/cast.h"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace elementwise {

using npfast::elementwise::cast_from_f64;

// Elements to write one by one before y reaches a 64-byte boundary (streaming stores need
// aligned addresses); n when y is not even aligned to its element size.
template <class Dst>
int64_t stream_head(const Dst* y, int64_t n) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(y);
  if (a % sizeof(Dst) != 0) return n;
  const int64_t head = static_cast<int64_t>(((64 - (a & 63)) & 63) / sizeof(Dst));
  return head < n ? head : n;
}

template <class Src, class Dst, bool kStream>
void convert(int64_t n, const void* xv, void* yv, double scale, double offset) {
  const Src* x = static_cast<const Src*>(xv);
  Dst* y = static_cast<Dst*>(yv);
  constexpr int L = kLanes<double>;
  const auto vs = set1<double>(scale);
  const auto vo = set1<double>(offset);
  int64_t i = 0;
  if constexpr (kStream) {
    for (const int64_t head = stream_head(y, n); i < head; ++i)
      y[i] = cast_from_f64<Dst>(__builtin_fma(double(x[i]), scale, offset));
  }
  // Two independent vectors per step hide the conversion latency.
  for (; i + 2 * L <= n; i += 2 * L) {
    const auto a = fma(load_f64(x + i), vs, vo);
    const auto b = fma(load_f64(x + i + L), vs, vo);
    if constexpr (kStream) {
      stream2_f64(y + i, a, b);
    } else {
      store_f64(y + i, a);
      store_f64(y + i + L, b);
    }
  }
  for (; i + L <= n; i += L) store_f64(y + i, fma(load_f64(x + i), vs, vo));
  for (; i < n; ++i) y[i] = cast_from_f64<Dst>(__builtin_fma(double(x[i]), scale, offset));
}

// y at any alignment (an integer array NumPy holds unaligned): unaligned vector stores, the
// tail by memcpy.
template <class Dst>
void trunc(int64_t n, const double* x, void* yv) {
  Dst* y = static_cast<Dst*>(yv);
  constexpr int L = kLanes<double>;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    store_trunc(y + i, load(x + i));
    store_trunc(y + i + L, load(x + i + L));
  }
  for (; i < n; ++i) {
    const Dst v = npfast::elementwise::trunc_from_f64<Dst>(x[i]);
    std::memcpy(static_cast<char*>(yv) + i * static_cast<int64_t>(sizeof(Dst)), &v, sizeof(Dst));
  }
}

template <class Dst, bool kStream>
void normalize_body(int64_t n, const uint8_t* x, Dst* y, const double* scale, const double* offset,
                    int64_t channels, int64_t phase) {
  constexpr int L = kLanes<double>;
  const int64_t step = L % channels;  // channel advance per vector
  int64_t i = 0, c = phase;
  if constexpr (kStream) {
    for (const int64_t head = stream_head(y, n); i < head; ++i) {
      y[i] = cast_from_f64<Dst>(__builtin_fma(double(x[i]), scale[c], offset[c]));
      if (++c == channels) c = 0;
    }
  }
  for (; i + 2 * L <= n; i += 2 * L) {
    const int64_t c2 = c + step >= channels ? c + step - channels : c + step;
    const auto a = fma(load_f64(x + i), load(scale + c), load(offset + c));
    const auto b = fma(load_f64(x + i + L), load(scale + c2), load(offset + c2));
    if constexpr (kStream) {
      stream2_f64(y + i, a, b);
    } else {
      store_f64(y + i, a);
      store_f64(y + i + L, b);
    }
    c = c2 + step >= channels ? c2 + step - channels : c2 + step;
  }
  for (; i + L <= n; i += L) {
    store_f64(y + i, fma(load_f64(x + i), load(scale + c), load(offset + c)));
    c += step;
    if (c >= channels) c -= channels;
  }
  for (; i < n; ++i) {
    y[i] = cast_from_f64<Dst>(__builtin_fma(double(x[i]), scale[c], offset[c]));
    if (++c == channels) c = 0;
  }
}

template <class Dst>
void normalize(int64_t n, const uint8_t* x, void* yv, const double* scale, const double* offset,
               int64_t channels, int64_t phase, bool stream) {
  Dst* y = static_cast<Dst*>(yv);
  if (stream)
    normalize_body<Dst, true>(n, x, y, scale, offset, channels, phase);
  else
    normalize_body<Dst, false>(n, x, y, scale, offset, channels, phase);
}

template <class Dst, bool kStream>
void gather_body(int64_t n, const uint8_t* x, int32_t sx, Dst* y, double scale, double offset) {
  constexpr int L = kLanes<double>;
  const auto vs = set1<double>(scale);
  const auto vo = set1<double>(offset);
  int64_t i = 0;
  if constexpr (kStream) {
    for (const int64_t head = stream_head(y, n); i < head; ++i)
      y[i] = cast_from_f64<Dst>(__builtin_fma(double(x[i * sx]), scale, offset));
  }
  auto step = [&](auto load) {
    const auto a = fma(load(x + i * sx), vs, vo);
    const auto b = fma(load(x + (i + L) * sx), vs, vo);
    if constexpr (kStream) {
      stream2_f64(y + i, a, b);
    } else {
      store_f64(y + i, a);
      store_f64(y + i + L, b);
    }
  };
  // No load may pass the last element, x[(n - 1) sx].
  const int64_t last = (n - 1) * sx;
  if (sx == 3 || sx == 4) {
    // One load + a shuffle per vector (gathers are slow on some cores).
    const int64_t stop = last - kStridedReadBytes + 1;  // loads start at or before this byte
    if (sx == 3)
      for (; (i + L) * 3 <= stop; i += 2 * L)
        step([](const uint8_t* p) { return load_f64_stride3(p); });
    else
      for (; (i + L) * 4 <= stop; i += 2 * L)
        step([](const uint8_t* p) { return load_f64_stride4(p); });
  } else {
    // Each gather lane reads 4 bytes: stop while 3 more elements follow.
    for (; i + 2 * L + 3 <= n; i += 2 * L)
      step([sx](const uint8_t* p) { return load_f64_strided(p, sx); });
  }
  for (; i < n; ++i) y[i] = cast_from_f64<Dst>(__builtin_fma(double(x[i * sx]), scale, offset));
}

template <class Dst>
void gather(int64_t n, const uint8_t* x, int64_t sx, void* yv, double scale, double offset,
            bool stream) {
  Dst* y = static_cast<Dst*>(yv);
  const int32_t s = static_cast<int32_t>(sx);
  if (stream)
    gather_body<Dst, true>(n, x, s, y, scale, offset);
  else
    gather_body<Dst, false>(n, x, s, y, scale, offset);
}

inline void zero_stream(size_t n, void* pv) {
  char* p = static_cast<char*>(pv);
  const size_t head = std::min(n, (64 - (reinterpret_cast<uintptr_t>(p) & 63)) & 63);
  std::memset(p, 0, head);
  size_t i = head;
  for (; i + 256 <= n; i += 256) {
    stream_zero64(p + i);
    stream_zero64(p + i + 64);
    stream_zero64(p + i + 128);
    stream_zero64(p + i + 192);
  }
  for (; i + 64 <= n; i += 64) stream_zero64(p + i);
  std::memset(p + i, 0, n - i);
  stream_fence();
}

// The lines of y between its first and last 64-byte boundary with streaming stores, the bytes
// before and after them plainly; no fence (elementwise.h: the caller fences once).
inline void copy_stream(size_t n, const void* xv, void* yv) {
  const char* x = static_cast<const char*>(xv);
  char* y = static_cast<char*>(yv);
  const size_t head = std::min(n, (64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63);
  std::memcpy(y, x, head);
  size_t i = head;
  for (; i + 256 <= n; i += 256) {
    stream_copy64(y + i, x + i);
    stream_copy64(y + i + 64, x + i + 64);
    stream_copy64(y + i + 128, x + i + 128);
    stream_copy64(y + i + 192, x + i + 192);
  }
  for (; i + 64 <= n; i += 64) stream_copy64(y + i, x + i);
  std::memcpy(y + i, x + i, n - i);
}

// Largest |x| as the larger of max(x) and -min(x), with x86's one-instruction max and min
// (which drop NaNs), and x * 0 summed apart: NaN once an element is inf or NaN. Three
// operations a vector, four independent sets (max_nan / min_nan took six).
template <class T>
T absmax(int64_t n, const T* x) {
  constexpr int L = kLanes<T>;
  if (n == 0) return T(0);
  // Started at x[0], not at a constant (GCC 12 then folds the unused accumulators' max into a
  // spurious -Wuninitialized).
  auto hi0 = set1<T>(x[0]), hi1 = hi0, hi2 = hi0, hi3 = hi0;
  auto lo0 = hi0, lo1 = hi0, lo2 = hi0, lo3 = hi0;
  const auto z = zero<T>();
  auto bad0 = z, bad1 = z;
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    const auto a = load(x + i), b = load(x + i + L), c = load(x + i + 2 * L),
               d = load(x + i + 3 * L);
    hi0 = max_raw(hi0, a), lo0 = min_raw(lo0, a);
    hi1 = max_raw(hi1, b), lo1 = min_raw(lo1, b);
    hi2 = max_raw(hi2, c), lo2 = min_raw(lo2, c);
    hi3 = max_raw(hi3, d), lo3 = min_raw(lo3, d);
    bad0 = fma(a, z, fma(b, z, bad0));
    bad1 = fma(c, z, fma(d, z, bad1));
  }
  for (; i + L <= n; i += L) {
    const auto a = load(x + i);
    hi0 = max_raw(hi0, a), lo0 = min_raw(lo0, a), bad0 = fma(a, z, bad0);
  }
  // The tail with zeros in the spare lanes, which change no answer (|x| >= 0).
  if (i < n) {
    const auto a = loadn(x + i, static_cast<int>(n - i));
    hi1 = max_raw(hi1, a), lo1 = min_raw(lo1, a), bad1 = fma(a, z, bad1);
  }
  hi0 = max_raw(max_raw(hi0, hi1), max_raw(hi2, hi3));
  lo0 = min_raw(min_raw(lo0, lo1), min_raw(lo2, lo3));
  bad0 = add(bad0, bad1);
  alignas(64) T h[L], l[L], b[L];
  store(h, hi0);
  store(l, lo0);
  store(b, bad0);
  T m = T(0);
  for (int k = 0; k < L; ++k) {
    if (b[k] != b[k]) return b[k];
    m = std::max(m, std::max(h[k], -l[k]));
  }
  return m;
}

// finite (elementwise.h): x * 0 summed over all the rows, which stays a (signed) zero while
// every x is finite and turns NaN at an inf or a NaN. Four accumulators cover the multiply-add's
// latency (one vector a cycle, far above what the caller's rows arrive at), and a call reduces
// once whatever its row count.
template <class T>
bool finite(int64_t rows, int64_t n, const T* const* x) {
  constexpr int L = kLanes<T>;
  const auto z = zero<T>();
  auto bad0 = z, bad1 = z, bad2 = z, bad3 = z;
  for (int64_t r = 0; r < rows; ++r) {
    const T* p = x[r];
    int64_t i = 0;
    for (; i + 4 * L <= n; i += 4 * L) {
      bad0 = fma(load(p + i), z, bad0);
      bad1 = fma(load(p + i + L), z, bad1);
      bad2 = fma(load(p + i + 2 * L), z, bad2);
      bad3 = fma(load(p + i + 3 * L), z, bad3);
    }
    for (; i + L <= n; i += L) bad0 = fma(load(p + i), z, bad0);
    if (i < n) bad1 = fma(loadn(p + i, static_cast<int>(n - i)), z, bad1);
  }
  alignas(64) T b[L];
  store(b, add(add(bad0, bad1), add(bad2, bad3)));
  bool ok = true;
  for (int k = 0; k < L; ++k) ok &= b[k] == b[k];
  return ok;
}

#define NPFAST_CONVERT_ROW(Src, S) \
  { convert<Src, float, S>, convert<Src, double, S>, convert<Src, uint8_t, S> }
#define NPFAST_CONVERT_TABLE(S)                                          \
  {                                                                      \
    NPFAST_CONVERT_ROW(uint8_t, S), NPFAST_CONVERT_ROW(int8_t, S),       \
        NPFAST_CONVERT_ROW(uint16_t, S), NPFAST_CONVERT_ROW(int16_t, S), \
        NPFAST_CONVERT_ROW(int32_t, S), NPFAST_CONVERT_ROW(int64_t, S),  \
        NPFAST_CONVERT_ROW(float, S), NPFAST_CONVERT_ROW(double, S)      \
  }
inline constexpr npfast::elementwise::ConvertTable kConvertTable = NPFAST_CONVERT_TABLE(false);
inline constexpr npfast::elementwise::ConvertTable kConvertStreamTable = NPFAST_CONVERT_TABLE(true);
#undef NPFAST_CONVERT_TABLE
#undef NPFAST_CONVERT_ROW
inline constexpr npfast::elementwise::NormalizeTable kNormalizeTable = {normalize<float>,
                                                                        normalize<double>};
inline constexpr npfast::elementwise::GatherTable kGatherTable = {gather<float>, gather<double>};
inline constexpr npfast::elementwise::TruncTable kTruncTable = {
    trunc<uint8_t>, trunc<int8_t>, trunc<uint16_t>, trunc<int16_t>, trunc<int32_t>};

inline constexpr npfast::elementwise::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/elementwise/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace elementwise
}  // namespace NPFAST_TARGET
}  // namespace npfast
