// The scipy.ndimage line machinery shared by the 1-D filters (correlate1d, uniform_filter1d,
// the rank filters, ...): SciPy's line extension (NI_ExtendLine), its output cast, and two
// drivers that run a 1-D operation over every line of an N-D strided array along one axis:
//   for_each_line             lines side by side as rows (row r = position r of every line),
//                             handed to the op as row pointers: read in place when the input
//                             is already the compute type and contiguous across the lines,
//                             converted row by row when it is another dtype, or copied into a
//                             block (a transpose along the last axis); kernels vectorise across
//                             the lines.
//   for_each_contiguous_line  one line at a time, copied and extended into a contiguous buffer,
//                             for kernels vectorised along the line (last-axis passes).
// Every output element goes through the same arithmetic however its rows arrive and whatever
// the blocking, so results never depend on the path taken or the thread count.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "npfast/border.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "npfast/view.hpp"
#include "src/core/registry.h"
#include "src/core/views.h"
#include "src/kernels/elementwise/cast.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/kernels/pack/pack.h"

namespace npfast {
namespace ndimage {

// A line pass's argument checks (ndimage_filters.cc): axis, size >= 1, origin within
// [-(size / 2), (size - 1) / 2] (size_arg names size in the message), output shape.
void check_pass(const View& input, const View& out, int axis, int64_t size, int64_t origin,
                const char* size_arg);

// Fills the extension rows of a block: rows [before, before + n) hold the lines; row
// before + i for i outside [0, n) becomes row before + map_index(i, n, mode), or `cval` for
// Border::fill. Equals NI_ExtendLine for any `before` / `after`, however many times the
// extension wraps around the line.
template <class T>
void extend_lines(T* buf, int64_t n, int64_t before, int64_t after, int64_t lanes, Border mode,
                  T cval) {
  if (lanes == 1 && n > 0) {
    // One line (the 2-D filters' pass along rows, once a row): element copies by the mode's
    // own formula where the extension stays within one reflection of the line (map_index's
    // first branch), not a memcpy call and a switch an element, which took a fifth of a 16^2
    // gaussian's kernel call. Farther reaches take the general rows below.
    T* line = buf + before;
    const bool near = before <= n && after <= n;
    switch (mode) {
      case Border::reflect:
        if (!near) break;
        for (int64_t k = 1; k <= before; ++k) line[-k] = line[k - 1];
        for (int64_t k = 0; k < after; ++k) line[n + k] = line[n - 1 - k];
        return;
      case Border::mirror:
        if (n == 1 || before >= n || after >= n) break;
        for (int64_t k = 1; k <= before; ++k) line[-k] = line[k];
        for (int64_t k = 0; k < after; ++k) line[n + k] = line[n - 2 - k];
        return;
      case Border::wrap:
        if (!near) break;
        for (int64_t k = 1; k <= before; ++k) line[-k] = line[n - k];
        for (int64_t k = 0; k < after; ++k) line[n + k] = line[k];
        return;
      case Border::nearest:
        std::fill(line - before, line, line[0]);
        std::fill(line + n, line + n + after, line[n - 1]);
        return;
      case Border::fill:
        std::fill(line - before, line, cval);
        std::fill(line + n, line + n + after, cval);
        return;
    }
  }
  const size_t bytes = static_cast<size_t>(lanes) * sizeof(T);
  auto fill_row = [&](int64_t i) {
    T* dst = buf + (before + i) * lanes;
    const int64_t m = map_index(i, n, mode);
    if (m < 0)
      std::fill(dst, dst + lanes, cval);
    else
      std::memcpy(dst, buf + (before + m) * lanes, bytes);
  };
  for (int64_t i = -before; i < 0; ++i) fill_row(i);
  for (int64_t i = n; i < n + after; ++i) fill_row(i);
}

// The C cast (D)v of SciPy's line buffers (NI_LineBufferToArray, compiled by GCC for x86-64):
// floating results round to nearest; integer results truncate toward zero, through int32 for
// types of at most 32 bits (int64 for the 32-bit unsigned type) and then wrap, and a value
// outside that range or NaN gives the conversion's "integer indefinite" (INT_MIN) first. The
// 64-bit unsigned type takes GCC's two-range sequence: below 2^63 (NaN included) as int64,
// from 2^63 as int64 of v - 2^63 with the top bit flipped (so +inf and 2^64 up give 0).
// Python's cast_into (_ndimage_support.py) states the same rule for NumPy arrays.
template <class D, class T>
inline D c_cast(T v) {
  if constexpr (std::is_floating_point_v<D> || !std::is_floating_point_v<T>) {
    return static_cast<D>(v);
  } else if constexpr (std::is_same_v<D, uint64_t>) {
    const double x = static_cast<double>(v);
    if (x >= 9223372036854775808.0)
      return static_cast<uint64_t>(c_cast<int64_t>(x - 9223372036854775808.0)) ^
             (uint64_t{1} << 63);
    return static_cast<uint64_t>(c_cast<int64_t>(x));
  } else if constexpr (sizeof(D) == 8) {
    const double x = static_cast<double>(v);
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
      return static_cast<D>(std::numeric_limits<int64_t>::min());
    return static_cast<D>(static_cast<int64_t>(x));
  } else if constexpr (sizeof(D) == 4 && std::is_unsigned_v<D>) {
    return static_cast<D>(c_cast<int64_t>(v));
  } else {
    // Through int32: the rule the trunc kernels vectorise (store_lanes), stated once.
    return elementwise::trunc_from_f64<D>(static_cast<double>(v));
  }
}

// dst[l] = T(src[l * stride]) for l < count; src of dtype S.
template <class T, class S>
void load_lanes(T* dst, const char* src, int64_t stride, int64_t count) {
  if (std::is_same_v<T, S> && stride == static_cast<int64_t>(sizeof(S))) {
    std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(T));
    return;
  }
  if constexpr (std::is_same_v<T, double> && std::is_integral_v<S>) {
    // Contiguous integers by the convert kernel (fma(x, 1, 0) is x exactly): the element loop
    // took a third of uint16 sobel (docs/ndimage-speed.md "int27").
    const elementwise::ConvertFn k =
        elementwise::convert_kernel(kernels<elementwise::Table>(), dtype_of<S>(), DType::f64);
    // (Its scalar tail reads typed elements: aligned sources only; NumPy may hold them not.)
    if (k && stride == static_cast<int64_t>(sizeof(S)) &&
        reinterpret_cast<uintptr_t>(src) % sizeof(S) == 0)
      return k(count, src, dst, 1.0, 0.0);
  }
  if constexpr (std::is_floating_point_v<S>) {
    // Contiguous aligned floats in a typed loop the compiler vectorises (the element loop
    // below, through memcpy, does not): float32 lines summed in double (uniform_filter1d's
    // wide windows). Not the fma kernel above: it would turn -0.0 into +0.0.
    if (stride == static_cast<int64_t>(sizeof(S)) &&
        reinterpret_cast<uintptr_t>(src) % sizeof(S) == 0) {
      const S* s = reinterpret_cast<const S*>(src);
      for (int64_t l = 0; l < count; ++l) dst[l] = static_cast<T>(s[l]);
      return;
    }
  }
  for (int64_t l = 0; l < count; ++l) {
    S v;
    std::memcpy(&v, src + l * stride, sizeof(S));  // strides need not be aligned
    dst[l] = static_cast<T>(v);
  }
}

// dst[l * stride] = c_cast<D>(src[l]) for l < count.
template <class T, class D>
void store_lanes(char* dst, const T* src, int64_t stride, int64_t count) {
  if (std::is_same_v<T, D> && stride == static_cast<int64_t>(sizeof(D))) {
    std::memcpy(dst, src, static_cast<size_t>(count) * sizeof(T));
    return;
  }
  if constexpr (std::is_same_v<T, double> && std::is_integral_v<D>) {
    // Contiguous by the trunc kernel, c_cast's bits for the types of at most 32 bits it takes.
    const elementwise::TruncFn k =
        elementwise::trunc_kernel(kernels<elementwise::Table>(), dtype_of<D>());
    if (k && stride == static_cast<int64_t>(sizeof(D))) return k(count, src, dst);
  }
  if constexpr (std::is_floating_point_v<D>) {
    // As load_lanes: a typed loop where c_cast is the plain conversion.
    if (stride == static_cast<int64_t>(sizeof(D)) &&
        reinterpret_cast<uintptr_t>(dst) % sizeof(D) == 0) {
      D* d = reinterpret_cast<D*>(dst);
      for (int64_t l = 0; l < count; ++l) d[l] = static_cast<D>(src[l]);
      return;
    }
  }
  for (int64_t l = 0; l < count; ++l) {
    const D v = c_cast<D>(src[l]);
    std::memcpy(dst + l * stride, &v, sizeof(D));
  }
}

template <class T>
using LoadFn = void (*)(T*, const char*, int64_t, int64_t);
template <class T>
using StoreFn = void (*)(char*, const T*, int64_t, int64_t);

// The element type behind a DType, as a template argument to `f` (the toolkit's switch).
using views::with_dtype;

// load_lanes from dtype `s` and store_lanes to dtype `d`, chosen once per call.
template <class T>
LoadFn<T> loader(DType s) {
  return with_dtype(s, [](auto v) -> LoadFn<T> { return load_lanes<T, decltype(v)>; });
}
template <class T>
StoreFn<T> storer(DType d) {
  return with_dtype(d, [](auto v) -> StoreFn<T> { return store_lanes<T, decltype(v)>; });
}

// The line geometry of a 1-D pass along `axis`.
struct LinePass {
  int axis;        // the axis the lines run along
  int64_t before;  // extension elements before each line (>= 0)
  int64_t after;   // and after it (>= 0)
  Border mode;
  double cval;  // the fill value for Border::fill, converted to the buffer type
  // Lines a copied block holds side by side: 32 floats or 16 doubles fill a few vectors of
  // every ISA and read two cache lines per row.
  int64_t lanes;
  // Lines a block read in place holds (the input's rows are long contiguous runs).
  int64_t direct_lanes;
  // Output positions per block read in place, or 0 when the op must see whole lines (a
  // running sum carries state from one position to the next).
  int64_t band;
  double ns_per_element;  // cost estimate, for the thread grain
};

// The axes a pass iterates over besides the line axis and the lane axis (`skip0`, `skip1`;
// -1 for none), in order: index o over them (the last varying fastest) gives the byte offsets
// of its lines in two views of the same shape.
struct OuterAxes {
  int axis[View::kMaxDims];
  int count = 0;
  int64_t size = 1;  // how many index values

