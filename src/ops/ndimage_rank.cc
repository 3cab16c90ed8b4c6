// The rank filters: argument checks, then either one line pass (ndimage_line.h) with the
// running min/max kernels, or a padded copy of the input and a window kernel per output row
// (footprint min/max, NI_Select, the small-window sorting networks, the byte histogram).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <cstring>
#include <string>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/ndimage_rank.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/elementwise/elementwise.h"
#include "src/kernels/rank/rank.h"
#include "src/ops/alias_rows.h"
#include "src/ops/ndimage_line.h"

namespace npfast {
namespace {

void check_same_shape(const View& input, const View& out) {
  bool same = out.ndim == input.ndim;
  for (int k = 0; same && k < input.ndim; ++k) same = out.shape[k] == input.shape[k];
  if (!same)
    throw ValueError("output: shape " + shape_str(out) + " must equal the input's " +
                     shape_str(input));
}

// The kernels' element type for input type S: the values of every input dtype, exactly
// (int64 as SciPy's double buffers hold it).
template <class S>
using Work = std::conditional_t<
    std::is_same_v<S, float> || std::is_same_v<S, uint8_t> || std::is_same_v<S, uint16_t>, S,
    std::conditional_t<std::is_same_v<S, int8_t> || std::is_same_v<S, int16_t> ||
                           std::is_same_v<S, int32_t>,
                       int32_t, double>>;

template <class T, class F32, class F64, class U8, class U16, class I32>
auto pick(const F32& f32, const F64& f64, const U8& u8, const U16& u16, const I32& i32) {
  if constexpr (std::is_same_v<T, float>)
    return f32;
  else if constexpr (std::is_same_v<T, double>)
    return f64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return u8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return u16;
  else
    return i32;
}

// True when `v` is a value of T exactly (the line buffer may then be T instead of double).
template <class T>
bool holds(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v) || static_cast<double>(static_cast<T>(v)) == v;
  } else {
    return v >= static_cast<double>(std::numeric_limits<T>::min()) &&
           v <= static_cast<double>(std::numeric_limits<T>::max()) && std::floor(v) == v;
  }
}

// Along the last axis (or few lines: along_lines) with a short window: each line copied (converted
// to T) and extended into a buffer, folded by the line kernel, written back with SciPy's cast.
// Lines are read before they are written, so `out` may be `input`.
template <class T>
void minmax_lines(const View& input, int64_t size, int axis, const View& out, Border mode,
                  double cval, int64_t origin, bool minimum) {
  const auto& t = kernels<rank::Table>();
  const rank::MinMaxLineFn<T> k = pick<T>(t.f32_minmax_line, t.f64_minmax_line, t.u8_minmax_line,
                                          t.u16_minmax_line, t.i32_minmax_line);
  const int64_t n = input.shape[axis], before = size / 2 + origin;
  const ndimage::OuterAxes outer(input, axis, axis);
  const int64_t lines = outer.size;
  const ndimage::LoadFn<T> load = ndimage::with_dtype(
      input.dtype,
      [](auto s) -> ndimage::LoadFn<T> { return ndimage::load_lanes<T, decltype(s)>; });
  const ndimage::StoreFn<T> store = ndimage::with_dtype(
      out.dtype,
      [](auto d) -> ndimage::StoreFn<T> { return ndimage::store_lanes<T, decltype(d)>; });
  const T fill = ndimage::c_cast<T>(cval);  // defined for any value (a fuzzer's 1e173)
  parallel_for(lines, grain_for(lines, 0.3 * static_cast<double>(n * size)),
               [&](int64_t l0, int64_t l1) {
                 Buffer<T> ext(static_cast<size_t>(n + size - 1)), res(static_cast<size_t>(n));
                 Buffer<char> work(rank::minmax_work_bytes(size, 1, sizeof(T)));
                 for (int64_t l = l0; l < l1; ++l) {
                   const char* src = static_cast<const char*>(input.data);
                   char* dst = static_cast<char*>(out.data);
                   outer.offsets(input, out, l, &src, &dst);
                   load(ext.get() + before, src, input.strides[axis], n);
                   ndimage::extend_lines(ext.get(), n, before, size - 1 - before, 1, mode, fill);
                   k(ext.get(), res.get(), n, size, minimum, work.get());
                   store(dst, res.get(), out.strides[axis], n);
                 }
               });
}

template <class T>
void minmax1d_as(const View& input, int64_t size, int axis, const View& out, Border mode,
                 double cval, int64_t origin, bool minimum) {
  if (ndimage::along_lines(input, axis) && size <= 16 && !input.empty()) {
    minmax_lines<T>(input, size, axis, out, mode, cval, origin, minimum);
    return;
  }
  const auto& t = kernels<rank::Table>();
  const rank::MinMaxFn<T> k =
      pick<T>(t.f32_minmax, t.f64_minmax, t.u8_minmax, t.u16_minmax, t.i32_minmax);
  const int64_t size1 = size / 2;
  // Copied blocks: 128 bytes of each row (a few vectors of every ISA), at least 16 lines.
  // Blocks read in place: 1 KiB rows, 64 positions a block so that its rows stay in L1/L2;
  // whole lines when writing in place (a banded block would read rows an earlier band of the
  // same lines rewrote).
  const int64_t lanes = std::max<int64_t>(16, 128 / static_cast<int64_t>(sizeof(T)));
  const int64_t direct_lanes = 1024 / static_cast<int64_t>(sizeof(T));
  // Floating lines holding a NaN take SciPy's deque, whose answer depends on the line's whole
  // history: they must be whole lines too.
  const int64_t band =
      input.data == out.data || std::is_floating_point_v<T> ? 0 : std::max<int64_t>(64, 2 * size);
  const ndimage::LinePass p{
      axis, size1 + origin, size - size1 - 1 - origin, mode, cval, lanes, direct_lanes, band, 0.3};
  ndimage::for_each_line<T>(input, out, p,
                            [&](const T* const* in, T* const* res, int64_t n, int64_t width) {
                              Buffer<char> work(rank::minmax_work_bytes(size, width, sizeof(T)));
                              k(in, res, n, size, width, minimum, work.get());
                            });
}

// ---------------------------------------------------------------------------------------------
// Window filters over a padded copy

struct Window {
  int nd;
  int64_t pshape[View::kMaxDims];   // padded shape
  int64_t pstride[View::kMaxDims];  // its C strides, in elements
  int64_t lo[View::kMaxDims];       // elements before each axis: f // 2 + origin
  Buffer<int64_t> offsets;          // the footprint's set entries, C order, in padded elements
  int64_t nf = 0;                   // how many
};

Window window(const View& input, const View& footprint, const int64_t* origins) {
  if (footprint.dtype != DType::u8 || !footprint.c_contiguous())
    throw TypeError("footprint: must be a C-contiguous uint8 array");
  if (footprint.ndim != input.ndim)
    throw ValueError("footprint: must have one dimension per input axis (" +
                     std::to_string(input.ndim) + "), got shape " + shape_str(footprint));
  Window w;
  w.nd = input.ndim;
  for (int k = 0; k < w.nd; ++k) {
    const int64_t f = footprint.shape[k];
    if (f < 1) throw ValueError("footprint: empty, shape " + shape_str(footprint));
    if (origins[k] < -(f / 2) || origins[k] > (f - 1) / 2)
      throw ValueError("origin: invalid origin " + std::to_string(origins[k]) + " for axis " +
                       std::to_string(k) + " (footprint length " + std::to_string(f) + ")");
    w.lo[k] = f / 2 + origins[k];
    w.pshape[k] = input.shape[k] + f - 1;
  }
  int64_t s = 1;
  for (int k = w.nd - 1; k >= 0; --k) {
    w.pstride[k] = s;
    s = checked_mul(s, w.pshape[k], "padded input size");
  }
  const uint8_t* f = footprint.ptr<uint8_t>();
  const int64_t fsize = footprint.size();
  w.offsets = Buffer<int64_t>(static_cast<size_t>(fsize));
  for (int64_t j = 0; j < fsize; ++j) {
    if (!f[j]) continue;
    int64_t off = 0, r = j;
    for (int k = w.nd - 1; k >= 0; --k) {
      off += (r % footprint.shape[k]) * w.pstride[k];
      r /= footprint.shape[k];
    }
    w.offsets[w.nf++] = off;
  }
  if (w.nf == 0) throw ValueError("footprint: all-zero footprint is not supported");
  return w;
}

// Fills padded row `r` (a row: all axes but the last; the slab's row r is padded row
// r0 + r) of the extended input: input (dtype S) converted to T, extended by w.lo before and
// f - 1 - lo after each axis as `mode` (NI_ExtendLine's map, map_index) with `cval`.
template <class T, class S>
void pad_row(const View& input, const Window& w, Border mode, T cval, const int64_t* map_last,
             int64_t r, T* row) {
  const int last = w.nd - 1;
  const int64_t nl = input.shape[last], pl = w.pshape[last];
  const char* src = static_cast<const char*>(input.data);
  for (int k = last - 1; k >= 0; --k) {
    const int64_t m = map_index(r % w.pshape[k] - w.lo[k], input.shape[k], mode);
    r /= w.pshape[k];
    if (m < 0) {
      std::fill(row, row + pl, cval);
      return;
    }
    src += m * input.strides[k];
  }
  ndimage::load_lanes<T, S>(row + w.lo[last], src, input.strides[last], nl);
  auto extend = [&](int64_t t) {
    const int64_t m = map_last[t];
    row[t] = m < 0 ? cval : row[w.lo[last] + m];
  };
  for (int64_t t = 0; t < w.lo[last]; ++t) extend(t);
  for (int64_t t = w.lo[last] + nl; t < pl; ++t) extend(t);
}

// The items a chunk takes, `slab` at most, of n items costing `item_ns` each: the pool's own
// grain (grain_for: chunks for every thread the job is worth) where that is smaller, though never
// under `least` (each chunk also pads the rows its windows reach beyond it). The slab bounds a
// chunk's memory, not its work: a 512 KiB slab holds a 512^2 byte image whole, and its 7x7
// median (5 ms) then ran on one thread; 1024^2 made 3 chunks. Outputs are written once each, so
// the partition does not change them.
int64_t split_for_threads(int64_t slab, int64_t n, int64_t least, double item_ns) {
  return std::min(slab, std::max(least, grain_for(n, item_ns)));
}

