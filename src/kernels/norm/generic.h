// SIMD body of the normalisation family (contracts in norm.h), written once against the
// vocabulary of src/core/simd/ and instantiated per ISA by x86_<isa>.cc. No include guard.
//
// Reductions load float32 as double vectors (load_f64) and keep four vector accumulators per
// sum, so the adds' latency is hidden and the sums are as accurate as the reference's; the
// lanes are added in order at the end. Element-wise passes run in T with the reference's fused
// operations (same bits).
#include <cstdint>
#include <type_traits>

#include "src/kernels/norm/norm.h"

namespace npfast {
namespace NPFAST_TARGET {
namespace norm {

using npfast::norm::Affine;
using npfast::norm::AffineRows;
using npfast::norm::GradAffine;
using npfast::norm::GradAffineRows;

// The lanes of v added in lane order.
inline double lane_sum(V<double> v) {
  double buf[kLanes<double>];
  store(buf, v);
  double s = 0;
  for (int l = 0; l < kLanes<double>; ++l) s += buf[l];
  return s;
}

// g where the ReLU passed (not y <= 0: y > 0 or NaN, torch's threshold_backward on the output,
// probe19b / review19), else 0; g itself without a ReLU mask.
template <bool kMask, class Vec>
inline Vec masked(Vec g, Vec y, Vec z) {
  if constexpr (kMask)
    return select(not_le(y, z), g, z);
  else
    return g;
}

template <class T>
inline T relu_of(T v) {
  return v < T(0) ? T(0) : v;
}

template <class T>
void stats(const T* x, int64_t n, double shift, double* sum) {
  constexpr int L = kLanes<double>;
  const auto vs = set1<double>(shift);
  V<double> s[4], q[4];
  for (int u = 0; u < 4; ++u) s[u] = q[u] = zero<double>();
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L)
    for (int u = 0; u < 4; ++u) {
      const auto d = sub(load_f64(x + i + u * L), vs);
      s[u] = add(s[u], d);
      q[u] = fma(d, d, q[u]);
    }
  double ss = lane_sum(add(add(s[0], s[1]), add(s[2], s[3])));
  double qq = lane_sum(add(add(q[0], q[1]), add(q[2], q[3])));
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - shift;
    ss += d;
    qq += d * d;
  }
  sum[0] = ss;
  sum[1] = qq;
}

template <bool kMask, class T>
void grad_sums_body(const T* dy, const T* x, const T* y, int64_t n, double mean, double* sum) {
  constexpr int L = kLanes<double>;
  const auto vm = set1<double>(mean);
  const auto z = zero<double>();
  V<double> s[4], q[4];
  for (int u = 0; u < 4; ++u) s[u] = q[u] = z;
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L)
    for (int u = 0; u < 4; ++u) {
      const int64_t k = i + u * L;
      const auto g = masked<kMask>(load_f64(dy + k), kMask ? load_f64(y + k) : z, z);
      s[u] = add(s[u], g);
      q[u] = fma(g, sub(load_f64(x + k), vm), q[u]);
    }
  double ss = lane_sum(add(add(s[0], s[1]), add(s[2], s[3])));
  double qq = lane_sum(add(add(q[0], q[1]), add(q[2], q[3])));
  for (; i < n; ++i) {
    // Masked: g = 0, which still multiplies x - mean (0 * inf is NaN, as torch's and the
    // vector body's; probe24c). NaN passes, as masked().
    const double g = kMask && y[i] <= T(0) ? 0.0 : static_cast<double>(dy[i]);
    ss += g;
    qq += g * (static_cast<double>(x[i]) - mean);
  }
  sum[0] = ss;
  sum[1] = qq;
}

template <class T>
void grad_sums(const T* dy, const T* x, const T* y, int64_t n, double mean, double* sum) {
  if (y)
    grad_sums_body<true>(dy, x, y, n, mean, sum);
  else
    grad_sums_body<false>(dy, x, y, n, mean, sum);
}

// Whether kV double vectors of channels get one sweep for all of them (the *_wide kernels,
// over the channels in groups of kV vectors): their 4 kV accumulators, kV per-channel
// constants and the loads in registers.
template <int kV>
constexpr bool kWideRows = 5 * kV + 4 <= kVectorRegisters;