  OuterAxes(const View& v, int skip0, int skip1) {
    for (int k = 0; k < v.ndim; ++k)
      if (k != skip0 && k != skip1) {
        axis[count++] = k;
        size *= v.shape[k];
      }
  }
  void offsets(const View& in, const View& out, int64_t o, const char** src, char** dst) const {
    for (int k = count - 1; k >= 0; --k) {
      const int ax = axis[k];
      const int64_t idx = o % in.shape[ax];
      o /= in.shape[ax];
      *src += idx * in.strides[ax];
      *dst += idx * out.strides[ax];
    }
  }
};

namespace detail {
// Merges neighbouring axes other than `axis` that both views lay out as one (the outer
// stride is the inner extent times its stride), so a volume's planes become long rows.
// Returns the axis' index in the merged views.
inline int coalesce(View& in, View& out, int axis) {
  int nd = 0, new_axis = -1;
  for (int k = 0; k < in.ndim; ++k) {
    if (nd > 0 && k != axis && nd - 1 != new_axis &&
        in.strides[nd - 1] == in.shape[k] * in.strides[k] &&
        out.strides[nd - 1] == in.shape[k] * out.strides[k]) {
      in.shape[nd - 1] *= in.shape[k];
      out.shape[nd - 1] = in.shape[nd - 1];
      in.strides[nd - 1] = in.strides[k];
      out.strides[nd - 1] = out.strides[k];
      continue;
    }
    in.shape[nd] = out.shape[nd] = in.shape[k];
    in.strides[nd] = in.strides[k];
    out.strides[nd] = out.strides[k];
    if (k == axis) new_axis = nd;
    ++nd;
  }
  in.ndim = out.ndim = nd;
  return new_axis;
}

// Whether more than `ways` of `count` rows `pitch` bytes apart start at one offset into a 4 KiB
// page, to the 64-byte line: one column of those rows then falls into one set of the L1 data
// cache (64 sets of 64-byte lines on every x86 core npfast targets, 8 or 12 ways), so a kernel
// reading them at once evicts its own lines (rows of whole pages: 1024-, 2048- or 4096-wide
// float32 images).
inline bool rows_share_sets(int64_t pitch, int64_t count, int ways) {
  int hits[64] = {};
  for (int64_t r = 0; r < count; ++r)
    if (++hits[(r * pitch % 4096 + 4096) % 4096 / 64] > ways) return true;
  return false;
}

template <class T>
bool rows_of(const View& v) {
  if (v.dtype != dtype_of<T>() || reinterpret_cast<uintptr_t>(v.data) % alignof(T)) return false;
  for (int k = 0; k < v.ndim; ++k)
    if (v.strides[k] % static_cast<int64_t>(sizeof(T))) return false;
  return true;
}
}  // namespace detail

// For every line of `in` along p.axis (neighbouring other axes merged where both views allow),
// calls
//     op(in_rows, out_rows, m, lanes)
// on blocks of `lanes` lines side by side: in_rows are m + p.before + p.after row pointers (the
// lines' positions p.before before the block's first output position onwards, extended as
// p.mode; a row holds element l of line l), out_rows m row pointers, each row `lanes`
// contiguous T. The rows come from the arrays themselves when `in` (or `out`) is T and
// contiguous across the lines (an axis other than the last): lines are read where they are,
// extension rows point at the input rows they repeat (a row of cval for Border::fill), and the
// block spans up to p.direct_lanes lines and p.band positions; an input of another dtype,
// contiguous across the lines, is converted row by row into such a band (or whole lines, as
// many lanes as fit 2 MiB; in place always whole lines), and so are T rows whose banded window
// crowds one L1 set (rows_share_sets), copied. Otherwise blocks of p.lanes
// whole lines are copied, converted to T, into a pooled buffer with their extension
// (NI_ExtendLine; along the last axis the copy is a transpose), and results are written back
// with c_cast. `out` (same shape, any dtype and strides) may be `in` itself (then every block
// is read before it is written) but must not otherwise overlap it. Threads over blocks; the
// blocks do not depend on the thread count, and every output element goes through the same
// arithmetic whichever way its rows arrive.
template <class T, class Op>
void for_each_line(const View& in_view, const View& out_view, const LinePass& p, Op&& op) {
  if (in_view.empty()) return;
  View in = in_view, out = out_view;
  const int a = detail::coalesce(in, out, p.axis);
  const int nd = in.ndim;
  const int64_t n = in.shape[a];
  const int64_t as_in = in.strides[a], as_out = out.strides[a];
  // The lane axis: the last axis other than `a` (none for 1-D input).
  const int d = nd < 2 ? -1 : (a == nd - 1 ? nd - 2 : nd - 1);
  const int64_t lane_len = d < 0 ? 1 : in.shape[d];
  const int64_t ls_in = d < 0 ? 0 : in.strides[d], ls_out = d < 0 ? 0 : out.strides[d];
  constexpr int64_t kT = sizeof(T);
  const bool same = out.data == in.data;
  // Banded passes' input rows whose window crowds one L1 set (more than 12 of its rows, as 17
  // taps over a 2048-wide float32 image) are copied into scratch rows that do not, instead of
  // read in place:
  // gaussian_filter1d sigma 2 along axis 0, 1 thread, ns/px: float32 2048 wide 1.58 -> 0.90,
  // 4096 wide 2.14 -> 0.91 (2000 wide 0.87), float64 2048 wide 3.81 -> 2.06; 9 taps, or 17 over
  // 1536-wide float32 (9 rows a set), read in place as fast or faster (docs/ndimage-speed.md
  // "sets27").
  const bool crowded =
      !same && p.band > 0 && detail::rows_share_sets(as_in, p.before + p.after + 1, 12);
  const bool direct = d >= 0 && ls_in == kT && lane_len >= 8 && detail::rows_of<T>(in) && !crowded;
  // Rows converted one at a time (another dtype, contiguous across the lines): each row of a
  // band is a contiguous read, where a copied block of a few lanes would read a few bytes from
  // every row. In place too: whole lines then, all of a block's rows converted before it
  // writes (sobel's second pass on uint16 2048^2 3.24 -> 2.13 ns/px, docs/ndimage-speed.md
  // "int27").
  const bool convert =
      !direct && d >= 0 && lane_len >= 8 && ls_in == static_cast<int64_t>(itemsize(in.dtype));
  const bool by_rows = direct || convert;
  const bool out_direct = (d < 0 || ls_out == kT) && detail::rows_of<T>(out) && !(direct && same);
  // In place, a band would read rows its neighbour band already wrote: whole lines then.
  const int64_t band = by_rows && p.band > 0 && !same ? std::min(p.band, n) : n;
  // Rows a block keeps in scratch (converted input rows, results written back at the end)
  // are capped at kScratchBytes: whole lines then hold fewer lanes.
  constexpr int64_t kScratchBytes = int64_t{2} << 20;
  const int64_t scratch_rows =
      (convert ? band + p.before + p.after + 1 : 0) + (out_direct ? 0 : band);
  const int64_t fit = std::max(p.lanes, kScratchBytes / (std::max<int64_t>(scratch_rows, 1) * kT));
  const int64_t B = std::min<int64_t>(by_rows ? std::min(p.direct_lanes, fit) : p.lanes, lane_len);
  // The scratch rows' pitch: a line more than B where B elements would crowd the sets with the
  // rows a kernel reads at once, a window and a block of up to 8 output rows (B is a whole
  // page: converted uint8 rows took gaussian_filter1d along axis 0 3.85 ns/px, 2.12 so).
  const int64_t bp =
      B + (by_rows && detail::rows_share_sets(B * kT, p.before + p.after + 8, 4) ? 64 / kT : 0);
  const int64_t nbands = (n + band - 1) / band;
  const int64_t per_outer = (lane_len + B - 1) / B;
  const OuterAxes outer_axes(in, a, d);
  const int64_t outer = outer_axes.size;
  const LoadFn<T> load = loader<T>(in.dtype);
  const StoreFn<T> store = storer<T>(out.dtype);
  const int64_t ext_rows = band + p.before + p.after;
  // Copied blocks of T lines whose elements are contiguous (along the last axis): the copies
  // are transposes (pack::transpose: 4 x 4 blocks of float, 2 x 2 of double), where element
  // by element they took half of float32 uniform_filter1d(65) along rows (docs/ndimage-speed.md
  // "lanes28").
  constexpr bool kFloat = std::is_floating_point_v<T>;
  const bool transpose_in =
      kFloat && !by_rows && as_in == kT && detail::rows_of<T>(in) && ls_in >= n * kT;
  const bool transpose_out =
      kFloat && !out_direct && as_out == kT && detail::rows_of<T>(out) && ls_out >= n * kT;
  const T cval = c_cast<T>(p.cval);  // defined for any value; only read in fill mode
  const int64_t blocks = outer * nbands * per_outer;
  const int64_t grain = grain_for(blocks, p.ns_per_element * static_cast<double>(band * B));
  parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    Buffer<const T*> in_rows(static_cast<size_t>(ext_rows));
    Buffer<T*> out_rows(static_cast<size_t>(band));
    // direct: one row of cval; otherwise the block's rows (converted: the cval row last).
    Buffer<T> ext(direct ? (p.mode == Border::fill ? static_cast<size_t>(B) : 0)
                         : static_cast<size_t>((ext_rows + 1) * bp));
    Buffer<T> res(out_direct ? 0 : static_cast<size_t>(band * bp));
    T* const cval_row = direct ? ext.get() : ext.get() + ext_rows * bp;
    if (p.mode == Border::fill && by_rows) std::fill(cval_row, cval_row + B, cval);
    for (int64_t blk = b0; blk < b1; ++blk) {
      int64_t o = blk / (nbands * per_outer);
      const int64_t i0 = (blk / per_outer % nbands) * band;
      const int64_t m = std::min(band, n - i0);
      const int64_t l0 = (blk % per_outer) * B;
      const int64_t lanes = std::min(B, lane_len - l0);
      const char* src = static_cast<const char*>(in.data) + l0 * ls_in;
      char* dst = static_cast<char*>(out.data) + l0 * ls_out;
      outer_axes.offsets(in, out, o, &src, &dst);
      const int64_t rows = m + p.before + p.after;
      if (direct) {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t k = map_index(i0 + r - p.before, n, p.mode);
          in_rows[r] = k < 0 ? cval_row : reinterpret_cast<const T*>(src + k * as_in);
        }
      } else if (convert) {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t k = map_index(i0 + r - p.before, n, p.mode);
          T* row = ext.get() + r * bp;
          if (k >= 0) load(row, src + k * as_in, ls_in, lanes);
          in_rows[r] = k < 0 ? cval_row : row;
        }
      } else {
        T* e = ext.get();
        if constexpr (kFloat)
          if (transpose_in)
            pack::transpose(reinterpret_cast<const T*>(src), ls_in / kT, e + p.before * lanes,
                            lanes, lanes, n);
        if (!transpose_in)
          for (int64_t i = 0; i < n; ++i)
            load(e + (p.before + i) * lanes, src + i * as_in, ls_in, lanes);
        extend_lines(e, n, p.before, p.after, lanes, p.mode, cval);
        for (int64_t r = 0; r < rows; ++r) in_rows[r] = e + r * lanes;
      }
      for (int64_t i = 0; i < m; ++i)
        out_rows[i] =
            out_direct ? reinterpret_cast<T*>(dst + (i0 + i) * as_out) : res.get() + i * bp;
      op(static_cast<const T* const*>(in_rows.get()), static_cast<T* const*>(out_rows.get()), m,
         lanes);
      if constexpr (kFloat)
        if (transpose_out)
          pack::transpose(res.get(), bp, reinterpret_cast<T*>(dst) + i0, ls_out / kT, m, lanes);
      if (!out_direct && !transpose_out)
        for (int64_t i = 0; i < m; ++i)
          store(dst + (i0 + i) * as_out, res.get() + i * bp, ls_out, lanes);
    }
  });
}

