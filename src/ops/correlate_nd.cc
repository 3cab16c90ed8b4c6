// scipy.ndimage.correlate / convolve for inputs of any rank. A 2-D input whose output has the
// corr2d result dtype goes to ndimage_corr2d's kernels (SciPy's sums there too with
// scipy_sums). An input of 3 or more dimensions in that dtype, output too, runs corr2d's row
// kernels (correlate_rows below: each output row is one kernel call over the input rows its
// window reads). Everything else runs the straightforward loop at the end, SciPy's own
// algorithm (NI_Correlate): per output element, the weights in C order, taps with
// |w| <= DBL_EPSILON skipped, each tap's input value read as a double (cval past the edges in
// constant mode) and accumulated in double, rounded once to the output dtype.
#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "npfast/corr2d.hpp"
#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/kernels/corr2d/corr2d.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/ops/corr2d.h"
#include "src/ops/ndimage_line.h"

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

// An N-D correlation (nd >= 3; input, weights `w` and output of type T; w already flipped for
// convolve, `centre` its centre per axis) by corr2d's row kernels: the input's rows (the last
// axis) are copied once, each extended by the mode to W + kw - 1 values; an output row is one
// kernel call (nrows 1) whose kh is the product of the other axes' weight lengths, its input
// rows those the window reads (a cval row where one lies outside under 'constant'), the taps
// the weights as such a kh x kw matrix. The kernels' float arithmetic (fused multiply-adds in
// T, every tap multiplied): within the linear filters' tolerance of SciPy's double sums
// (docs/ndimage.md); `nonfinite`, where asked, says whether a value read (input or a
// non-finite cval under 'constant') is an inf or a NaN, for the caller's zero taps.
template <class T>
void correlate_rows(const View& input, const View& w, const int64_t* centre, const View& out,
                    Border mode, double cval, bool* nonfinite) {
  const int nd = input.ndim, last = nd - 1;
  const int64_t W = input.shape[last], kw = w.shape[last], PW = W + kw - 1;
  const int64_t left = centre[last], right = kw - 1 - left;
  int64_t kh = 1, rows = 1;
  for (int i = 0; i < last; ++i) kh *= w.shape[i], rows *= input.shape[i];
  if (kh > (int64_t{1} << 20) || kw > (int64_t{1} << 20))
    throw MemoryError("weights: too large, shape " + shape_str(w));
  // Taps in C order as a kh x kw matrix of T.
  Buffer<T> taps(static_cast<size_t>(kh * kw));
  {
    int64_t idx[View::kMaxDims] = {};
    for (int64_t e = 0; e < kh * kw; ++e) {
      const char* p = static_cast<const char*>(w.data);
      for (int i = 0; i < nd; ++i) p += idx[i] * w.strides[i];
      taps[static_cast<size_t>(e)] = static_cast<T>(load(p, w.dtype));
      for (int i = nd - 1; i >= 0 && ++idx[i] == w.shape[i]; --i) idx[i] = 0;
    }
  }
  const T fill = static_cast<T>(cval);
  // The extended rows, then one cval row (read past the edges under 'constant').
  Buffer<T> ext(static_cast<size_t>(checked_mul(rows + 1, PW, "correlate rows")));
  std::fill(ext.get() + rows * PW, ext.get() + (rows + 1) * PW, fill);
  const elementwise::FiniteFn<T> finite =
      of<T>(kernels<elementwise::Table>().f32_finite, kernels<elementwise::Table>().f64_finite);
  std::atomic<bool> seen{nonfinite && mode == Border::fill && !std::isfinite(cval)};
  auto source_row = [&](int64_t r) {  // input row r (C order over the leading axes)
    const char* p = static_cast<const char*>(input.data);
    for (int i = last - 1; i >= 0; --i) {
      p += (r % input.shape[i]) * input.strides[i];
      r /= input.shape[i];
    }
    return p;
  };
  parallel_for(rows, grain_for(rows, 0.3 * static_cast<double>(PW)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const char* src = source_row(r);
      T* e = ext.get() + r * PW;
      if (input.strides[last] == static_cast<int64_t>(sizeof(T)))
        std::memcpy(e + left, src, static_cast<size_t>(W) * sizeof(T));
      else
        for (int64_t j = 0; j < W; ++j)
          std::memcpy(e + left + j, src + j * input.strides[last], sizeof(T));
      ndimage::extend_lines(e, W, left, right, 1, mode, fill);
      const T* row = e + left;
      if (nonfinite && !finite(1, W, &row)) seen.store(true, std::memory_order_relaxed);
    }
  });
  const corr2d::RowsFn<T> kern =
      corr2d::rows_kernel<T>(kernels<corr2d::Table>(), static_cast<int>(kh), static_cast<int>(kw));
  const bool direct = out.strides[last] == static_cast<int64_t>(sizeof(T));
  const double per_row = static_cast<double>(W) * (0.05 + 0.03 * static_cast<double>(kh * kw));
  parallel_for(rows, grain_for(rows, per_row), [&](int64_t r0, int64_t r1) {
    Buffer<const T*> in(static_cast<size_t>(kh));
    Buffer<T> tmp(direct ? 0 : static_cast<size_t>(W));
    for (int64_t r = r0; r < r1; ++r) {
      // The output row's index along each leading axis.
      int64_t idx[View::kMaxDims];
      char* dst = static_cast<char*>(out.data);
      for (int64_t q = r, i = last - 1; i >= 0; --i) {
        idx[i] = q % input.shape[i];
        q /= input.shape[i];
        dst += idx[i] * out.strides[i];
      }
      // The kh input rows, the weights' leading axes in C order.
      int64_t d[View::kMaxDims] = {};
      for (int64_t a = 0; a < kh; ++a) {
        int64_t row = 0;
        bool outside = false;
        for (int i = 0; i < last; ++i) {
          const int64_t s = map_index(idx[i] + d[i] - centre[i], input.shape[i], mode);
          if (s < 0) outside = true;
          row = row * input.shape[i] + s;
        }
        in[static_cast<size_t>(a)] = ext.get() + (outside ? rows : row) * PW;
        for (int i = last - 1; i >= 0 && ++d[i] == w.shape[i]; --i) d[i] = 0;
      }
      T* o = direct ? reinterpret_cast<T*>(dst) : tmp.get();
      kern(in.get(), &o, 1, W, taps.get(), static_cast<int>(kh), static_cast<int>(kw));
      if (!direct)
        for (int64_t j = 0; j < W; ++j) std::memcpy(dst + j * out.strides[last], o + j, sizeof(T));
    }
  });
  if (nonfinite) *nonfinite = seen.load();
}

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
  if (!scipy_sums && nd >= 3 && input.dtype == t && out.dtype == t && input.shape[nd - 1] > 0) {
    if (t == DType::f32)
      correlate_rows<float>(input, w, centre, out, mode, cval, nonfinite);
    else
      correlate_rows<double>(input, w, centre, out, mode, cval, nonfinite);
    return;
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
