// Fuzzes npfast::normalize: any dtypes (valid or not), shapes, strides, channel axes (in range
// or not), to_chw, and mean/std tables of any length with any values (0, NaN, inf included);
// accepted calls are checked bit for bit against a scalar oracle.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz/input.h"
#include "npfast/elementwise.hpp"
#include "npfast/error.hpp"

namespace {

// Mostly ordinary statistics, sometimes any double (0, NaN, inf, subnormals: must be refused or
// computed, never crash).
double stat(npfast::fuzz::Input& in) {
  if (in.range(0, 7) == 0) return in.take<double>();
  return static_cast<double>(in.range(-1024, 1024)) / 256.0;
}

// An accepted call must give each element's one fma in double, rounded once (the contract: the
// same bits on every path, layout and thread count), at the position to_chw moves it to. Only
// for outputs whose elements are distinct (where strides alias, which write survives is
// unordered).
void check(const npfast::View& x, const npfast::View& y, const double* mean, const double* sd,
           int64_t n_stats, int k, bool to_chw) {
  using namespace npfast;
  std::vector<int64_t> xoffs, yoffs, channel;
  int64_t idx[View::kMaxDims], out[View::kMaxDims];
  for (int64_t n = 0; n < x.size(); ++n) {
    int64_t r = n, xoff = 0, yoff = 0;
    for (int i = x.ndim - 1; i >= 0; --i) {
      idx[i] = r % x.shape[i];
      r /= x.shape[i];
      xoff += idx[i] * x.strides[i];
    }
    for (int i = 0, p = 0; i < x.ndim; ++i)
      if (!to_chw || i != k) out[p++] = idx[i];
    if (to_chw) {
      for (int p = x.ndim - 1; p > x.ndim - 3; --p) out[p] = out[p - 1];
      out[x.ndim - 3] = idx[k];
    }
    for (int p = 0; p < y.ndim; ++p) yoff += out[p] * y.strides[p];
    xoffs.push_back(xoff);
    yoffs.push_back(yoff);
    channel.push_back(n_stats == 1 ? 0 : idx[k]);
  }
  std::vector<int64_t> sorted = yoffs;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return;
  for (size_t n = 0; n < yoffs.size(); ++n) {
    const int64_t c = channel[n];
    const double v = static_cast<const uint8_t*>(x.data)[xoffs[n]];
    const double want = std::fma(v, 1.0 / (255.0 * sd[c]), -mean[c] / sd[c]);
    const char* got = static_cast<const char*>(y.data) + yoffs[n];
    bool same;
    if (y.dtype == DType::f32) {
      float g, w = static_cast<float>(want);
      std::memcpy(&g, got, sizeof g);
      same = std::memcmp(&g, &w, sizeof g) == 0 || (std::isnan(g) && std::isnan(w));
    } else {
      double g;
      std::memcpy(&g, got, sizeof g);
      same = std::memcmp(&g, &want, sizeof g) == 0 || (std::isnan(g) && std::isnan(want));
    }
    if (!same) __builtin_trap();  // libFuzzer reports it as a crash with this input
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npfast;
  fuzz::Input in(data, size);
  // uint8 in and float out are the valid pair: other dtypes only now and then.
  const DType src = in.range(0, 7) == 0 ? static_cast<DType>(in.range(0, 7)) : DType::u8;
  const DType dst = in.range(0, 7) == 0 ? static_cast<DType>(in.range(0, 7))
                                        : (in.range(0, 1) ? DType::f32 : DType::f64);
  const int ndim = static_cast<int>(in.range(0, 5));
  int64_t shape[View::kMaxDims];
  for (int i = 0; i < ndim; ++i) shape[i] = in.range(0, 9);
  const int axis = static_cast<int>(in.range(-6, 5));
  const bool to_chw = in.range(0, 1);
  fuzz::Array x, y;
  if (!fuzz::make_array(in, src, ndim, shape, &x)) return 0;
  // The output shape normalize wants when the axis is valid (else x's shape, to be refused).
  Shape yshape{ndim, {}};
  std::copy(shape, shape + ndim, yshape.dims);
  try {
    yshape = normalize_shape(x.view, normalize_axis(x.view, axis, to_chw), to_chw);
  } catch (const Error&) {
  }
  // Output shape sometimes differs from the wanted one: must be refused, not written.
  if (ndim > 0 && in.range(0, 7) == 0) yshape.dims[in.range(0, ndim - 1)] += 1;
  if (!fuzz::make_array(in, dst, ndim, yshape.dims, &y)) return 0;
  // 1 or C statistics as a rule, any count up to 10 now and then.
  const int64_t channels =
      ndim > 0 && axis >= -ndim && axis < ndim ? shape[axis < 0 ? axis + ndim : axis] : 1;
  const int64_t n_stats = in.range(0, 7) == 0 ? in.range(0, 10) : (in.range(0, 1) ? channels : 1);
  std::vector<double> mean(static_cast<size_t>(n_stats)), stddev(static_cast<size_t>(n_stats));
  for (int64_t c = 0; c < n_stats; ++c) {
    mean[c] = stat(in);
    stddev[c] = stat(in);
  }
  try {
    normalize(x.view, y.view, mean.data(), stddev.data(), n_stats, axis, to_chw);
    check(x.view, y.view, mean.data(), stddev.data(), n_stats, normalize_axis(x.view, axis, to_chw),
          to_chw);
  } catch (const Error&) {
  }
  return 0;
}
