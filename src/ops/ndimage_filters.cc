// correlate1d and uniform_filter1d: argument checks, then one line pass (ndimage_line.h) with
// the filter1d kernels.
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/ndimage.hpp"
#include "src/kernels/filter1d/filter1d.h"
#include "src/ops/ndimage_line.h"

namespace npfast {
namespace {

void check_pass(const View& input, const View& out, int axis, int64_t size, int64_t origin,
                const char* size_arg) {
  if (input.ndim < 1) throw ValueError("input: must have at least 1 dimension");
  if (axis < 0 || axis >= input.ndim)
    throw ValueError("axis: " + std::to_string(axis) + " is out of bounds for array of dimension " +
                     std::to_string(input.ndim));
  if (size < 1)
    throw ValueError(std::string(size_arg) + ": must be at least 1, got " + std::to_string(size));
  if (origin < -(size / 2) || origin > (size - 1) / 2)
    throw ValueError("origin: must satisfy -(" + std::string(size_arg) + " // 2) <= origin <= (" +
                     size_arg + " - 1) // 2, got " + std::to_string(origin) + " for " + size_arg +
                     " " + std::to_string(size));
  bool same = out.ndim == input.ndim;
  for (int k = 0; same && k < input.ndim; ++k) same = out.shape[k] == input.shape[k];
  if (!same)
    throw ValueError("output: shape " + shape_str(out) + " must equal the input's " +
                     shape_str(input));
}

// Copied blocks: 128 bytes of lines per row. Blocks read in place: 4 KiB rows in bands of 32
// positions for the correlation (its band's rows stay in L2 for all the taps), 1 KiB rows over
// whole lines for the running sum.
ndimage::LinePass line_pass(int axis, int64_t size, int64_t origin, Border mode, double cval,
                            bool f32, bool whole_lines, double ns_per_element) {
  const int64_t size1 = size / 2, size2 = size - size1 - 1;
  const int64_t per_kib = f32 ? 256 : 128;
  return {axis,          size1 + origin, size2 - origin, mode, cval, f32 ? 32 : 16,
          whole_lines ? per_kib : 4 * per_kib, whole_lines ? 0 : 32, ns_per_element};
}

// NI_Correlate1D's test: +1 symmetric, -1 antisymmetric (odd sizes, within DBL_EPSILON).
int symmetry(const double* w, int64_t size) {
  if (!(size & 1)) return 0;
  const int64_t c = size / 2;
  bool sym = true, anti = true;
  for (int64_t i = 1; i <= c; ++i) {
    sym = sym && !(std::fabs(w[c + i] - w[c - i]) > DBL_EPSILON);
    anti = anti && !(std::fabs(w[c + i] + w[c - i]) > DBL_EPSILON);
  }
  return sym ? 1 : anti ? -1 : 0;
}

template <class T>
void correlate1d_as(const View& input, const double* weights, int64_t size, int axis,
                    const View& out, Border mode, double cval, int64_t origin) {
  std::vector<T> w(weights, weights + size);
  const int sym = symmetry(weights, size);
  const filter1d::Corr1dFn<T> k =
      of<T>(kernels<filter1d::Table>().f32_corr1d, kernels<filter1d::Table>().f64_corr1d);
  const ndimage::LinePass p =
      line_pass(axis, size, origin, mode, cval, sizeof(T) == 4, false,
                0.15 * static_cast<double>(sym ? size / 2 + 1 : size));
  ndimage::for_each_line<T>(input, out, p,
                            [&](const T* const* in, T* const* res, int64_t n, int64_t lanes) {
                              k(in, res, n, lanes, w.data(), size, sym);
                            });
}

template <class T>
void uniform_as(const View& input, int64_t size, int axis, const View& out, Border mode,
                double cval, int64_t origin) {
  const filter1d::Uniform1dFn<T> k =
      of<T>(kernels<filter1d::Table>().f32_uniform1d, kernels<filter1d::Table>().f64_uniform1d);
  const ndimage::LinePass p = line_pass(axis, size, origin, mode, cval, sizeof(T) == 4, true, 0.5);
  ndimage::for_each_line<T>(input, out, p,
                            [&](const T* const* in, T* const* res, int64_t n, int64_t lanes) {
                              k(in, res, n, lanes, size);
                            });
}

// float32 arithmetic only when nothing wider is read or written.
bool in_f32(const View& input, const View& out) {
  return input.dtype == DType::f32 && out.dtype == DType::f32;
}

}  // namespace

void correlate1d(const View& input, const double* weights, int64_t size, int axis, const View& out,
                 Border mode, double cval, int64_t origin) {
  check_pass(input, out, axis, size, origin, "len(weights)");
  if (in_f32(input, out))
    correlate1d_as<float>(input, weights, size, axis, out, mode, cval, origin);
  else
    correlate1d_as<double>(input, weights, size, axis, out, mode, cval, origin);
}

void uniform_filter1d(const View& input, int64_t size, int axis, const View& out, Border mode,
                      double cval, int64_t origin) {
  check_pass(input, out, axis, size, origin, "size");
  if (in_f32(input, out))
    uniform_as<float>(input, size, axis, out, mode, cval, origin);
  else
    uniform_as<double>(input, size, axis, out, mode, cval, origin);
}

}  // namespace npfast