// Rows shorter than this go side by side (for_each_line) even along the last axis: a kernel
// call, an extension and a copy per line cost more than the line (gaussian_filter1d sigma 2
// along rows of (400000 / c, c) float32, 1 thread, ns/px line by line / side by side: c = 1
// 58 / 2.6, 3 19 / 3.3, 8 4.4 / 1.2, 16 1.8 / 0.9, 32 1.8 / 1.4, 64 1.2 / 1.3; float64 and
// uniform / minimum alike, uint8 even from about 12; docs/ndimage-speed.md "few28").
constexpr int64_t kShortLine = 16;

// Whether a pass along `axis` runs line by line (for_each_contiguous_line and the kernels
// vectorised along a line) rather than on lines side by side (for_each_line): along the last
// axis (rows of kShortLine elements or more), and along any axis over lines too few to fill a
// 32-byte vector of the input's elements side by side (fewer than 8, 4 of 8-byte types: few
// lines), whose lanes would idle behind masked loads and stores (slow on AMD): float64
// uniform_filter1d(5) over a (300000, 1) column along axis 0 ran 0.26x SciPy, (300000, 3)
// float32 0.62x. Each line read on its own reads every cache line of the array, so more lines
// take the lanes: (300000, 6) float64 took 2.3x longer line by line (docs/ndimage-speed.md
// "few28").
inline bool few_lines(const View& v, int axis) {
  const int64_t n = v.shape[axis];
  return n > 0 && v.size() / n < 32 / std::max<int64_t>(itemsize(v.dtype), 4);
}
inline bool along_lines(const View& v, int axis) {
  return few_lines(v, axis) || (axis == v.ndim - 1 && v.shape[axis] >= kShortLine);
}