// A window kernel over rows of outputs: `rows` rows of `count` outputs, the windows of row r at
// in + r * in_step (`offsets` the window in that step), results out_step apart. The integers'
// 3 x 3 square median takes all the rows in one call (median3_rows shares each input row's
// sort among the three output rows that read it; rank.h) where the window's rows are the call's
// rows and the row holds a register of outputs on every ISA; other windows run `k` a row at a
// time.
template <class T>
struct NetRows {
  rank::RankNetFn<T> k;
  rank::Median3RowsFn<T> median3;  // null unless the window is a 3 x 3 square at the median
  int64_t rank;
  static constexpr int64_t kRun = 8;  // for_each_slab's rows a run through its buffer
  void operator()(const T* in, int64_t in_step, const int64_t* offsets, T* out, int64_t out_step,
                  int64_t rows, int64_t count, void* = nullptr) const {
    if (median3 && count >= rank::kNetMinSplit && offsets[3] - offsets[0] == in_step) {
      median3(in + offsets[0], in_step, out, out_step, rows, count);
      return;
    }
    for (int64_t r = 0; r < rows; ++r)
      k(in + r * in_step, offsets, rank, count, out + r * out_step);
  }
};

// A rank filter over a 2-D footprint (its runs, in a kh x kw box) by rank_tile (rank.h) for
// `rows` rows of `count` outputs, windows as NetRows's, `work` the kernel's. Tiles of about 32
// values a window value (at least 1024, at most kRankTileValues), about square where the rows
// allow, split evenly. A tile's values are sorted once for all its windows, so bigger tiles sort
// fewer values twice; but their sort leaves L1 and a window's sorted places lie further apart, so
// its answer moves further between outputs. 1 thread, Zen 3, 512^2 float32 medians, ns/px at 16, 32
// and 64 values a window value: 4 x 4 44-46 (all at the 1024 floor; a floor of 4096 48-49, 16384
// 52), 9 x 9 58-63 / 54-57 / 55-57, 15 x 15 71-81 / 67-72 / 69-71 (docs/ndimage-speed.md "tile25").
template <class T>
struct RankTiles {
  rank::RankTileFn<T> k;
  const int64_t* runs;  // rank_tile's, nruns of them, in a kh x kw box
  int64_t nruns, kh, kw, rank;
  // The windows slide down the columns (the kernel reads the tile transposed, `runs` the
  // transposed footprint's): each run costs two bit flips an output, and a tall footprint has
  // fewer runs down its columns (a 64 x 1 median: 244 ns/px across, probe25).
  bool down;
  // Rows a run through for_each_slab's buffer: a tile's rows (runs of 8 made a 9 x 9 tile read
  // 16 rows for 8: int16 medians, whose outputs go through it, ran 15% slower than int32's).
  static constexpr int64_t kRun = 32;
  // `in`: the windows' boxes (the footprint's offsets count from the box's corner).
  void operator()(const T* in, int64_t in_step, const int64_t*, T* out, int64_t out_step,
                  int64_t rows, int64_t count, void* work) const {
    int64_t nf = 0;
    for (int64_t j = 0; j < nruns; ++j) nf += runs[3 * j + 2] - runs[3 * j + 1];
    const int64_t values =
        std::min(rank::kRankTileValues, std::max<int64_t>({1024, 32 * nf, 4 * kh * kw}));
    // Tile rows: the square's side scaled by the box's shape; then the columns that fit, and
    // more rows where the row is too short to take them (a 4-wide image: tall thin tiles).
    const int64_t side = static_cast<int64_t>(std::sqrt(static_cast<double>(values * kh) / kw));
    int64_t th = std::min(rows, std::max<int64_t>(1, side - kh + 1));
    const int64_t tw = std::min(count, values / (th + kh - 1) - kw + 1);
    th = std::min(rows, std::max(th, values / (tw + kw - 1) - kh + 1));
    const int64_t nr = (rows + th - 1) / th, nc = (count + tw - 1) / tw;
    const int64_t h = (rows + nr - 1) / nr, wd = (count + nc - 1) / nc;
    for (int64_t r = 0; r < rows; r += h)
      for (int64_t c = 0; c < count; c += wd) {
        const T* p = in + r * in_step + c;
        T* o = out + r * out_step + c;
        const int64_t m = std::min(h, rows - r), n = std::min(wd, count - c);
        if (down)
          k(p, 1, in_step, runs, nruns, kw, kh, rank, n, m, o, 1, out_step, work);
        else
          k(p, in_step, 1, runs, nruns, kh, kw, rank, m, n, o, out_step, 1, work);
      }
  }
};

// A thread's scratch for for_each_slab: `bytes` of it, the first `zero` of them zeroed (all of
// them from a plain size). Only the tiles' first 4 KiB must be zero: zeroing all 0.8-1.6 MB
// of it made an 8 x 8 image's median 2x slower than SciPy's (review25).
struct Scratch {
  size_t bytes, zero;
  Scratch(size_t b) : bytes(b), zero(b) {}  // NOLINT: a size converts (most callers)
  Scratch(size_t b, size_t z) : bytes(b), zero(z) {}
};

// Runs `row(P_at_window, res, n, scratch)` for every output row (all axes but the last; n =
// the last axis's length, or a piece of the line for 1-D input) and writes res to `out` with
// SciPy's cast; `scratch`: scratch.bytes per thread's run of slabs, its first scratch.zero bytes
// zeroed once at its start. The
// extended input is built slab by slab (output rows along axis 0 in chunks, each with the f0 - 1
// padded rows its windows also reach) in a pooled buffer of about 512 KiB, so it stays in cache and
// no full padded copy is ever made. Threads over slabs; with `split`, over smaller chunks where
// the slab would leave threads idle (split_for_threads): for the kernels whose ns_per_output is
// close to their real cost (the networks' since net_ns, the footprint min / max's since
// footprint_ns). With estimates several times the cost, splitting small images (then run
// serially by the pool's back-off on a busy machine) only added padded rows: 128^2 float
// median 3 0.79 ns/px against 0.70 under the networks' old estimate.
// With `rows` (a NetRows or a RankTiles, not null) the output rows of 2-D and N-D inputs go to it
// instead, runs of a plane's consecutive rows at a time (up to its kRun where `out` is not written
// directly); `row` then serves 1-D inputs alone.
template <class T, class S, class RowFn, class RowsFn = std::nullptr_t>
void for_each_slab(const View& input, const Window& w, Border mode, T cval, const View& out,
                   double ns_per_output, Scratch scratch_size, bool split, RowFn&& row,
                   const RowsFn& rows = nullptr) {
  constexpr bool kRows = !std::is_same_v<RowsFn, std::nullptr_t>;
  // Rows a run takes where they go through `res` (`out` not written directly).
  constexpr int64_t kSlabRun = [] {
    if constexpr (kRows) return RowsFn::kRun;
    return int64_t{1};
  }();
  const int nd = w.nd, last = nd - 1;
  const int64_t nl = input.shape[last], pl = w.pshape[last];
  Buffer<int64_t> map_last(static_cast<size_t>(pl));
  for (int64_t t = 0; t < pl; ++t) map_last[t] = map_index(t - w.lo[last], nl, mode);
  const ndimage::StoreFn<T> store = ndimage::with_dtype(
      out.dtype,
      [](auto d) -> ndimage::StoreFn<T> { return ndimage::store_lanes<T, decltype(d)>; });
  constexpr int64_t kSlabElems = (int64_t{1} << 19) / static_cast<int64_t>(sizeof(T));
  if (nd == 1) {
    // A line: pieces of outputs, each with its f - 1 extra elements; whole kUnit of them, and a
    // last piece shorter than kUnit joins the one before, so that every call but a short
    // line's only one is long enough for the square median kernels (which a 1-D run of 9, 25 or 49
    // values is to them) to give one call's values (rank.h).
    constexpr int64_t kUnit = rank::kNetMinSplit;
    const int64_t piece =
        (split_for_threads(std::max<int64_t>(kSlabElems, 4 * (pl - nl)), nl,
                           std::max<int64_t>(kUnit, 4 * (pl - nl)), split ? ns_per_output : 0) +
         kUnit - 1) /
        kUnit * kUnit;
    const int64_t pieces = std::max<int64_t>(1, nl / piece + (nl % piece >= kUnit ? 1 : 0));
    const int64_t longest = std::max(piece, nl - (pieces - 1) * piece);
    parallel_for(
        pieces, grain_for(pieces, ns_per_output * static_cast<double>(piece)),
        [&](int64_t p0, int64_t p1) {
          Buffer<T> buf(static_cast<size_t>(longest + pl - nl)), res(static_cast<size_t>(longest));
          Buffer<char> scratch(scratch_size.bytes);
          if (scratch_size.zero) std::memset(scratch.get(), 0, scratch_size.zero);
          for (int64_t p = p0; p < p1; ++p) {
            const int64_t s0 = p * piece, m = p == pieces - 1 ? nl - s0 : piece;
            for (int64_t t = 0; t < m + pl - nl; ++t) {
              const int64_t k = map_last[s0 + t];
              S v;
              if (k >= 0)
                std::memcpy(&v, static_cast<const char*>(input.data) + k * input.strides[0],
                            sizeof(S));
              buf[t] = k < 0 ? cval : static_cast<T>(v);
            }
            row(static_cast<const T*>(buf.get()), res.get(), m, scratch.get());
            store(static_cast<char*>(out.data) + s0 * out.strides[0], res.get(), out.strides[0], m);
          }
        });
    return;
  }
  // Results go straight into `out` when it holds T in contiguous, aligned rows.
  bool direct = out.dtype == dtype_of<T>() &&
                out.strides[last] == static_cast<int64_t>(sizeof(T)) &&
                reinterpret_cast<uintptr_t>(out.data) % alignof(T) == 0;
  for (int k = 0; direct && k < nd; ++k)
    direct = out.strides[k] % static_cast<int64_t>(sizeof(T)) == 0;
  // Rows of one axis-0 index (padded), and output rows per axis-0 index.
  const int64_t slice_rows = w.pstride[0] / pl;
  const int64_t out_rows_per = input.size() / (input.shape[0] * nl);
  const int64_t f0 = w.pshape[0] - input.shape[0] + 1;
  const int64_t least = std::max<int64_t>(1, 4 * (f0 - 1));
  int64_t chunk =
      split_for_threads(std::max<int64_t>({1, kSlabElems / w.pstride[0], least}), input.shape[0],
                        least, split ? ns_per_output * static_cast<double>(out_rows_per * nl) : 0);
  // Equal chunks, a whole number of them per thread: a slab's worth and the remainder left one
  // thread with most of the rows (a 384^2 float median: 339 rows and 45; 512^2: 255, 255, 2).
  int64_t parts = (input.shape[0] + chunk - 1) / chunk;
  if (parts > 1) {
    const int64_t threads = available_threads();
    parts = (parts + threads - 1) / threads * threads;
    chunk = std::max(least, (input.shape[0] + parts - 1) / parts);
  }
  const int64_t chunks = (input.shape[0] + chunk - 1) / chunk;
  const double per_chunk = ns_per_output * static_cast<double>(chunk * out_rows_per * nl);
  // One chunk a task where the job is worth threads: the chunks are sized for them already
  // (grain_for's grain over 6 chunks can make 3 tasks for 2 threads).
  const int64_t grain = grain_for(chunks, per_chunk) < chunks ? 1 : chunks;
  parallel_for(chunks, grain, [&](int64_t c0, int64_t c1) {
    Buffer<T> slab(static_cast<size_t>((chunk + f0 - 1) * w.pstride[0]));
    Buffer<T> res(static_cast<size_t>(nl * kSlabRun));
    Buffer<char> scratch(scratch_size.bytes);
    if (scratch_size.zero) std::memset(scratch.get(), 0, scratch_size.zero);
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t i0 = c * chunk, m0 = std::min(chunk, input.shape[0] - i0);
      const int64_t prow0 = i0 * slice_rows, prows = (m0 + f0 - 1) * slice_rows;
      for (int64_t r = 0; r < prows; ++r)
        pad_row<T, S>(input, w, mode, cval, map_last.get(), prow0 + r, slab.get() + r * pl);
      for (int64_t r = 0, run = 1; r < m0 * out_rows_per; r += run) {
        // Output row (i0 + r / out_rows_per, rest...) and its window in the slab.
        int64_t q = r, at = 0;
        char* dst = static_cast<char*>(out.data);
        for (int k = last - 1; k >= 1; --k) {
          const int64_t i = q % input.shape[k];
          q /= input.shape[k];
          at += i * w.pstride[k];
          dst += i * out.strides[k];
        }
        at += q * w.pstride[0];
        dst += (i0 + q) * out.strides[0];
        if constexpr (kRows) {
          // The rows from here to the end of this plane's (nd > 2) or this chunk's (2-D) rows:
          // windows pl apart in the slab, outputs a row stride apart.
          const int64_t ys = out.strides[last - 1];
          run = nd > 2 ? input.shape[last - 1] - r % input.shape[last - 1] : m0 - r;
          if (!direct) run = std::min(run, kSlabRun);
          rows(slab.get() + at, pl, w.offsets.get(), direct ? reinterpret_cast<T*>(dst) : res.get(),
               direct ? ys / static_cast<int64_t>(sizeof(T)) : nl, run, nl, scratch.get());
          if (!direct)
            for (int64_t y = 0; y < run; ++y)
              store(dst + y * ys, res.get() + y * nl, out.strides[last], nl);
        } else if (direct) {
          row(static_cast<const T*>(slab.get() + at), reinterpret_cast<T*>(dst), nl, scratch.get());
        } else {
          row(static_cast<const T*>(slab.get() + at), res.get(), nl, scratch.get());
          store(dst, res.get(), out.strides[last], nl);
        }
      }
    }
  });
}