// kV double vectors of channels (from channel j of rows c apart) in one sweep over the rows,
// where the general loop sweeps the rows once per vector (at 16 channels, two sweeps of the same
// cache lines; at 64, eight). Each channel keeps the general loop's order (even rows, odd rows,
// then their sum): the same bits. s and q receive the channels' two sums.
template <int kV, class T>
void stats_rows_wide(const T* x, int64_t rows, int64_t c, const double* shift, double* s,
                     double* q) {
  constexpr int L = kLanes<double>;
  V<double> vs[kV], s0[kV], s1[kV], q0[kV], q1[kV];
  for (int v = 0; v < kV; ++v) {
    vs[v] = load(shift + v * L);
    s0[v] = s1[v] = q0[v] = q1[v] = zero<double>();
  }
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2)
    for (int v = 0; v < kV; ++v) {
      const auto d0 = sub(load_f64(x + r * c + v * L), vs[v]);
      const auto d1 = sub(load_f64(x + (r + 1) * c + v * L), vs[v]);
      s0[v] = add(s0[v], d0);
      q0[v] = fma(d0, d0, q0[v]);
      s1[v] = add(s1[v], d1);
      q1[v] = fma(d1, d1, q1[v]);
    }
  if (r < rows)
    for (int v = 0; v < kV; ++v) {
      const auto d0 = sub(load_f64(x + r * c + v * L), vs[v]);
      s0[v] = add(s0[v], d0);
      q0[v] = fma(d0, d0, q0[v]);
    }
  for (int v = 0; v < kV; ++v) {
    store(s + v * L, add(s0[v], s1[v]));
    store(q + v * L, add(q0[v], q1[v]));
  }
}

// Rows: one block of L channels at a time over every row (two accumulators, even and odd
// rows), then the channels past the last whole vector one by one.
template <class T>
void stats_rows(const T* x, int64_t rows, int64_t c, const double* shift, double* sum) {
  constexpr int L = kLanes<double>;
  int64_t j = 0;
  if constexpr (kWideRows<4>)
    for (; j + 4 * L <= c; j += 4 * L)
      stats_rows_wide<4>(x + j, rows, c, shift + j, sum + j, sum + c + j);
  if constexpr (kWideRows<2>)
    for (; j + 2 * L <= c; j += 2 * L)
      stats_rows_wide<2>(x + j, rows, c, shift + j, sum + j, sum + c + j);
  for (; j + L <= c; j += L) {
    const auto vs = load(shift + j);
    auto s0 = zero<double>(), s1 = s0, q0 = s0, q1 = s0;
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
      const auto d0 = sub(load_f64(x + r * c + j), vs);
      const auto d1 = sub(load_f64(x + (r + 1) * c + j), vs);
      s0 = add(s0, d0);
      q0 = fma(d0, d0, q0);
      s1 = add(s1, d1);
      q1 = fma(d1, d1, q1);
    }
    if (r < rows) {
      const auto d0 = sub(load_f64(x + r * c + j), vs);
      s0 = add(s0, d0);
      q0 = fma(d0, d0, q0);
    }
    store(sum + j, add(s0, s1));
    store(sum + c + j, add(q0, q1));
  }
  for (; j < c; ++j) {
    double s = 0, q = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double d = static_cast<double>(x[r * c + j]) - shift[j];
      s += d;
      q += d * d;
    }
    sum[j] = s;
    sum[c + j] = q;
  }
}

