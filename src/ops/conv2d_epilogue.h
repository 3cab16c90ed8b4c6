// conv2d's epilogue, out = act(in + bias), for the algorithms whose kernels do not fuse it
// (GEMM, 1x1, shifted and implicit GEMM; the direct and Winograd kernels apply it themselves),
// and the residual addition (fused by Winograd, a separate pass for the others).
#pragma once

#include <algorithm>
#include <cstdint>

namespace npfast {
namespace conv_ops {

// dst[j] = act(src[j] + *bias) for j < n: one output row of one channel. `bias` points at the
// channel's bias, or is null (no addition: a -0.0 stays -0.0, as a GEMM result never is one
// anyway); relu maps negatives to +0. src == dst is allowed (in place).
template <class T>
inline void bias_act(const T* src, T* dst, int64_t n, const T* bias, bool relu) {
  if (bias) {
    const T b = *bias;
    if (relu)
      for (int64_t j = 0; j < n; ++j) {
        const T v = src[j] + b;
        dst[j] = v < T(0) ? T(0) : v;
      }
    else
      for (int64_t j = 0; j < n; ++j) dst[j] = src[j] + b;
  } else if (relu) {
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j] < T(0) ? T(0) : src[j];
  } else if (src != dst) {
    std::copy(src, src + n, dst);
  }
}

// y[j] = act(y[j] + r[j]) for j < n: the residual (shortcut) addition after bias, then the
// activation, each step rounded as separate passes would round it.
template <class T>
inline void residual_act(T* y, const T* r, int64_t n, bool relu) {
  if (relu)
    for (int64_t j = 0; j < n; ++j) {
      const T v = y[j] + r[j];
      y[j] = v < T(0) ? T(0) : v;
    }
  else
    for (int64_t j = 0; j < n; ++j) y[j] += r[j];
}

}  // namespace conv_ops
}  // namespace npfast