// The bytes [lo, hi) a view spans.
std::pair<const char*, const char*> byte_span(const View& v) {
  const char* lo = static_cast<const char*>(v.data);
  const char* hi = lo + itemsize(v.dtype);
  for (int k = 0; k < v.ndim; ++k) (v.strides[k] < 0 ? lo : hi) += (v.shape[k] - 1) * v.strides[k];
  return {lo, hi};
}

// Integer images smaller than this take the slab path (net_in_place: its edge patches cost more
// than the slab copy while the image is in cache).
constexpr int64_t kNetInPlaceBytes = int64_t{4} << 20;

// A window kernel (NetRows: the sorting networks) over 2-D images of T (or stacks of them, the
// footprint 1 long on the leading axes) read in place: the slab copy (conversion, extension, a
// memmove of every row) costs as much as a 3x3 byte median itself. Runs of rows whose windows
// lie inside the image pass the input's rows with offsets in its row stride; their first and
// last kNetMinSplit outputs (those the border reaches, widened to a
// whole register of every ISA so that the fast square kernels run there too and the values are
// the slab path's bit for bit, rank.h) take a small extended patch, and the rows near the top
// and bottom edges padded rows (pad_row).
// Returns false, having written nothing, when the layout does not allow it (the slab path
// then runs). Integer images only from kNetInPlaceBytes.
template <class T>
bool net_in_place(const View& input, const Window& w, const NetRows<T>& net, Border mode, T cval,
                  const View& out, double ns_per_output) {
  constexpr int64_t it = sizeof(T);
  const int nd = w.nd, ra = nd - 2;  // ra: the axis across rows
  if (nd < 2 || input.dtype != dtype_of<T>() || out.dtype != dtype_of<T>()) return false;
  int64_t planes = 1;
  for (int a = 0; a < ra; ++a) {
    if (w.pshape[a] != input.shape[a]) return false;  // the footprint spans this axis
    planes *= input.shape[a];
  }
  const int64_t h = input.shape[ra], n = input.shape[ra + 1];
  const int64_t is0 = input.strides[ra], os0 = out.strides[ra];
  if (input.strides[ra + 1] != it || out.strides[ra + 1] != it || is0 <= 0 || os0 <= 0 ||
      is0 % it || os0 % it)
    return false;
  // median3_rows's strips read 8 rows at once: rows within 64 bytes of a multiple of 4 KiB
  // apart ran 2x the time in place (uint8 4096^2: the rows share L1 sets); the slab's rows, n +
  // 2 apart, do not (docs/ndimage-speed.md "med23").
  const int64_t skew = is0 % 4096;
  if (net.median3 && (skew < 64 || skew > 4096 - 64)) return false;
  const int64_t pl = w.pshape[ra + 1], f0 = w.pshape[ra] - h + 1, f1 = pl - n + 1;
  const int64_t lo0 = w.lo[ra], lo1 = w.lo[ra + 1], hi0 = f0 - 1 - lo0, hi1 = f1 - 1 - lo1;
  // Every call at least rank.h's kNetMinSplit outputs long, so every output gets the slab
  // path's bits, signed zeros included.
  const int64_t el = std::max(lo1, rank::kNetMinSplit), er = std::max(hi1, rank::kNetMinSplit);
  // Narrower float rows from the slab: copied into it just before the kernel reads them three
  // times, they come from L1 (median 3x3, 1 thread: on Zen 5 in place was 18% slower at 700^2,
  // 3% at 1024^2, 12% faster at 2048^2; on Zen 4 22% slower at 400^2, 8-10% faster from
  // 576^2; docs/ndimage-speed.md "slab13", "med15"). From 768 columns, as before the edge
  // patches narrowed from 256 columns to 64: the Zen 5 figures do not favour going lower.
  // Bytes from 384 columns and 4 MiB: their slab copy costs as much as their median once the
  // image has left L2, but in cache the three calls and two edge patches a row cost more than
  // the copy (Zen 4, 3x3, 1 thread, in place / slab ns/px: 1024^2 0.21 / 0.15, 1448^2 0.23 /
  // 0.21, 2048^2 0.19 / 0.23, 4000^2 0.14 / 0.21; 2 threads the same crossing; 5x5 even from
  // 1774^2; docs/ndimage-speed.md "net16").
  const int64_t min_inner = std::is_floating_point_v<T> ? 640 : 256;
  if (h < f0 || n - el - er < min_inner) return false;
  if (!std::is_floating_point_v<T> && planes * h * n * it < kNetInPlaceBytes) return false;
  // Read in place, so the output must not share the input's memory.
  const auto [ib0, ib1] = byte_span(input);
  const auto [ob0, ob1] = byte_span(out);
  if (ob0 < ib1 && ib0 < ob1) return false;
  Buffer<int64_t> map_last(static_cast<size_t>(pl));
  for (int64_t t = 0; t < pl; ++t) map_last[t] = map_index(t - lo1, n, mode);
  // Padded column [c0, c0 + pw) of each window row: patch offsets in its row stride pw.
  const int64_t pw = std::max(el, er) + f1 - 1;
  const int64_t nf = w.nf;
  Buffer<int64_t> inner(static_cast<size_t>(nf)), patch(static_cast<size_t>(nf));
  for (int64_t j = 0; j < nf; ++j) {
    const int64_t r = w.offsets[j] / pl, c = w.offsets[j] % pl;  // leading offsets are 0
    inner[j] = r * (is0 / it) + c;
    patch[j] = r * pw + c;
  }
  const int64_t rows_all = planes * h;
  parallel_for(
      rows_all, grain_for(rows_all, ns_per_output * static_cast<double>(n)),
      [&](int64_t q0, int64_t q1) {
        Buffer<T> rows, edge(static_cast<size_t>(f0 * pw));
        // Outputs [c0, c0 + count) of the row read from src into dst: padded columns
        // [c0, c0 + count + f1 - 1), the row itself between lo1 and lo1 + n (one copy), the
        // border by the map.
        auto edge_outputs = [&](const T* src, T* dst, int64_t c0, int64_t count) {
          const int64_t a = std::max(c0, lo1), b = std::min(c0 + count + f1 - 1, lo1 + n);
          for (int64_t r = 0; r < f0; ++r) {
            const T* row = src + r * (is0 / it);
            T* e = edge.get() + r * pw - c0;
            std::memcpy(e + a, row + (a - lo1), static_cast<size_t>(b - a) * sizeof(T));
            for (int64_t t = c0; t < a; ++t) e[t] = map_last[t] < 0 ? cval : row[map_last[t]];
            for (int64_t t = b; t < c0 + count + f1 - 1; ++t)
              e[t] = map_last[t] < 0 ? cval : row[map_last[t]];
          }
          net(edge.get(), pw, patch.get(), dst + c0, 0, 1, count);
        };
        for (int64_t q = q0; q < q1;) {
          const int64_t i = q % h;
          const char* ib = static_cast<const char*>(input.data);
          char* ob = static_cast<char*>(out.data);
          for (int64_t a = ra - 1, rest = q / h; a >= 0; --a) {
            ib += (rest % input.shape[a]) * input.strides[a];
            ob += (rest % input.shape[a]) * out.strides[a];
            rest /= input.shape[a];
          }
          T* dst = reinterpret_cast<T*>(ob + i * os0);
          if (i < lo0 || i >= h - hi0) {
            // Padded rows of this plane: the leading axes are not padded.
            if (!rows.get()) rows = Buffer<T>(static_cast<size_t>(f0 * pl));
            const int64_t prow = (q - i) / h * w.pshape[ra] + i;
            for (int64_t r = 0; r < f0; ++r)
              pad_row<T, T>(input, w, mode, cval, map_last.get(), prow + r, rows.get() + r * pl);
            net(rows.get(), pl, w.offsets.get(), dst, 0, 1, n);
            ++q;
            continue;
          }
          // A run of rows inside the image from here, in this plane and this chunk: a strip of
          // median3_rows, so that their edges follow while the rows are in cache (a whole
          // chunk's interiors, then its edges, made a 2048^2 float32 median 10% slower); one row
          // for the other kernels, as before it.
          const int64_t run =
              std::min({q1 - q, h - hi0 - i, net.median3 ? rank::kMedian3Strip : int64_t{1}});
          const T* src = reinterpret_cast<const T*>(ib + (i - lo0) * is0);
          net(src + el - lo1, is0 / it, inner.get(), dst + el, os0 / it, run, n - el - er);
          for (int64_t r = 0; r < run; ++r) {
            edge_outputs(src + r * (is0 / it), dst + r * (os0 / it), 0, el);
            edge_outputs(src + r * (is0 / it), dst + r * (os0 / it), n - er, er);
          }
          q += run;
        }
      });
  return true;
}