// grad_sums_rows for kV double vectors of channels in one sweep, as stats_rows_wide (same
// order per channel as the general loop: the same bits).
template <int kV, bool kMask, class T>
void grad_sums_rows_wide(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                         const double* mean, double* s, double* q) {
  constexpr int L = kLanes<double>;
  const auto z = zero<double>();
  V<double> vm[kV], s0[kV], s1[kV], q0[kV], q1[kV];
  for (int v = 0; v < kV; ++v) {
    vm[v] = load(mean + v * L);
    s0[v] = s1[v] = q0[v] = q1[v] = z;
  }
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2)
    for (int v = 0; v < kV; ++v) {
      const int64_t k0 = r * c + v * L, k1 = k0 + c;
      const auto g0 = masked<kMask>(load_f64(dy + k0), kMask ? load_f64(y + k0) : z, z);
      const auto g1 = masked<kMask>(load_f64(dy + k1), kMask ? load_f64(y + k1) : z, z);
      s0[v] = add(s0[v], g0);
      q0[v] = fma(g0, sub(load_f64(x + k0), vm[v]), q0[v]);
      s1[v] = add(s1[v], g1);
      q1[v] = fma(g1, sub(load_f64(x + k1), vm[v]), q1[v]);
    }
  if (r < rows)
    for (int v = 0; v < kV; ++v) {
      const int64_t k0 = r * c + v * L;
      const auto g0 = masked<kMask>(load_f64(dy + k0), kMask ? load_f64(y + k0) : z, z);
      s0[v] = add(s0[v], g0);
      q0[v] = fma(g0, sub(load_f64(x + k0), vm[v]), q0[v]);
    }
  for (int v = 0; v < kV; ++v) {
    store(s + v * L, add(s0[v], s1[v]));
    store(q + v * L, add(q0[v], q1[v]));
  }
}

template <bool kMask, class T>
void grad_sums_rows_body(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                         const double* mean, double* sum) {
  constexpr int L = kLanes<double>;
  const auto z = zero<double>();
  int64_t j = 0;
  const T* ym = kMask ? y : nullptr;  // (y + j with y null would be undefined)
  if constexpr (kWideRows<4>)
    for (; j + 4 * L <= c; j += 4 * L)
      grad_sums_rows_wide<4, kMask>(dy + j, x + j, ym ? ym + j : nullptr, rows, c, mean + j,
                                    sum + j, sum + c + j);
  if constexpr (kWideRows<2>)
    for (; j + 2 * L <= c; j += 2 * L)
      grad_sums_rows_wide<2, kMask>(dy + j, x + j, ym ? ym + j : nullptr, rows, c, mean + j,
                                    sum + j, sum + c + j);
  for (; j + L <= c; j += L) {
    const auto vm = load(mean + j);
    auto s0 = z, s1 = z, q0 = z, q1 = z;
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
      const int64_t k0 = r * c + j, k1 = k0 + c;
      const auto g0 = masked<kMask>(load_f64(dy + k0), kMask ? load_f64(y + k0) : z, z);
      const auto g1 = masked<kMask>(load_f64(dy + k1), kMask ? load_f64(y + k1) : z, z);
      s0 = add(s0, g0);
      q0 = fma(g0, sub(load_f64(x + k0), vm), q0);
      s1 = add(s1, g1);
      q1 = fma(g1, sub(load_f64(x + k1), vm), q1);
    }
    if (r < rows) {
      const int64_t k0 = r * c + j;
      const auto g0 = masked<kMask>(load_f64(dy + k0), kMask ? load_f64(y + k0) : z, z);
      s0 = add(s0, g0);
      q0 = fma(g0, sub(load_f64(x + k0), vm), q0);
    }
    store(sum + j, add(s0, s1));
    store(sum + c + j, add(q0, q1));
  }
  for (; j < c; ++j) {
    double s = 0, q = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r * c + j;
      const double g = kMask && y[i] <= T(0) ? 0.0 : static_cast<double>(dy[i]);  // as above
      s += g;
      q += g * (static_cast<double>(x[i]) - mean[j]);
    }
    sum[j] = s;
    sum[c + j] = q;
  }
}

template <class T>
void grad_sums_rows(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                    const double* mean, double* sum) {
  if (y)
    grad_sums_rows_body<true>(dy, x, y, rows, c, mean, sum);
  else
    grad_sums_rows_body<false>(dy, x, y, rows, c, mean, sum);
}

// One vector (or the first n lanes) of the forward: fma(x - mean, scale, shift), ReLU'd.
template <bool kRelu, class Vec>
inline Vec affine(Vec x, Vec m, Vec s, Vec b, Vec z) {
  const Vec v = fma(sub(x, m), s, b);
  if constexpr (kRelu)
    return select(gt(z, v), z, v);
  else
    return v;
}

