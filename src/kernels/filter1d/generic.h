// SIMD body of the filter1d family, instantiated per ISA by x86_<isa>.cc (which includes the
// ISA header and defines NPFAST_TARGET first). No include guard: one inclusion per ISA file.
//
// Vectorised across the lanes (the lines side by side): a row is loaded as up to kVectors
// vectors at a time, and each output element is the filter1d.h sum in exactly its order, with
// separate multiplies and adds, so every lane matches the reference bit for bit. The lane tail
// uses masked loads and stores.
#include <cstdint>

#include "src/kernels/filter1d/filter1d.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace filter1d {

constexpr int kVectors = 4;

template <class T, int NV, bool Masked>
struct Lanes {
  static constexpr int U = NV + (Masked ? 1 : 0);
  static V<T> ld(const T* p, int u, int m) {
    return (Masked && u == NV) ? loadn(p + u * kLanes<T>, m) : load(p + u * kLanes<T>);
  }
  static void st(T* p, int u, int m, V<T> v) {
    if (Masked && u == NV)
      storen(p + u * kLanes<T>, v, m);
    else
      store(p + u * kLanes<T>, v);
  }
};

// Lanes [l, l + NV * L + (Masked ? m : 0)) of output row i (x: the row pointers of its
// centre).
template <class T, int NV, bool Masked>
inline void corr1d_row(const T* const* x, T* out, int64_t c, int64_t s2, const T* fw, int sym,
                       int64_t l, int m) {
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  V<T> acc[U];
  if (sym != 0) {
    const V<T> w0 = set1<T>(fw[0]);
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) acc[u] = mul(LN::ld(x[0] + l, u, m), w0);
    for (int64_t j = -c; j < 0; ++j) {
      const V<T> wj = set1<T>(fw[j]);
      const T* lo = x[j] + l;
      const T* hi = x[-j] + l;
      if (sym > 0) {
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u)
          acc[u] = add(acc[u], mul(add(LN::ld(lo, u, m), LN::ld(hi, u, m)), wj));
      } else {
#pragma GCC unroll 8
        for (int u = 0; u < U; ++u)
          acc[u] = add(acc[u], mul(sub(LN::ld(lo, u, m), LN::ld(hi, u, m)), wj));
      }
    }
  } else {
    const V<T> wl = set1<T>(fw[s2]);
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) acc[u] = mul(LN::ld(x[s2] + l, u, m), wl);
    for (int64_t j = -c; j < s2; ++j) {
      const V<T> wj = set1<T>(fw[j]);
      const T* r = x[j] + l;
#pragma GCC unroll 8
      for (int u = 0; u < U; ++u) acc[u] = add(acc[u], mul(LN::ld(r, u, m), wj));
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) LN::st(out + l, u, m, acc[u]);
}

template <class T, int NV, bool Masked>
inline void uniform1d_cols(const T* const* in, T* const* out, int64_t n, int64_t size, int64_t l,
                           int m) {
  using LN = Lanes<T, NV, Masked>;
  constexpr int U = LN::U;
  const V<T> div_v = set1<T>(static_cast<T>(size));
  V<T> s[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) s[u] = zero<T>();
  for (int64_t k = 0; k < size; ++k)
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) s[u] = add(s[u], LN::ld(in[k] + l, u, m));
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) LN::st(out[0] + l, u, m, div(s[u], div_v));
  for (int64_t i = 1; i < n; ++i) {
    const T* hi = in[i - 1 + size] + l;
    const T* lo = in[i - 1] + l;
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      s[u] = add(s[u], sub(LN::ld(hi, u, m), LN::ld(lo, u, m)));
      LN::st(out[i] + l, u, m, div(s[u], div_v));
    }
  }
}

// Both kernels split the lanes into groups of kVectors vectors, then single vectors, then a
// masked tail.
// Row by row for the correlation (each row's inputs stay in cache for the next), lane group
// by lane group for the running sum (its state is per lane).
template <class T>
void corr1d(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w, int64_t size,
            int sym) {
  constexpr int L = kLanes<T>;
  const int64_t c = size / 2, s2 = size - c - 1;
  const T* fw = w + c;
  for (int64_t i = 0; i < n; ++i) {
    const T* const* x = in + i + c;
    int64_t l = 0;
    for (; l + kVectors * L <= lanes; l += kVectors * L)
      corr1d_row<T, kVectors, false>(x, out[i], c, s2, fw, sym, l, 0);
    for (; l + L <= lanes; l += L) corr1d_row<T, 1, false>(x, out[i], c, s2, fw, sym, l, 0);
    if (l < lanes)
      corr1d_row<T, 0, true>(x, out[i], c, s2, fw, sym, l, static_cast<int>(lanes - l));
  }
}

template <class T>
void uniform1d(const T* const* in, T* const* out, int64_t n, int64_t lanes, int64_t size) {
  constexpr int L = kLanes<T>;
  int64_t l = 0;
  for (; l + kVectors * L <= lanes; l += kVectors * L)
    uniform1d_cols<T, kVectors, false>(in, out, n, size, l, 0);
  for (; l + L <= lanes; l += L) uniform1d_cols<T, 1, false>(in, out, n, size, l, 0);
  if (l < lanes) uniform1d_cols<T, 0, true>(in, out, n, size, l, static_cast<int>(lanes - l));
}

inline constexpr npfast::filter1d::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/filter1d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace filter1d
}  // namespace NPFAST_TARGET
}  // namespace npfast