// Where the square medians start to prefetch (rank.h `_far`): an output of 8 MiB, input and
// output half the 32 MiB L3 a Zen 5 core shares, not the 16 MiB where outputs stream. Between
// the two the data fits the L3 only while the host leaves it alone: with other processes
// running (load 3-5), float32 3x3 at 1448^2 / 2000^2 ran 0.51-0.55 / 0.74-0.80 CPU ns/px
// without the prefetches against 0.37-0.40 / 0.46-0.49 with them, 1024^2 (4 MiB) 0.37-0.56
// against 0.37-0.48, 512^2 / 724^2 3-15% slower with them (docs/ndimage-speed.md "ndcliff").
constexpr size_t kNetFarBytes = size_t{8} << 20;

// ns per output of the footprint min / max (any footprint that is not a separable rectangle),
// one thread, slab path, 256^2 - 512^2, Zen 4: about 0.15 ns a footprint value for 4-byte
// values (cross 5: 0.16-0.19, disk 13: 0.15-0.16, disk 29: 0.14-0.15), 0.17-0.24 for 8-byte,
// 0.075-0.12 for 2-byte, 0.04-0.07 for bytes (docs/ndimage-speed.md "net16"). The old 0.1 a
// value was under the cost, and the slab path did not split: a 256^2 float32 disk of 29 ran
// 294 us on one of two threads.
template <class T>
double footprint_ns(int64_t nf) {
  const double per = sizeof(T) == 1 ? 0.05 : sizeof(T) == 2 ? 0.085 : sizeof(T) == 4 ? 0.16 : 0.19;
  return per * static_cast<double>(nf + 1);
}

// ns per output of the sorting networks on one thread, from the slab path at 256^2 - 512^2 on
// the Zen 4 VM (docs/ndimage-speed.md "net16"): float32 0.9 at 3 values, then about 0.2 ns a
// value (7: 1.4, 27: 5.5), the square medians' column sorts 0.13 (3x3 1.0, 5x5 3.3); float64
// 1.2-1.9x float32, bytes about a fifth. The old 0.3 ns a value put a 5x5 float32 median
// 2.3x over its cost and a byte one 10x, so none of them split: on two threads a 256^2 float32
// 5x5 median ran 185 us on one. Within 30-50% of the cost is enough to choose threads by.
// The 49-value network holds more values than registers: 0.3 ns a value (7x7 float32 rank
// 15 ns/px, float64 27, uint16 5.2, int32 8.8, uint8 2.9); the 7x7 square median, columns
// sorted and merged, about 0.1 (float32 4.4-5.9 ns/px, float64 14-15, uint8 1.2-1.5; "keys18").
// The integers' 3 x 3 median by sorted rows (median3_rows), about 0.5 before the scale: uint8
// 0.09-0.11 ns/px ("med23").
template <class T>
double net_ns(int64_t nf, bool square_median, bool rows3) {
  const double scale = sizeof(T) == 1 ? 0.2 : sizeof(T) == 2 ? 0.45 : sizeof(T) == 8 ? 1.5 : 1.0;
  const double per = rows3 ? 0.06 : square_median ? 0.13 : nf > 27 ? 0.3 : 0.2;
  return scale * std::max(0.9, per * static_cast<double>(nf));
}

// Whether v (of S) holds a NaN.
template <class S>
bool any_nan(const View& v) {
  if constexpr (!std::is_floating_point_v<S>) {
    return false;
  } else {
    if (v.empty()) return false;
    const int last = v.ndim - 1;
    int64_t idx[View::kMaxDims] = {};
    for (int64_t o = 0, outer = v.size() / v.shape[last]; o < outer; ++o) {
      const char* p = static_cast<const char*>(v.data);
      for (int k = 0; k < last; ++k) p += idx[k] * v.strides[k];
      bool nan = false;
      for (int64_t i = 0; i < v.shape[last]; ++i) {
        S x;
        std::memcpy(&x, p + i * v.strides[last], sizeof x);
        nan |= x != x;
      }
      if (nan) return true;
      for (int k = last - 1; k >= 0 && ++idx[k] == v.shape[k]; --k) idx[k] = 0;
    }
    return false;
  }
}

// max - min of about 4096 of v's values, scattered over it: how much of its type's range
// the data uses (an input to an algorithm's choice, never to a result).
template <class S>
double sampled_span(const View& v) {
  const int64_t n = v.size();
  if (n == 0) return 0;
  const int64_t q = std::min<int64_t>(n, 4096);
  double lo = 0, hi = 0;
  for (int64_t j = 0; j < q; ++j) {
    // Scattered by a multiplicative hash: evenly spaced indices of a 4096^2 image all fell in
    // column 0 (review25b).
    int64_t f =
        static_cast<int64_t>((static_cast<uint64_t>(j) * 2654435761u) % static_cast<uint64_t>(n));
    int64_t off = 0;
    for (int k = v.ndim - 1; k >= 0; --k) {
      off += f % v.shape[k] * v.strides[k];
      f /= v.shape[k];
    }
    S x;
    std::memcpy(&x, static_cast<const char*>(v.data) + off, sizeof x);
    const auto d = static_cast<double>(x);
    lo = j ? std::min(lo, d) : d;
    hi = j ? std::max(hi, d) : d;
  }
  return hi - lo;
}

// ns per output of rank_tile, one thread: 2 bit flips per run of the footprint's rows and a
// search an output, and the tile's sort (npfast_bench f32_rank_tile on Zen 3, random values,
// squares of K runs: 4 x 4 38, 9 x 9 48, 15 x 15 67 ns/px; the slab around it adds a few).
double rank_tile_ns(int64_t nruns) { return 18.0 + 3.5 * static_cast<double>(nruns); }