template <bool kRelu, class T>
void apply_body(const T* x, int64_t n, const Affine<T>& p, T* y) {
  constexpr int L = kLanes<T>;
  const auto vm = set1<T>(p.mean), vs = set1<T>(p.scale), vb = set1<T>(p.shift);
  const auto z = zero<T>();
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    store(y + i, affine<kRelu>(load(x + i), vm, vs, vb, z));
    store(y + i + L, affine<kRelu>(load(x + i + L), vm, vs, vb, z));
  }
  for (; i + L <= n; i += L) store(y + i, affine<kRelu>(load(x + i), vm, vs, vb, z));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    storen(y + i, affine<kRelu>(loadn(x + i, r), vm, vs, vb, z), r);
  }
}

template <class T>
void apply(const T* x, int64_t n, const Affine<T>& p, bool relu, T* y) {
  if (relu)
    apply_body<true>(x, n, p, y);
  else
    apply_body<false>(x, n, p, y);
}

// Rows of exactly kV vectors: the per-channel constants held in registers for the whole run
// (the general loop reloads them every row, as y may alias them). Same arithmetic: same bits.
template <int kV, bool kRelu, class T>
void apply_rows_narrow(const T* x, int64_t rows, const AffineRows<T>& p, T* y) {
  constexpr int L = kLanes<T>;
  const auto z = zero<T>();
  std::remove_const_t<decltype(z)> vm[kV], vs[kV], vb[kV];
  for (int v = 0; v < kV; ++v) {
    vm[v] = load(p.mean + v * L);
    vs[v] = load(p.scale + v * L);
    vb[v] = load(p.shift + v * L);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int v = 0; v < kV; ++v) {
      const int64_t o = r * kV * L + v * L;
      store(y + o, affine<kRelu>(load(x + o), vm[v], vs[v], vb[v], z));
    }
}

template <bool kRelu, class T>
void apply_rows_body(const T* x, int64_t rows, int64_t c, const AffineRows<T>& p, T* y) {
  constexpr int L = kLanes<T>;
  if (c == L) return apply_rows_narrow<1, kRelu>(x, rows, p, y);
  if (c == 2 * L) return apply_rows_narrow<2, kRelu>(x, rows, p, y);
  if constexpr (3 * 4 + 4 <= kVectorRegisters)
    if (c == 4 * L) return apply_rows_narrow<4, kRelu>(x, rows, p, y);
  const auto z = zero<T>();
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * c;
    T* yr = y + r * c;
    int64_t j = 0;
    for (; j + L <= c; j += L)
      store(yr + j,
            affine<kRelu>(load(xr + j), load(p.mean + j), load(p.scale + j), load(p.shift + j), z));
    if (j < c) {
      const int n = static_cast<int>(c - j);
      storen(yr + j,
             affine<kRelu>(loadn(xr + j, n), loadn(p.mean + j, n), loadn(p.scale + j, n),
                           loadn(p.shift + j, n), z),
             n);
    }
  }
}

template <class T>
void apply_rows(const T* x, int64_t rows, int64_t c, const AffineRows<T>& p, bool relu, T* y) {
  if (relu)
    apply_rows_body<true>(x, rows, c, p, y);
  else
    apply_rows_body<false>(x, rows, c, p, y);
}

// One vector of the input gradient: fma(a, g, fma(k, x - mean, b)), or a g without x (kX
// false: eval, where an inf or NaN input must not reach dx through k = 0).
template <bool kMask, bool kX, class Vec>
inline Vec grad_one(Vec dy, Vec x, Vec y, Vec m, Vec a, Vec k, Vec b, Vec z) {
  if constexpr (!kX) return mul(a, masked<kMask>(dy, y, z));
  return fma(a, masked<kMask>(dy, y, z), fma(k, sub(x, m), b));
}

template <bool kMask, bool kX, class T>
void grad_apply_body(const T* dy, const T* x, const T* y, int64_t n, const GradAffine<T>& p,
                     T* dx) {
  constexpr int L = kLanes<T>;
  const auto vm = set1<T>(p.mean), va = set1<T>(p.a), vk = set1<T>(p.k), vb = set1<T>(p.b);
  const auto z = zero<T>();
  int64_t i = 0;
  for (; i + L <= n; i += L)
    store(dx + i, grad_one<kMask, kX>(load(dy + i), kX ? load(x + i) : z, kMask ? load(y + i) : z,
                                      vm, va, vk, vb, z));
  if (i < n) {
    const int r = static_cast<int>(n - i);
    storen(dx + i,
           grad_one<kMask, kX>(loadn(dy + i, r), kX ? loadn(x + i, r) : z,
                               kMask ? loadn(y + i, r) : z, vm, va, vk, vb, z),
           r);
  }
}