// For every line of `in` along p.axis, one at a time:
//     op(ext, res, n)
// with ext the line converted to T and extended (p.before + n + p.after contiguous elements,
// NI_ExtendLine) and res n contiguous elements, written to `out` with c_cast (in place when
// `out` is contiguous T along the axis). For ops vectorised along the line; `out` as in
// for_each_line. Threads over lines.
template <class T, class Op>
void for_each_contiguous_line(const View& in_view, const View& out_view, const LinePass& p,
                              Op&& op) {
  if (in_view.empty()) return;
  View in = in_view, out = out_view;
  const int a = detail::coalesce(in, out, p.axis);
  const int64_t n = in.shape[a];
  const int64_t as_in = in.strides[a], as_out = out.strides[a];
  constexpr int64_t kT = sizeof(T);
  const bool out_direct = as_out == kT && detail::rows_of<T>(out);
  const OuterAxes lines_of(in, a, -1);
  const int64_t lines = lines_of.size;
  const LoadFn<T> load = loader<T>(in.dtype);
  const StoreFn<T> store = storer<T>(out.dtype);
  const T cval = c_cast<T>(p.cval);  // defined for any value; only read in fill mode
  const int64_t grain = grain_for(lines, p.ns_per_element * static_cast<double>(n));
  parallel_for(lines, grain, [&](int64_t b0, int64_t b1) {
    Buffer<T> ext(static_cast<size_t>(n + p.before + p.after));
    Buffer<T> res(out_direct ? 0 : static_cast<size_t>(n));
    for (int64_t line = b0; line < b1; ++line) {
      const char* src = static_cast<const char*>(in.data);
      char* dst = static_cast<char*>(out.data);
      lines_of.offsets(in, out, line, &src, &dst);
      load(ext.get() + p.before, src, as_in, n);
      extend_lines(ext.get(), n, p.before, p.after, 1, p.mode, cval);
      T* r = out_direct ? reinterpret_cast<T*>(dst) : res.get();
      op(static_cast<const T*>(ext.get()), r, n);
      if (!out_direct) store(dst, r, as_out, n);
    }
  });
}

}  // namespace ndimage
}  // namespace npfast