template <class S>
void window_filter(const View& input, const View& footprint, const int64_t* origins, int64_t rank,
                   bool minmax, bool minimum, const View& out, Border mode, double cval) {
  using T = Work<S>;
  const Window w = window(input, footprint, origins);
  const int64_t nf = w.nf;
  if (!minmax && (rank < 0 || rank >= nf))
    throw ValueError("rank: must lie in [0, " + std::to_string(nf) + ") for this footprint, got " +
                     std::to_string(rank));
  if (input.empty()) return;
  // SciPy's (_type)cval: the fill value as the input's type, then the kernels' type.
  const T fill = static_cast<T>(ndimage::c_cast<S>(cval));
  const auto& t = kernels<rank::Table>();
  if (minmax) {
    const rank::FootprintFn<T> k =
        pick<T>(t.f32_footprint_minmax, t.f64_footprint_minmax, t.u8_footprint_minmax,
                t.u16_footprint_minmax, t.i32_footprint_minmax);
    for_each_slab<T, S>(
        input, w, mode, fill, out, footprint_ns<T>(nf), 0, true,
        [&](const T* p, T* res, int64_t n, void*) { k(p, w.offsets.get(), nf, minimum, n, res); });
    return;
  }
  // Windows of 3-9, 25, 27 or 49 values, any footprint and rank: the sorting networks (4, 6
  // and 8 since the sorted tiles came: below them SciPy's NI_Select on 4 values beat the tiles).
  {
    rank::RankNetFn<T> k = nullptr;
    // Outputs of kNetFarBytes or more: the 3x3 / 5x5 kernels that prefetch along the rows.
    const bool far = static_cast<size_t>(out.size()) * sizeof(T) >= kNetFarBytes;
    // float32 on AMD: the networks comparing int32 keys (rank.h, `_keys`; measured on Zen 4).
    const bool keys = tune_amd();
#define NPFAST_F32(name) (keys ? t.name##_keys : t.name)
#define NPFAST_NET(n)                                                                   \
  case n:                                                                               \
    k = pick<T>(NPFAST_F32(f32_rank_net_n##n), t.f64_rank_net_n##n, t.u8_rank_net_n##n, \
                t.u16_rank_net_n##n, t.i32_rank_net_n##n);                              \
    break;
#define NPFAST_NET_FAR(n)                                                                     \
  case n:                                                                                     \
    k = far ? pick<T>(NPFAST_F32(f32_rank_net_n##n##_far), t.f64_rank_net_n##n##_far,         \
                      t.u8_rank_net_n##n##_far, t.u16_rank_net_n##n##_far,                    \
                      t.i32_rank_net_n##n##_far)                                              \
            : pick<T>(NPFAST_F32(f32_rank_net_n##n), t.f64_rank_net_n##n, t.u8_rank_net_n##n, \
                      t.u16_rank_net_n##n, t.i32_rank_net_n##n);                              \
    break;
    switch (nf) {
      NPFAST_NET(3)
      NPFAST_NET(4)
      NPFAST_NET(5)
      NPFAST_NET(6)
      NPFAST_NET(7)
      NPFAST_NET(8)
      NPFAST_NET_FAR(9)
      NPFAST_NET_FAR(25)
      NPFAST_NET(27)
#undef NPFAST_NET_FAR
#undef NPFAST_NET
      case 49:  // 7 x 7 and any window of 49 (bytes: 2.9 ns/px, Huang's histogram 12.4)
        k = pick<T>(NPFAST_F32(f32_rank_net_n49), t.f64_rank_net_n49, t.u8_rank_net_n49,
                    t.u16_rank_net_n49, t.i32_rank_net_n49);
        break;
      default:
        break;
    }
#undef NPFAST_F32
    if (k) {
      // The median of a K x K rectangle (a 1-D run of 9, 25 or 49 too): the square kernel.
      const bool square = rank == nf / 2 && (nf == 9 || nf == 25 || nf == 49) &&
                          rank::is_square(w.offsets.get(), nf == 9    ? 3
                                                           : nf == 25 ? 5
                                                                      : 7);
      // Integers' 3 x 3 squares over the last two axes (not a run of 9 along one): by rows.
      rank::Median3RowsFn<T> median3 = nullptr;
      if constexpr (std::is_integral_v<T>)
        if (nf == 9 && square && w.nd >= 2 && w.offsets[3] - w.offsets[0] == w.pshape[w.nd - 1])
          median3 =
              pick<T>(nullptr, nullptr, t.u8_median3_rows, t.u16_median3_rows, t.i32_median3_rows);
      const double ns = net_ns<T>(nf, square, median3 != nullptr);
      const NetRows<T> net{k, median3, rank};
      // In place when the input holds T: no slab copy (a third of a 3x3 float median's time
      // at 4000^2, the input read in a phase of its own).
      if constexpr (std::is_same_v<S, T>)
        if (net_in_place<T>(input, w, net, mode, fill, out, ns)) return;
      const int64_t* off = w.offsets.get();
      for_each_slab<T, S>(
          input, w, mode, fill, out, ns, 0, true,
          [&](const T* p, T* res, int64_t n, void*) { k(p, off, rank, n, res); }, net);
      return;
    }
  }
  // Footprints over the last two axes (leading footprint axes of length 1), in a kh x kw box.
  bool flat = true;
  for (int k = 0; flat && k < w.nd - 2; ++k) flat = footprint.shape[k] == 1;
  const bool rect = flat && nf == footprint.size();
  const int64_t kh = w.nd >= 2 ? footprint.shape[w.nd - 2] : 1;
  const int64_t kw = footprint.shape[w.nd - 1];
  // Sorted tiles (rank_tile), for boxes small enough that a tile holds several of them. uint16
  // rectangles of 36 values or more keep the two-level histogram below when the values span at
  // most 4096 (12-bit images, few levels): its walk between answers is then short. Spread over the
  // range, it walked up to 255 values a bucket: 9 x 9 median, 512^2, 1 thread, ns/px histogram /
  // tiles: uniform 16-bit 173 / 55, 12-bit camera-like noise 46-49 / 60, 10 levels 21-26 / 47, a
  // ramp over 41000 with noise 51 / 52-59; 12-bit noise at 4 x 4 61-64 / 40, 6 x 6 50-54 / 47-63,
  // 11 x 11 46-49 / 60-78 (docs/ndimage-speed.md "tile25"). Bytes keep Huang's histogram for
  // rectangles of 16 or more values (9 x 9 22 ns/px); other byte footprints (a disk of 81 values
  // ran NI_Select: 1225 ns/px) take the tiles.
  bool tiles_win = true;
  if constexpr (std::is_same_v<T, uint16_t>)
    tiles_win = !(rect && nf >= 36) || sampled_span<uint16_t>(input) > 4096;
  if constexpr (std::is_same_v<T, uint8_t>) tiles_win = !(rect && nf >= 16);
  if (flat && tiles_win && nf > 1 && 4 * kh * kw <= rank::kRankTileValues) {
    // The footprint's runs of set cells, row by row (its C order), and column by column (the
    // transposed footprint's C order).
    const uint8_t* f = footprint.ptr<uint8_t>();
    auto runs_of = [&](bool down, Buffer<int64_t>& runs) {
      const int64_t a = down ? kw : kh, b = down ? kh : kw;
      auto at = [&](int64_t i, int64_t j) { return f[down ? j * kw + i : i * kw + j] != 0; };
      int64_t n = 0;
      for (int64_t i = 0; i < a; ++i)
        for (int64_t j = 0; j < b; ++j) {
          if (!at(i, j) || (j > 0 && at(i, j - 1))) continue;
          int64_t e = j;
          while (e < b && at(i, e)) ++e;
          runs[3 * n] = i;
          runs[3 * n + 1] = j;
          runs[3 * n + 2] = e;
          ++n;
        }
      return n;
    };
    Buffer<int64_t> across(static_cast<size_t>(3 * nf)), down(static_cast<size_t>(3 * nf));
    const int64_t n_across = runs_of(false, across), n_down = runs_of(true, down);
    // Down the columns where that takes fewer runs, and no NaN is there, in the input or as
    // the fill: a NaN window's answer is NI_Select's on its values in C order, the
    // transposed kernel's in the transposed order (review25b: cval=nan). The input's scan
    // is one thread's pass over it (4000^2 float32, 16 x 1 median: lost in the noise of the
    // 620 ms filter on 2 threads).
    const bool nan_fill = mode == Border::fill && fill != fill;
    const bool go_down = n_down < n_across && !nan_fill && !any_nan<S>(input);
    const RankTiles<T> tiles{
        pick<T>(t.f32_rank_tile, t.f64_rank_tile, t.u8_rank_tile, t.u16_rank_tile, t.i32_rank_tile),
        go_down ? down.get() : across.get(),
        go_down ? n_down : n_across,
        kh,
        kw,
        rank,
        go_down};
    for_each_slab<T, S>(
        input, w, mode, fill, out, rank_tile_ns(tiles.nruns),
        Scratch{rank::rank_tile_work_bytes(sizeof(T), nf), rank::kRankTileZero}, true,
        [&](const T* p, T* res, int64_t n, void* work) {
          tiles(p, 0, nullptr, res, 0, 1, n, work);
        },
        tiles);
    return;
  }
  // Byte and 16-bit windows not tiny: Huang's histogram (bytes) or the two-level histogram
  // (16-bit).
  if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>) {
    if (rect && nf >= 16) {
      const int64_t step = w.nd >= 2 ? w.pstride[w.nd - 2] : 0;
      if constexpr (std::is_same_v<T, uint8_t>) {
        const rank::RankHistFn k = t.u8_rank_hist;
        // ns an output (7x7, 1 thread, Zen 5: 9.5 branchless up to 127 values, 20 walking). A
        // 64^2 7x7 is then just under two kMinChunkNs and runs serially: on two threads its 64
        // rows made chunks of 24 + 24 + 16 (48 : 16 rows), no faster and twice the CPU time.
        const double ns = (nf <= 127 ? 1.35 : 3.0) * static_cast<double>(kh);
        for_each_slab<T, S>(
            input, w, mode, fill, out, ns, 0, true,
            [&](const T* p, T* res, int64_t n, void*) { k(p, step, kh, kw, rank, n, res); });
      } else {
        const rank::RankHist16Fn k = t.u16_rank_hist;
        // The histogram: zeroed once per thread's run of slabs, left zero by every call.
        for_each_slab<T, S>(input, w, mode, fill, out, 4.0 * static_cast<double>(kh),
                            rank::kRankHist16Work * sizeof(int32_t), true,
                            [&](const T* p, T* res, int64_t n, void* hist) {
                              k(p, step, kh, kw, rank, n, res, static_cast<int32_t*>(hist));
                            });
      }
      return;
    }
  }
  const rank::SelectFn<T> k =
      pick<T>(t.f32_select, t.f64_select, t.u8_select, t.u16_select, t.i32_select);
  for_each_slab<T, S>(input, w, mode, fill, out, 3.0 * static_cast<double>(nf),
                      Scratch{static_cast<size_t>(nf) * sizeof(double), 0}, true,
                      [&](const T* p, T* res, int64_t n, void* work) {
                        k(p, w.offsets.get(), nf, rank, n, res, static_cast<double*>(work));
                      });
}

}  // namespace

void minmax_filter1d(const View& input, int64_t size, int axis, const View& out, Border mode,
                     double cval, int64_t origin, bool minimum) {
  if (input.ndim < 1) throw ValueError("input: must have at least 1 dimension");
  if (axis < 0 || axis >= input.ndim)
    throw ValueError("axis: " + std::to_string(axis) + " is out of bounds for array of dimension " +
                     std::to_string(input.ndim));
  if (size < 1) throw ValueError("size: must be at least 1, got " + std::to_string(size));
  if (origin < -(size / 2) || origin > (size - 1) / 2)
    throw ValueError("origin: must satisfy -(size // 2) <= origin <= (size - 1) // 2, got " +
                     std::to_string(origin) + " for size " + std::to_string(size));
  check_same_shape(input, out);
  // The line buffer's type: the input's values exactly, and cval too when constant mode reads
  // it (SciPy's buffer is double; a narrower one gives the same extremes).
  const bool fill = mode == Border::fill;
  ndimage::with_dtype(input.dtype, [&](auto s) {
    using T = Work<decltype(s)>;
    if (!fill || holds<T>(cval))
      minmax1d_as<T>(input, size, axis, out, mode, cval, origin, minimum);
    else
      minmax1d_as<double>(input, size, axis, out, mode, cval, origin, minimum);
    return 0;
  });
}

namespace {

// The geometry of a fused 2-D min/max over the last two axes of every plane (the leading axes
// index the planes): k0 x k1 windows starting b0 / b1 before their output; with a fold across
// planes (`z`: axis N-3 first), kz planes starting bz before the output's, mode mz.
template <class T>
struct Planes {
  int a1;
  ndimage::OuterAxes planes;
  int64_t H, W, k0, k1, b0, b1, rs_in, rs_out;
  T fill;  // cval as T, defined for any value (a fuzzer's 1e173)
  int64_t D, kz, bz, rs_z;
  Border mz;
  // size / mode / origin: one each for axes N-2, N-1, or N-3, N-2, N-1 with `z`.
  Planes(const View& input, const View& out, const int64_t* size, const int64_t* origin,
         double cval, bool z_, const Border* mode)
      : a1(input.ndim - 1),
        planes(input, input.ndim - 2, input.ndim - 1),
        H(input.shape[input.ndim - 2]),
        W(input.shape[a1]),
        k0(size[z_]),
        k1(size[z_ + 1]),
        b0(k0 / 2 + origin[z_]),
        b1(k1 / 2 + origin[z_ + 1]),
        rs_in(input.strides[input.ndim - 2]),
        rs_out(out.strides[input.ndim - 2]),
        fill(ndimage::c_cast<T>(cval)),
        D(z_ ? input.shape[input.ndim - 3] : 1),
        kz(z_ ? size[0] : 1),
        bz(z_ ? size[0] / 2 + origin[0] : 0),
        rs_z(z_ ? input.strides[input.ndim - 3] : 0),
        mz(z_ ? mode[0] : Border::reflect) {}
};

// The horizontal pass of a fused 2-D min/max: one row, W values at ext + b, extended in
// place (ext has room for k - 1 more), folded by the line kernel (short windows; with
// streaming stores when `stream`, the caller fencing) or van Herk on a single lane (one row
// pointer per element, rows / outs of W + k - 1 and W) into dst (or through res when the
// output's rows are strided).
template <class T>
struct RowPass {
  int64_t W, k, b;
  Border mode;
  T fill;
  int64_t stride;
  bool minimum;
  rank::MinMaxLineFn<T> line;
  rank::MinMaxFn<T> lanes;

  RowPass(int64_t W_, int64_t k_, int64_t b_, Border mode_, T fill_, int64_t stride_, bool min_,
          bool stream)
      : W(W_), k(k_), b(b_), mode(mode_), fill(fill_), stride(stride_), minimum(min_) {
    const auto& t = kernels<rank::Table>();
    line =
        stream && stride == static_cast<int64_t>(sizeof(T))
            ? pick<T>(t.f32_minmax_line_stream, t.f64_minmax_line_stream, t.u8_minmax_line_stream,
                      t.u16_minmax_line_stream, t.i32_minmax_line_stream)
            : pick<T>(t.f32_minmax_line, t.f64_minmax_line, t.u8_minmax_line, t.u16_minmax_line,
                      t.i32_minmax_line);
    lanes = pick<T>(t.f32_minmax, t.f64_minmax, t.u8_minmax, t.u16_minmax, t.i32_minmax);
  }
  void row(T* ext, T* dst, T* res, const T** rows, T** outs, void* work) const {
    ndimage::extend_lines(ext, W, b, k - 1 - b, 1, mode, fill);
    T* r = stride == static_cast<int64_t>(sizeof(T)) ? dst : res;
    if (k <= 16) {
      line(ext, r, W, k, minimum, work);
    } else {
      for (int64_t e = 0; e < W + k - 1; ++e) rows[e] = ext + e;
      for (int64_t e = 0; e < W; ++e) outs[e] = r + e;
      lanes(rows, outs, W, k, 1, minimum, work);
    }
    if (r != dst) ndimage::store_lanes<T, T>(reinterpret_cast<char*>(dst), r, stride, W);
  }
};

// Short vertical windows (k0 <= kFoldRows): one sweep through the image, row by row, in
// blocks of rows for the threads. Each output row folds its k0 input rows (read in place; the
// last k0 - 1 are the previous row's, in L1/L2). Rows too wide for L1 (kRowsInL1) with
// horizontal windows up to 16 and contiguous outputs run the `minmax_2d` kernel: both folds
// chunk by chunk in one loop, so the row's reads and its writes (streaming stores when the
// output is bigger than elementwise::kStreamOutputBytes: no read of the lines first)
// interleave; its border outputs are then folded from the vertical results it leaves in
// `work`, extended as extend_lines would. Other rows fold into a padded row and run the
// horizontal pass on it (RowPass). Either way the input is read once and the output written
// once, with a working set of a few rows. The fused kernel took 1-thread time per pixel at
// 4000^2 from 0.72 to 0.64 ns (a copy: 0.39) with a new output, from 0.77 to 0.60 into an
// empty_like one (2048^2: about even, and 0.73 to 0.45); the separate passes ran as a read
// phase and a write phase. Streamed outputs take two rows a call (`minmax_2d_pair`), each input
// row loaded once for both and their common rows folded once. Returns false (output partly
// written) when the input holds a NaN or an infinity, or the fill value is one (then the
// whole-line passes: see minmax2d_as).
constexpr int64_t kFoldRows = 16;
// The smallest volume (input bytes) whose three passes run as one sweep (minmax_filter2d): 1
// thread, float32 n^3, ns per voxel, sweep / passes, maximum 5: 80^3 1.37-1.39 / 1.14-1.15,
// 96^3 1.19-1.22 / 1.04-1.07, 112^3 (5.6 MB) 1.04-1.05 / 1.01-1.05, 128^3 0.94-1.10 /
// 1.07-1.12, 160^3 1.22-1.26 / 1.45-1.47 (docs/ndimage-speed.md "minmax22").
constexpr int64_t kSweepBytes = int64_t{5} << 20;
std::atomic<int64_t> g_sweep_bytes{kSweepBytes};
// Rows whose k0 + 1 input and padded rows fit this much of L1 keep the separate passes, where
// the fused kernel's head, tail and border outputs cost more per row; wider rows take the
// fused kernel. 8 KiB since the nineteenth session (was 32 KiB, from Zen 5's 48 KiB L1d, where
// the separate passes were as fast at 1024^2 float32 k0 = 5 and 10-20% faster at 256^2-512^2).
// On the Zen 4 VM (32 KiB L1d; float32, 1 thread, ns per pixel, separate / fused): minimum 3
// 256^2 0.40 / 0.46 (4 KiB), 512^2 0.34 / 0.30 (8 KiB), 1024^2 0.32 / 0.24, 2048^2 0.79 / 0.22
// (32 KiB: the separate passes' power-of-two pitch), minimum 5 256^2 0.51 / 0.54 (6 KiB),
// 512^2 0.49 / 0.38, 1024^2 0.45 / 0.34 (docs/ndimage-speed.md "cliff20").
constexpr int64_t kRowsInL1 = int64_t{8} << 10;
// 8- and 16-bit rows keep 32 KiB, where the separate passes still won (uint8 maximum 5,
// 1024^2 0.10 / 0.12 ns, 2048^2 0.08 / 0.11), but a streamed output takes the fused kernel at
// any width (uint8 minimum 3 at 4096^2, 16 MiB: 0.24-0.27 separate, 0.13-0.14 fused).
constexpr int64_t kNarrowRowsInL1 = int64_t{32} << 10;
// Rows of at least this many bytes stream their outputs (with an output past
// kStreamOutputBytes): 2048 float32, so the report's 2048^2 keeps its streamed stores.
constexpr int64_t kStreamRowBytes = 8192;

template <class T>
bool minmax2d_rows(const View& input, const int64_t* size, const View& out, const Border* all_modes,
                   double cval, const int64_t* origin, bool minimum, bool z) {
  const auto& t = kernels<rank::Table>();
  const rank::MinMaxRowsFn<T> vk = pick<T>(t.f32_minmax_rows, t.f64_minmax_rows, t.u8_minmax_rows,
                                           t.u16_minmax_rows, t.i32_minmax_rows);
  const rank::MinMaxLineFn<T> line = pick<T>(t.f32_minmax_line, t.f64_minmax_line, t.u8_minmax_line,
                                             t.u16_minmax_line, t.i32_minmax_line);
  const Planes<T> g(input, out, size, origin, cval, z, all_modes);
  const Border* mode = all_modes + z;  // axes N-2, N-1
  const bool fills = mode[0] == Border::fill || (z && g.mz == Border::fill);
  if constexpr (std::is_floating_point_v<T>)
    if ((fills || mode[1] == Border::fill) && !std::isfinite(g.fill)) return false;
  // Streamed only where rows are long: narrower rows streamed ran 1.1-5.6x slower than plain
  // (a tall float32 image of 5.8 M pixels, 1 thread: width 180 2.47 against 0.44 ns per pixel,
  // 256 1.91 / 0.40, 1024 0.94 / 0.55; 3-D volumes, whose planes make such an image, stepped
  // 2.6x past 16 MiB; docs/ndimage-speed.md "cliff20"), 4096 wide 0.30 / 0.47.
  // Nor where the stores meet the 4 KiB alias of the rows being read (alias_rows.h):
  // streamed, 2048^2 float32 maximum 5 ran 6.4 ns/px there against 0.9 elsewhere.
  const bool stream =
      static_cast<size_t>(out.size()) * sizeof(T) >= elementwise::kStreamOutputBytes &&
      g.W * static_cast<int64_t>(sizeof(T)) >= kStreamRowBytes &&
      (z || !ops::streamed_rows_alias(input, out, input.ndim - 2, g.b0, g.k0 - 1 - g.b0, 2));
  const RowPass<T> h(g.W, g.k1, g.b1, mode[1], g.fill, out.strides[g.a1], minimum, stream);
  const bool fused = g.k1 <= 16 &&
                     ((g.k0 + 1) * g.W * static_cast<int64_t>(sizeof(T)) >
                          (sizeof(T) >= 4 ? kRowsInL1 : kNarrowRowsInL1) ||
                      stream) &&
                     out.strides[g.a1] == static_cast<int64_t>(sizeof(T));
  // One row a call (a streamed block's odd last row too: plain stores for one row in 8 or more
  // cost nothing measurable, and a streaming one-row kernel would double the kernels compiled).
  const rank::MinMax2dFn<T> f2d =
      pick<T>(t.f32_minmax_2d, t.f64_minmax_2d, t.u8_minmax_2d, t.u16_minmax_2d, t.i32_minmax_2d);
  // Streamed outputs whose rows all start at one offset into a 64-byte line (a pitch of whole
  // lines): the kernel writes the lines that hold only its outputs, and the edge lines (border
  // outputs beside the kernel's first and last few) go out here whole, with streaming stores:
  // plain stores into them cost 10-12% at 4000^2 float32 from memory, 1 thread
  // (docs/ndimage-speed.md "maxc"). Rows off a line (np.empty_like's outputs start 16 bytes
  // past one) have a partial line at each end: where one row ends in the line the next starts
  // (contiguous rows), the two go out as one whole line, else plainly (docs "gauss4").
  // Every row of every plane at out.data's offset into a line: the edges below are placed
  // from out.data's, the kernel's lines from each row's own (planes a stride off a line had
  // outputs never written, or a streaming store off alignment).
  bool rows_share_offset = g.rs_out % 64 == 0;
  for (int d = 0; d + 2 < out.ndim; ++d)
    rows_share_offset = rows_share_offset && (out.shape[d] <= 1 || out.strides[d] % 64 == 0);
  constexpr int64_t E = 64 / static_cast<int64_t>(sizeof(T));
  const bool lines = fused && stream && rank::pair_lines_fast(g.k0, g.k1) &&
                     reinterpret_cast<uintptr_t>(out.data) % sizeof(T) == 0 && rows_share_offset &&
                     g.W >= 8 * E + g.k1;
  // The edge lines' streaming stores (the caller fences as after the streaming kernels).
  const elementwise::CopyFn copy_line = kernels<elementwise::Table>().x8_copy_stream;
  const rank::MinMax2dPairFn<T> f2d_pair =  // streamed outputs only (two rows a call)
      lines ? pick<T>(t.f32_minmax_2d_pair_lines, t.f64_minmax_2d_pair_lines,
                      t.u8_minmax_2d_pair_lines, t.u16_minmax_2d_pair_lines,
                      t.i32_minmax_2d_pair_lines)
            : pick<T>(t.f32_minmax_2d_pair_stream, t.f64_minmax_2d_pair_stream,
                      t.u8_minmax_2d_pair_stream, t.u16_minmax_2d_pair_stream,
                      t.i32_minmax_2d_pair_stream);
  // Where the pair kernel prefetches the rows it reads from memory (rank.h `ahead`). On AMD
  // (tune_amd(): Zen 5) the rows the next call reads new, two rows below its own at the columns
  // it loads (4000^2 cold, CPU ns/px 0.25-0.28 -> 0.20-0.23 at 1 and 2 threads); elsewhere its
  // own newest rows kFold2dAhead elements on, the best of 0-16 KiB on the Xeon
  // (docs/ndimage-speed.md "stream", "stream5").
  // With `z` the rows are folds in cache: nothing to fetch (0: the lines being loaded).
  const int64_t ahead = z            ? 0
                        : tune_amd() ? 2 * g.rs_in
                                     : rank::kFold2dAhead * static_cast<int64_t>(sizeof(T));
  const int64_t a1 = g.k1 - 1 - g.b1;  // the horizontal window's reach after its output
  // With `lines`: each row's first whole line starts at output f; the kernel's outputs cover
  // [head, tail) of each row, whole lines, and the row's whole lines end at tp.
  const int64_t f = (64 - static_cast<int64_t>(reinterpret_cast<uintptr_t>(out.data) % 64)) % 64 /
                    static_cast<int64_t>(sizeof(T));
  const int64_t head = f + (std::max<int64_t>(g.b1 - f, 0) + E - 1) / E * E,
                tail = head + (g.W - a1 - head) / E * E, tp = tail + (g.W - tail) / E * E;
  // Blocks of rows: about 256 KiB of output each (many blocks for the threads); the g.k0 - 1
  // rows a block reads before its first are a small share of its reads.
  // (With `z` the same blocks, plane by plane: each row is folded from kz planes, the newest
  // from memory, the others' rows from L2 / L3. Bands run through the planes instead, each
  // band's kz planes in 512 KiB of L2, were slower: 256^3 float32 maximum 5, 1 thread, 1.10-1.22
  // -> 1.30-1.37 ns / voxel, docs/ndimage-speed.md "minmax22".)
  const int64_t rows =
      std::clamp<int64_t>((int64_t{256} << 10) / (g.W * static_cast<int64_t>(sizeof(T))), 8, 256);
  const int64_t per_plane = (g.H + rows - 1) / rows;
  // With `z` a block makes two output planes, zi and zi + 1 (pair22: their folds share kz - 1
  // planes), so a volume's D planes are (D + 1) / 2 units.
  const int64_t zpairs = z ? (g.D + 1) / 2 : 1;
  const int64_t units = z ? g.planes.size / g.D * zpairs : g.planes.size;
  const int64_t blocks = units * per_plane;
  std::atomic<bool> nonfinite{false};
  parallel_for(
      blocks, grain_for(blocks, (z ? 0.6 : 0.3) * static_cast<double>(rows * g.W)),
      [&](int64_t c0, int64_t c1) {
        Buffer<T> ext(static_cast<size_t>(g.W + g.k1 - 1)), res(static_cast<size_t>(g.W));
        Buffer<T> fill_row(static_cast<size_t>(fills ? g.W : 0));
        Buffer<T> ext2(static_cast<size_t>(fused && stream ? g.W : 0));  // a pair's second row
        Buffer<const T*> in_rows(
            static_cast<size_t>(std::max({g.k0 + 1, g.W + g.k1 - 1, g.kz + 1})));
        // With `z`: the block's rows (its own and the k0 - 1 its windows reach) folded across
        // planes for each of its two output planes, and where each is (a fold, or fill_row);
        // `common`: one row's fold of the planes both share.
        const int64_t zr = z ? rows + g.k0 - 1 : 0;
        Buffer<T> zbuf(static_cast<size_t>(2 * zr * g.W)), common(static_cast<size_t>(z ? g.W : 0));
        Buffer<const T*> zrows(static_cast<size_t>(2 * zr));
        Buffer<T*> out_rows(static_cast<size_t>(g.W));
        Buffer<char> work(rank::minmax_work_bytes(g.k1, 1, sizeof(T)));
        T piece[2 * 16];  // a border's extended run: at most 2 * k1 - 2 values
        // With `lines` off a line: a row's last outputs, in the partial line at its end, held
        // until the next row's first outputs fill that line (then streamed whole) or the chunk
        // ends (then stored plainly).
        T carry[E];
        T* carry_at = nullptr;
        int64_t carry_n = 0;
        auto flush_carry = [&] {
          if (carry_at != nullptr) std::memcpy(carry_at, carry, sizeof(T) * carry_n);
          carry_at = nullptr;
        };
        std::fill(fill_row.get(), fill_row.get() + fill_row.size(), g.fill);
        // The fold across planes, once for each row a block's windows read (rows r0 - b0 ..):
        // for output plane zi the kz rows of planes zi - bz .., into zrows[0 .. zr); with
        // `second`, for zi + 1 too, into zrows[zr ..): the two share planes zi - bz + 1 ..
        // zi - bz + kz - 1, folded once (`common`), then each folds its own first / last
        // plane's row with it (kz comparisons an element for the two planes, not 2 (kz - 1), and
        // kz + 3 rows read, not 2 kz; the same values: the later of equal extremes wins however
        // the rows are grouped, review22c). Every
        // value is checked: false for a NaN or an infinity (the whole-line passes).
        auto fold_planes = [&](const char* in_plane, int64_t zi, bool second, int64_t r0,
                               int64_t m) {
          const T** src = in_rows.get();
          for (int64_t r = 0; r < m + g.k0 - 1; ++r) {
            const int64_t y = map_index(r0 + r - g.b0, g.H, mode[0]);
            zrows[r] = zrows[zr + r] = fill_row.get();
            if (y < 0) continue;
            for (int64_t j = 0; j < g.kz + (second ? 1 : 0); ++j) {
              const int64_t q = map_index(zi + j - g.bz, g.D, g.mz);
              src[j] = q < 0
                           ? fill_row.get()
                           : reinterpret_cast<const T*>(in_plane + (q - zi) * g.rs_z + y * g.rs_in);
            }
            T* a = zbuf.get() + r * g.W;
            T* b = a + zr * g.W;
            zrows[r] = a;
            if (!second) {
              if (!vk(src, a, g.kz, g.W, minimum, 0)) return false;
              continue;
            }
            const T* shared = src[1];  // kz = 2: the one plane both read, as it is
            if (g.kz > 2) {
              if (!vk(src + 1, common.get(), g.kz - 1, g.W, minimum, 0)) return false;
              shared = common.get();
            }
            const T* first[2] = {src[0], shared};
            const T* last[2] = {shared, src[g.kz]};
            if (!vk(first, a, 2, g.W, minimum, 0) || !vk(last, b, 2, g.W, minimum, 0)) return false;
            zrows[zr + r] = b;
          }
          return true;
        };
        for (int64_t cb = c0; cb < c1 && !nonfinite.load(std::memory_order_relaxed); ++cb) {
          const char* in_plane = static_cast<const char*>(input.data);
          char* first_out = static_cast<char*>(out.data);
          // The block's plane (with `z` the first of its two: unit u of a volume is planes 2u
          // and 2u + 1 along axis N-3, the second where the volume has it).
          const int64_t unit = cb / per_plane;
          const int64_t plane = z ? unit / zpairs * g.D + 2 * (unit % zpairs) : unit;
          g.planes.offsets(input, out, plane, &in_plane, &first_out);
          const int64_t r0 = (cb % per_plane) * rows, m = std::min(rows, g.H - r0);
          const bool second = z && plane % g.D + 1 < g.D;
          if (z && !fold_planes(in_plane, plane % g.D, second, r0, m)) {
            nonfinite.store(true, std::memory_order_relaxed);
            break;
          }
          // One output plane's rows [r0, r0 + m) at out_plane, from the input's rows or (`z`)
          // the folds zfold[..]; false where a NaN or an infinity turns up.
          auto one_plane = [&](char* out_plane, const T* const* zfold) {
            // The input rows of output row i (and of the `extra` rows after it).
            auto window_rows = [&](int64_t i, int64_t extra = 0) {
              for (int64_t r = 0; r < g.k0 + extra; ++r) {
                if (z) {
                  in_rows[r] = zfold[i + r];
                  continue;
                }
                const int64_t src = map_index(r0 + i + r - g.b0, g.H, mode[0]);
                in_rows[r] =
                    src < 0 ? fill_row.get() : reinterpret_cast<const T*>(in_plane + src * g.rs_in);
              }
            };
            auto out_row = [&](int64_t i) {
              return reinterpret_cast<T*>(out_plane + (r0 + i) * g.rs_out);
            };
            if (!fused) {
              for (int64_t i = 0; i < m; ++i) {
                window_rows(i);
                // The block's first row checks all its input rows, the others the one new row.
                if (!vk(in_rows.get(), ext.get() + g.b1, g.k0, g.W, minimum, i == 0 ? 0 : g.k0 - 1))
                  return false;
                h.row(ext.get(), out_row(i), res.get(), in_rows.get(), out_rows.get(), work.get());
              }
              return true;
            }
            // Streamed outputs: two output rows a call where the block has them (they share the
            // fold of their common input rows; 4000^2 float32 cold 10-15% less CPU time, but in
            // cache 1400^2-2000^2 25-35% more: docs/ndimage-speed.md "minmax"). The block's
            // first call checks all its input rows, the others the new ones.
            const int64_t step = stream ? 2 : 1;
            for (int64_t i = 0; i < m; i += step) {
              const int64_t check_from = i == 0 ? 0 : g.k0 - 1;
              T* dst[2] = {out_row(i), step == 2 && i + 1 < m ? out_row(i + 1) : nullptr};
              T* v[2] = {ext.get(), ext2.get()};  // the vertical folds of columns [0, W)
              bool finite;
              if (dst[1] != nullptr) {
                window_rows(i, 1);
                T* o[2] = {dst[0] + g.b1, dst[1] + g.b1};
                finite = f2d_pair(in_rows.get(), o, g.W - g.k1 + 1, g.k0, g.k1, minimum, v,
                                  check_from, ahead);
              } else {
                window_rows(i);
                finite = f2d(in_rows.get(), dst[0] + g.b1, g.W - g.k1 + 1, g.k0, g.k1, minimum,
                             v[0], check_from);
              }
              if (!finite) return false;
              // Border outputs: [0, b1) read columns [-b1, k1 - 1), [W - a1, W) columns
              // [W - k1 + 1, W + a1), extended as extend_lines would.
              if (lines && dst[1] != nullptr) {
                for (int e = 0; e < 2; ++e) {
                  // The outputs [x, x + count) into o, count <= E: output x folds columns
                  // x - b1 .. x + a1, extended as extend_lines would. (Whole lines with count E
                  // a constant: the partial lines' counts in the same loops made every call
                  // slower, 2% of the aligned 4000^2 time.)
                  auto edge = [&](int64_t x, int64_t count, T* o) {
                    T ext_v[E + 16];  // k1 <= 16
                    for (int64_t q = 0; q < count + g.k1 - 1; ++q) {
                      const int64_t c0 = x + q - g.b1;
                      const int64_t c = c0 >= 0 && c0 < g.W ? c0 : map_index(c0, g.W, mode[1]);
                      ext_v[q] = c < 0 ? g.fill : v[e][c];
                    }
                    for (int64_t q = 0; q < count; ++q) {
                      T acc = ext_v[q];
                      for (int64_t s = 1; s < g.k1; ++s) {
                        const T y = ext_v[q + s];
                        acc = minimum ? (acc < y ? acc : y) : (acc > y ? acc : y);
                      }
                      o[q] = acc;
                    }
                  };
                  alignas(64) T line_out[E];
                  // The row's first f outputs: with the previous row's held last ones, one whole
                  // line when they share it, else plainly.
                  if (f > 0) {
                    edge(0, f, line_out);
                    if (carry_at != nullptr && carry_at + carry_n == dst[e] && carry_n + f == E) {
                      T joined[E];
                      std::memcpy(joined, carry, sizeof(T) * carry_n);
                      std::memcpy(joined + carry_n, line_out, sizeof(T) * f);
                      copy_line(64, joined, carry_at);
                      carry_at = nullptr;
                    } else {
                      flush_carry();
                      std::memcpy(dst[e], line_out, sizeof(T) * f);
                    }
                  }
                  for (int64_t x = f; x < head; x += E) {
                    edge(x, E, line_out);
                    copy_line(64, line_out, dst[e] + x);
                  }
                  for (int64_t x = tail; x < tp; x += E) {
                    edge(x, E, line_out);
                    copy_line(64, line_out, dst[e] + x);
                  }
                  if (tp < g.W) {  // held: the row's last W - tp outputs
                    flush_carry();
                    edge(tp, g.W - tp, carry);
                    carry_at = dst[e] + tp;
                    carry_n = g.W - tp;
                  }
                }
                continue;
              }
              for (int e = 0; e < 2 && dst[e] != nullptr; ++e) {
                auto border = [&](int64_t first, int64_t count, T* o) {
                  for (int64_t q = 0; q < count + g.k1 - 1; ++q) {
                    const int64_t c = map_index(first + q, g.W, mode[1]);
                    piece[q] = c < 0 ? g.fill : v[e][c];
                  }
                  line(piece, o, count, g.k1, minimum, work.get());
                };
                if (g.b1 > 0) border(-g.b1, g.b1, dst[e]);
                if (a1 > 0) border(g.W - g.k1 + 1, a1, dst[e] + g.W - a1);
              }
            }
            return true;
          };
          if (!one_plane(first_out, zrows.get()) ||
              (second && !one_plane(first_out + out.strides[out.ndim - 3], zrows.get() + zr)))
            nonfinite.store(true, std::memory_order_relaxed);
        }
        flush_carry();
        if (stream) elementwise::stream_fence();  // before the chunk is reported done
      });
  return !nonfinite.load();
}

// Returns false (output partly written) when a floating input holds a NaN or an infinity:
// the vertical pass runs in bands, and SciPy's deque answer on a column with a NaN depends on
// the whole column, so such inputs take the unfused passes (whole lines).
template <class T>
bool minmax2d_as(const View& input, const int64_t* size, const View& out, const Border* mode,
                 double cval, const int64_t* origin, bool minimum) {
  const auto& t = kernels<rank::Table>();
  const rank::MinMaxFn<T> vk =
      pick<T>(t.f32_minmax, t.f64_minmax, t.u8_minmax, t.u16_minmax, t.i32_minmax);
  const Planes<T> g(input, out, size, origin, cval, false, mode);
  const RowPass<T> h(g.W, g.k1, g.b1, mode[1], g.fill, out.strides[g.a1], minimum, false);
  // Bands of 32 rows; the vertical pass takes 256-column strips (1 KiB of floats a row).
  constexpr int64_t kBand = 32;
  const int64_t L = std::min<int64_t>(g.W, 1024 / static_cast<int64_t>(sizeof(T)));
  const int64_t per_plane = (g.H + kBand - 1) / kBand;
  const int64_t bands = g.planes.size * per_plane;
  const int64_t kw_work = std::max(g.k0, g.k1);
  std::atomic<bool> nonfinite{false};
  parallel_for(
      bands, grain_for(bands, 0.6 * static_cast<double>(kBand * g.W)), [&](int64_t c0, int64_t c1) {
        Buffer<T> band(static_cast<size_t>(kBand * g.W)), fill_row(static_cast<size_t>(L));
        Buffer<T> ext(static_cast<size_t>(g.W + g.k1 - 1)), res(static_cast<size_t>(g.W));
        Buffer<const T*> in_rows(static_cast<size_t>(kBand + g.k0 - 1 + g.W + g.k1 - 1));
        Buffer<T*> out_rows(static_cast<size_t>(std::max(kBand, g.W)));
        Buffer<char> work(rank::minmax_work_bytes(kw_work, L, sizeof(T)));
        std::fill(fill_row.get(), fill_row.get() + L, g.fill);
        for (int64_t cb = c0; cb < c1; ++cb) {
          if (nonfinite.load(std::memory_order_relaxed)) return;
          const char* in_plane = static_cast<const char*>(input.data);
          char* out_plane = static_cast<char*>(out.data);
          g.planes.offsets(input, out, cb / per_plane, &in_plane, &out_plane);
          const int64_t c = cb % per_plane;
          const int64_t r0 = c * kBand, m = std::min(kBand, g.H - r0);
          // Vertical: rows of the input (extension rows point at the rows they repeat).
          for (int64_t j0 = 0; j0 < g.W; j0 += L) {
            const int64_t lanes = std::min(L, g.W - j0);
            for (int64_t r = 0; r < m + g.k0 - 1; ++r) {
              const int64_t src = map_index(r0 + r - g.b0, g.H, mode[0]);
              in_rows[r] = src < 0 ? fill_row.get()
                                   : reinterpret_cast<const T*>(in_plane + src * g.rs_in) + j0;
            }
            for (int64_t i = 0; i < m; ++i) out_rows[i] = band.get() + i * g.W + j0;
            vk(in_rows.get(), out_rows.get(), m, g.k0, lanes, minimum, work.get());
            if constexpr (std::is_floating_point_v<T>) {
              T seen[16] = {};
              for (int64_t r = 0; r < m + g.k0 - 1; ++r) {
                const T* x = in_rows[r];
                int64_t l = 0;
                for (; l + 16 <= lanes; l += 16)
                  for (int q = 0; q < 16; ++q) seen[q] += x[l + q] * T(0);
                for (; l < lanes; ++l) seen[0] += x[l] * T(0);
              }
              T any = T(0);
              for (int q = 0; q < 16; ++q) any += seen[q];
              if (any != any) {
                nonfinite.store(true, std::memory_order_relaxed);
                return;
              }
            }
          }
          // Horizontal: each band row extended, then along it.
          for (int64_t i = 0; i < m; ++i) {
            std::memcpy(ext.get() + g.b1, band.get() + i * g.W,
                        static_cast<size_t>(g.W) * sizeof(T));
            h.row(ext.get(), reinterpret_cast<T*>(out_plane + (r0 + i) * g.rs_out), res.get(),
                  in_rows.get(), out_rows.get(), work.get());
          }
        }
      });
  return !nonfinite.load();
}

}  // namespace

void set_minmax_sweep_bytes_for_testing(int64_t bytes) {
  g_sweep_bytes.store(bytes < 0 ? kSweepBytes : bytes, std::memory_order_relaxed);
}

bool minmax_filter2d(const View& input, const int64_t* size, const View& out, const Border* mode,
                     double cval, const int64_t* origin, bool minimum, int axes) {
  if (axes != 2 && axes != 3) throw ValueError("axes: must be 2 or 3, got " + std::to_string(axes));
  if (input.ndim < axes)
    throw ValueError("input: must have at least " + std::to_string(axes) +
                     " dimensions, got shape " + shape_str(input));
  for (int a = 0; a < axes; ++a) {
    if (size[a] < 1) throw ValueError("size: must be at least 1, got " + std::to_string(size[a]));
    if (origin[a] < -(size[a] / 2) || origin[a] > (size[a] - 1) / 2)
      throw ValueError("origin: must satisfy -(size // 2) <= origin <= (size - 1) // 2, got " +
                       std::to_string(origin[a]) + " for size " + std::to_string(size[a]));
  }
  check_same_shape(input, out);
  if (input.dtype != out.dtype || input.empty() || input.data == out.data) return false;
  // Rows shorter than kShortLine: the passes, which take such rows side by side; the fused
  // pair's cost per row made minimum_filter 5 over (400000, 1) float32 1.6x SciPy's time
  // (24.6 against 15.4 ms; the passes 0.75), (133333, 3) 6.9 ms (passes 1.3), (26666, 15)
  // 1.5 (0.9); docs/ndimage-speed.md "few28").
  if (input.shape[input.ndim - 1] < ndimage::kShortLine) return false;
  const bool z = axes == 3;
  bool fill = false;
  for (int a = 0; a < axes; ++a) fill = fill || mode[a] == Border::fill;
  // The fold across planes runs with the short vertical windows' sweep only (and kz >= 2: one
  // plane is nothing to fold), and on volumes of
  // kSweepBytes and more: in cache the pass across planes into scratch (van Herk, three
  // operations an element) and the pair are 7-12% faster than the fold (kz loads an element).
  if (z && (size[0] < 2 || size[0] > kFoldRows || size[1] > kFoldRows)) return false;
  if (z && input.size() * static_cast<int64_t>(itemsize(input.dtype)) <
               g_sweep_bytes.load(std::memory_order_relaxed))
    return false;
  bool done = false;
  ndimage::with_dtype(input.dtype, [&](auto s) {
    using S = decltype(s);
    using T = Work<S>;
    if constexpr (std::is_same_v<S, T>) {
      const int64_t it = sizeof(T);
      bool rows = input.strides[input.ndim - 1] == it &&
                  reinterpret_cast<uintptr_t>(input.data) % it == 0 &&
                  reinterpret_cast<uintptr_t>(out.data) % it == 0;
      for (int k = 0; rows && k < input.ndim; ++k)
        rows = input.strides[k] % it == 0 && out.strides[k] % it == 0;
      if (rows && (!fill || holds<T>(cval))) {
        done = size[z] <= kFoldRows
                   ? minmax2d_rows<T>(input, size, out, mode, cval, origin, minimum, z)
                   : minmax2d_as<T>(input, size, out, mode, cval, origin, minimum);
      }
    }
    return 0;
  });
  return done;
}

void minmax_footprint(const View& input, const View& footprint, const int64_t* origins,
                      const View& out, Border mode, double cval, bool minimum) {
  check_same_shape(input, out);
  ndimage::with_dtype(input.dtype, [&](auto s) {
    window_filter<decltype(s)>(input, footprint, origins, 0, true, minimum, out, mode, cval);
    return 0;
  });
}

void rank_filter(const View& input, const View& footprint, const int64_t* origins, int64_t rank,
                 const View& out, Border mode, double cval) {
  check_same_shape(input, out);
  ndimage::with_dtype(input.dtype, [&](auto s) {
    window_filter<decltype(s)>(input, footprint, origins, rank, false, false, out, mode, cval);
    return 0;
  });
}

}  // namespace npfast