template <class T>
void grad_apply(const T* dy, const T* x, const T* y, int64_t n, const GradAffine<T>& p, T* dx) {
  if (x) {
    if (y)
      grad_apply_body<true, true>(dy, x, y, n, p, dx);
    else
      grad_apply_body<false, true>(dy, x, y, n, p, dx);
  } else {
    if (y)
      grad_apply_body<true, false>(dy, x, y, n, p, dx);
    else
      grad_apply_body<false, false>(dy, x, y, n, p, dx);
  }
}

// Rows of exactly kV vectors (16, 32 or 64 float32 channels with AVX-512): the per-channel
// coefficients held in registers for the whole run (the general loop reloads them every row, as
// dx may alias them). The same arithmetic per element, so the same bits.
template <int kV, bool kMask, bool kX, class T>
void grad_apply_rows_narrow(const T* dy, const T* x, const T* y, int64_t rows,
                            const GradAffineRows<T>& p, T* dx) {
  constexpr int L = kLanes<T>;
  const auto z = zero<T>();
  std::remove_const_t<decltype(z)> vm[kV], va[kV], vk[kV], vb[kV];
  for (int v = 0; v < kV; ++v) {
    vm[v] = load(p.mean + v * L);
    va[v] = load(p.a + v * L);
    vk[v] = load(p.k + v * L);
    vb[v] = load(p.b + v * L);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int v = 0; v < kV; ++v) {
      const int64_t o = r * kV * L + v * L;
      store(dx + o, grad_one<kMask, kX>(load(dy + o), kX ? load(x + o) : z, kMask ? load(y + o) : z,
                                        vm[v], va[v], vk[v], vb[v], z));
    }
}

template <bool kMask, bool kX, class T>
void grad_apply_rows_body(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                          const GradAffineRows<T>& p, T* dx) {
  constexpr int L = kLanes<T>;
  if (c == L) return grad_apply_rows_narrow<1, kMask, kX>(dy, x, y, rows, p, dx);
  if (c == 2 * L) return grad_apply_rows_narrow<2, kMask, kX>(dy, x, y, rows, p, dx);
  if constexpr (4 * 4 + 5 <= kVectorRegisters)
    if (c == 4 * L) return grad_apply_rows_narrow<4, kMask, kX>(dy, x, y, rows, p, dx);
  const auto z = zero<T>();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r * c;
    int64_t j = 0;
    for (; j + L <= c; j += L)
      store(dx + o + j, grad_one<kMask, kX>(load(dy + o + j), kX ? load(x + o + j) : z,
                                            kMask ? load(y + o + j) : z, load(p.mean + j),
                                            load(p.a + j), load(p.k + j), load(p.b + j), z));
    if (j < c) {
      const int n = static_cast<int>(c - j);
      storen(dx + o + j,
             grad_one<kMask, kX>(loadn(dy + o + j, n), kX ? loadn(x + o + j, n) : z,
                                 kMask ? loadn(y + o + j, n) : z, loadn(p.mean + j, n),
                                 loadn(p.a + j, n), loadn(p.k + j, n), loadn(p.b + j, n), z),
             n);
    }
  }
}

template <class T>
void grad_apply_rows(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                     const GradAffineRows<T>& p, T* dx) {
  if (x) {
    if (y)
      grad_apply_rows_body<true, true>(dy, x, y, rows, c, p, dx);
    else
      grad_apply_rows_body<false, true>(dy, x, y, rows, c, p, dx);
  } else {
    if (y)
      grad_apply_rows_body<true, false>(dy, x, y, rows, c, p, dx);
    else
      grad_apply_rows_body<false, false>(dy, x, y, rows, c, p, dx);
  }
}

inline constexpr npfast::norm::Table kTable = {
#define NPFAST_KERNEL NPFAST_KERNEL_SIMD
#include "src/kernels/norm/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace norm
}  // namespace NPFAST_TARGET
}  // namespace npfast
