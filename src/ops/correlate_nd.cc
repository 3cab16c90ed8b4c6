// scipy.ndimage.correlate / convolve for inputs of any rank: the exact path. A 2-D input whose
// output has the corr2d result dtype goes to ndimage_corr2d's kernels (SciPy's sums there too
// with scipy_sums); everything else runs the
// straightforward loop below, SciPy's own algorithm (NI_Correlate): per output element, the
// weights in C order, taps with |w| <= DBL_EPSILON skipped, each tap's input value read as a
// double (cval past the edges in constant mode) and accumulated in double, rounded once to
// the output dtype.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "npfast/corr2d.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/ops/corr2d.h"

namespace npfast {
namespace {

template <class S>
double load_as(const char* p) {
  S v;
  std::memcpy(&v, p, sizeof(S));  // strides need not be aligned
  return static_cast<double>(v);
}

double load(const char* p, DType t) {
  return views::with_dtype(t, [p](auto e) { return load_as<decltype(e)>(p); });
}

void store(char* p, DType t, double v) {
  if (t == DType::f32) {
    const float f = static_cast<float>(v);
    std::memcpy(p, &f, sizeof f);
  } else {
    std::memcpy(p, &v, sizeof v);
  }
}

// Byte offset of tap t along an axis for output position i, or kOutside (constant mode).
constexpr int64_t kOutside = INT64_MIN;

}  // namespace

void ndimage_correlate(const View& input, const View& weights, const View& out, Border mode,
                       double cval, const int64_t* origin, bool convolve, bool scipy_sums,
                       bool* nonfinite) {
  if (nonfinite) *nonfinite = false;
  const int nd = input.ndim;
  if (weights.ndim != nd)
    throw ValueError("weights: must have the input's " + std::to_string(nd) +
                     " dimensions, got shape " + shape_str(weights));
  for (int i = 0; i < nd; ++i)
    if (weights.shape[i] < 1)
      throw ValueError("weights: must not be empty, got shape " + shape_str(weights));
  const DType t = corr2d_result_dtype(input.dtype, weights.dtype);
  if (out.dtype != DType::f32 && out.dtype != DType::f64)
    throw TypeError(std::string("output: dtype must be float32 or float64, got ") +
                    dtype_name(out.dtype));
  bool same = out.ndim == nd;
  for (int i = 0; same && i < nd; ++i) same = out.shape[i] == input.shape[i];
  if (!same)
    throw ValueError("output: shape must be " + shape_str(input) + ", got " + shape_str(out));
  for (int i = 0; i < nd; ++i) ops::check_origin(origin[i], weights.shape[i], i);
  if (nd == 2 && out.dtype == t)
    return ndimage_corr2d(input, weights, out, mode, cval, origin, convolve, scipy_sums, nonfinite);
  if (out.empty()) return;

  // The weights as SciPy's convolve uses them: flipped on every axis, origins negated and
  // shifted by one on even axes.
  View w = weights;
  int64_t centre[View::kMaxDims];
  for (int i = 0; i < nd; ++i) {
    const int64_t k = weights.shape[i];
    const int64_t o = convolve ? -origin[i] - (k % 2 == 0 ? 1 : 0) : origin[i];
    centre[i] = k / 2 + o;
    if (convolve) {
      w.data = static_cast<char*>(w.data) + (k - 1) * w.strides[i];
      w.strides[i] = -w.strides[i];
    }
  }
  // The taps: weight values and multi-indices, C order, tiny weights dropped (SciPy's
  // footprint).
  std::vector<double> tw;
  std::vector<int64_t> tpos;  // nd entries per tap
  {
    const int64_t n = w.size();
    int64_t idx[View::kMaxDims] = {};
    for (int64_t e = 0; e < n; ++e) {
      const char* p = static_cast<const char*>(w.data);
      for (int i = 0; i < nd; ++i) p += idx[i] * w.strides[i];
      const double v = load(p, w.dtype);
      if (std::fabs(v) > DBL_EPSILON) {
        tw.push_back(v);
        tpos.insert(tpos.end(), idx, idx + nd);
      }
      for (int i = nd - 1; i >= 0 && ++idx[i] == w.shape[i]; --i) idx[i] = 0;
    }
  }
  const int64_t ntaps = static_cast<int64_t>(tw.size());
  // Per axis, the byte offset of tap position t at output position j: table[i][j * k + t].
  std::vector<std::vector<int64_t>> table(static_cast<size_t>(nd));
  for (int i = 0; i < nd; ++i) {
    const int64_t n = input.shape[i], k = w.shape[i];
    auto& tab = table[static_cast<size_t>(i)];
    tab.resize(static_cast<size_t>(checked_mul(n, k, "ndimage offsets")));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t a = 0; a < k; ++a) {
        const int64_t s = map_index(j + a - centre[i], n, mode);
        tab[static_cast<size_t>(j * k + a)] = s < 0 ? kOutside : s * input.strides[i];
      }
  }
  const char* in = static_cast<const char*>(input.data);
  const DType it = input.dtype;
  const int64_t total = out.size();
  const int64_t grain = grain_for(total, 2.0 * static_cast<double>(ntaps * (nd + 1)) + 1.0);
  parallel_for(total, grain, [&](int64_t b, int64_t e) {
    int64_t idx[View::kMaxDims] = {};
    for (int64_t r = b, i = nd - 1; i >= 0; --i) {
      idx[i] = r % out.shape[i];
      r /= out.shape[i];
    }
    for (int64_t q = b; q < e; ++q) {
      double acc = 0.0;
      for (int64_t tap = 0; tap < ntaps; ++tap) {
        const int64_t* pos = tpos.data() + tap * nd;
        int64_t off = 0;
        bool outside = false;
        for (int i = 0; i < nd; ++i) {
          const int64_t o =
              table[static_cast<size_t>(i)][static_cast<size_t>(idx[i] * w.shape[i] + pos[i])];
          if (o == kOutside) {
            outside = true;
            break;
          }
          off += o;
        }
        acc += tw[static_cast<size_t>(tap)] * (outside ? cval : load(in + off, it));
      }
      char* po = static_cast<char*>(out.data);
      for (int i = 0; i < nd; ++i) po += idx[i] * out.strides[i];
      store(po, out.dtype, acc);
      for (int i = nd - 1; i >= 0 && ++idx[i] == out.shape[i]; --i) idx[i] = 0;
    }
  });
}

}  // namespace npfast
