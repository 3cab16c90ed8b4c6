// Rank-filter kernel family: the kernels behind npfast.ndimage's minimum/maximum/median/rank/
// percentile filters, each equal to SciPy's C code value for value (NaN included).
//
// Running minimum / maximum `<dtype>_minmax__<isa>(in, out, n, k, width, minimum, work)`:
// `width` lines side by side, given as rows (the line driver's layout, src/ops/ndimage_line.h):
// in[t][c] is element t of line c for t < n + k - 1 (lines already extended by the operator),
// so a vector holds one element of several lines. out[i][c] is the minimum (maximum) of line
// c's elements [i, i + k), for i < n: exactly what SciPy's NI_MinOrMaxFilter1D (Richard Harter's
// ascending-minima deque, minmax_deque below) returns. On a line without NaN that is the
// window's extreme, and among equal extremes (-0.0 and +0.0) the last one; on a line with a NaN
// the deque's answer depends on where the NaN sits, so such lines (and, detected the same
// cheap way, lines with an infinity) run the deque itself. That answer depends on the line
// from its first element: the operator passes whole lines of floating types, never bands.
// `work`: minmax_work_bytes(k, width, sizeof(T)) bytes. In and out rows do not overlap.
//
// Rank selection `<dtype>_select__<isa>(in, offsets, nf, rank, count, out, work)`: for each
// output i < count, the nf values in[i + offsets[j]] (j in footprint order, C order over the
// footprint's true entries) are converted to double and out[i] is the `rank`-th of them by
// SciPy's NI_Select (ni_select below): the rank-th smallest when no value is NaN, and SciPy's
// partition result otherwise. `work`: nf doubles.
//
// Running minimum / maximum along one contiguous line `<dtype>_minmax_line__<isa>(in, out, n,
// k, minimum, work)`: in[0, n + k - 1) extended, out[i] = the extreme of in[i, i + k), the
// same answer as the minmax kernel on that line (for the short windows the operator sends
// here: the window folded left to right, vectorized across outputs). `work`:
// minmax_work_bytes(k, 1, sizeof(T)) bytes. `<dtype>_minmax_line_stream__<isa>` is the same
// with non-temporal stores for `out` (aligned to T; for outputs far bigger than the cache): the
// caller runs elementwise::stream_fence() before anything else reads them.
//
// Running minimum / maximum across k rows `<dtype>_minmax_rows__<isa>(in, out, k, width,
// minimum, check_from)`: out[c] = the extreme of in[0][c], ..., in[k - 1][c], the last of equal
// extremes: the minmax kernel's answer for a window of lines without NaN (folded across rows,
// vectorized across c; for the short windows of a fused 2-D filter, one output row per call).
// Returns false when a value of rows [check_from, k) is NaN or infinite (floating T; then out
// is not SciPy's answer and the caller must take the whole-line path), true otherwise.
//
// One row of a fused 2-D minimum / maximum `<dtype>_minmax_2d__<isa>(in, out, n, k0, k1,
// minimum, work, check_from)`: v[c] = the extreme of in[0][c], ..., in[k0 - 1][c] for
// c < n + k1 - 1 (the minmax_rows fold) and out[j] = the extreme of v[j], ..., v[j + k1 - 1]
// for j < n (the minmax_line fold; the last of equal extremes in both), so out is the
// separable k0 x k1 filter's row where every window lies inside the rows. `work`: n + k1 - 1
// values, holding v[c] on return for the first and last k1 columns (c < k1, c >= n - 1: all
// that the caller's border outputs read, extended) and unspecified between. Returns false
// when a value of rows [check_from, k0) is NaN or infinite (floating T; out is then not
// SciPy's answer).
//
// Two rows of a fused 2-D minimum / maximum into a streamed output
// `<dtype>_minmax_2d_pair_stream__<isa>(in, out, n, k0, k1, minimum, work, check_from, ahead)`:
// from k0 + 1 input rows, out[i] (i = 0, 1) and work[i] are the minmax_2d kernel's out and work for
// input rows in + i, written with non-temporal stores (aligned to T; the caller fences as for
// minmax_line_stream), and the result is false when a value of rows [check_from, k0 + 1) is
// NaN or infinite (floating T). The two rows share the fold of rows 1 .. k0 - 1 and each input
// row is loaded once for both: per output row about half the vertical work and of the older
// rows' reads. There is no plain-store pair kernel nor a one-row streaming one: in cache one row
// a call is as fast, and each variant doubled the rank files' compile time in every build.
// `ahead` (a hint, any value: a prefetch never faults): where the call prefetches the rows it
// reads from memory, in bytes past the columns it loads in its two newest rows (in[k0 - 1],
// in[k0]): kFold2dAhead elements (along the rows) or two row pitches (the next call's two new
// rows, at the columns loaded now), the operator's choice by CPU (ndimage_rank.cc).
// `_lines`: for two output rows at the same address modulo 64 bytes, non-temporal stores of the
// outputs in the whole 64-byte lines of out[i][0, n) only, the others (the partial lines at the
// rows' ends, which the caller writes whole, with its border outputs) stored or not; work[i]
// then holds v[c] also for every c < 64 / sizeof(T) + k1 + the first line's offset, and for
// c >= n - 64 / sizeof(T) - 1. Plain stores into the rows' edge lines cost 10-12% of the
// 4000^2 float32 time from memory (docs/ndimage-speed.md "maxc"). The rows need not start on a
// line (the operator takes it for any pitch of whole lines, np.empty_like's outputs 16 bytes
// past one: docs "gauss4"); rows at different offsets into a line: `_stream`.
// The fast form (two rows at once) only where pair_lines_fast(k0, k1); other windows take one
// row after the other, correct but slower, so the operator asks for `_lines` only there.
//
// Footprint minimum / maximum `<dtype>_footprint_minmax__<isa>(in, offsets, nf, minimum, count,
// out)`: SciPy's NI_MinOrMaxFilter for non-separable footprints: out[i] starts at
// in[i + offsets[0]] and takes each later in[i + offsets[j]] that is strictly smaller (larger),
// in T. So a NaN is the answer exactly when it is the window's first value, and ties keep the
// earliest value.
//
// Small windows `<dtype>_rank_net_n<N>__<isa>(in, offsets, rank, count, out)` (f32, f64, u8, u16,
// i32: the kernel types of every input dtype, ndimage_rank.cc's Work): for output
// i < count, the rank-th smallest of the N values in[i + offsets[j]], equal to the select
// kernel on the same offsets (min/max sorting networks across outputs: the median network
// pruned to its middle wire for rank N/2, a whole sorting network for other ranks; windows
// with a NaN take ni_select on the values in offsets order). N: 3-9, 25, 27, 49. Equal
// values -0.0 and +0.0 may come back with either sign (SciPy's partition order is not
// reproduced there). Which sign is a function of the window's values, and, for the square
// medians (n9 / n25 / n49 at the median rank, offsets a K x K rectangle), of whether the call has
// at least one register of outputs (kNetMinSplit covers every ISA compiled here): calls with fewer
// outputs copy their windows into lanes and run the median network, longer ones sort the columns
// and merge them. So a row split into calls of at least kNetMinSplit outputs each, anywhere, gets
// the same values as one call over the row.
// `<dtype>_rank_net_n9_far` / `_n25_far` are the same kernels for images far bigger than the cache:
// they prefetch ahead along the rows (the window's last row and the outputs), with the same
// results. `f32_rank_net_n<N>_keys` (and `_n9_far_keys` / `_n25_far_keys`) are the float32
// networks comparing int32 keys of the values' bits (generic.h, rank_net): the same values, but
// -0.0 orders below +0.0, so an answer between equal zeros may take the other sign than the
// plain kernel's (both allowed above); the operator takes them on AMD CPUs.
//
// 3 x 3 medians of several rows `<dtype>_median3_rows__<isa>(in, in_step, out, out_step, rows,
// count)` (u8, u16, i32: integers; floats keep the n9 kernels, generic.h says why): for r < rows
// and i < count, out[r * out_step + i] = the median of the nine values in[(r + a) * in_step + i +
// b], a, b in {0, 1, 2}. It takes rows to share each input row's sort among the three output
// rows that read it, kMedian3Strip output rows at a time (generic.h); fewer outputs than a
// register are selected one by one.
//
// Byte rank over a rectangle `u8_rank_hist__<isa>(in, row_step, kh, kw, rank, count, out)`: the
// rank-th smallest of the kh x kw window whose top-left element is in[i + r * row_step + c],
// for output i < count; equal to the select kernel on those offsets (bytes hold no NaN).
// Huang's sliding histogram: one column leaves and one enters per output, O(kh) updates; on
// AVX2 / AVX-512 windows of at most 127 values find each answer without a data-dependent
// branch (generic.h, rank_hist_groups), others walk it from the last one (rank_hist).
// `u16_rank_hist__<isa>(in, row_step, kh, kw, rank, count, out, work)` is the same for 16-bit
// values over a two-level histogram (256 buckets of 256 values, so the answer moves by whole
// buckets); `work`: kRankHist16Work int32, zero on entry and left zero.
//
// Rank over a 2-D footprint `<dtype>_rank_tile__<isa>(in, in_step, in_col, runs, nruns, kh, kw,
// rank, rows, count, out, out_step, out_col, work)` (f32, f64, i32, u16, u8): the footprint, inside
// a kh x kw box, is `nruns` runs of cells, run j the cells (runs[3j], c) for runs[3j + 1] <= c <
// runs[3j + 2], in C order (rows ascending, columns ascending within a row), non-empty and
// apart. Element (r, c) of the input is in[r * in_step + c * in_col]. For r < rows and i <
// count, out[r * out_step + i * out_col] = the rank-th smallest of the footprint's values whose
// box has its top-left element at input (r, i); equal to the select kernel on the footprint's
// offsets (C order), but for the sign of an answer between equal zeros (-0.0 orders below
// +0.0, as the `_keys` networks). The operator passes a tall footprint transposed (in_step 1,
// in_col the row step): each run costs two bit flips an output. The tile's (rows + kh - 1) x
// (count + kw - 1) values, at most kRankTileValues, are sorted once and replaced by their
// places in that order, over which each window slides along `count` as a bit set (tile.h);
// windows holding a NaN take ni_select. `work`: rank_tile_work_bytes(sizeof(T), nf) bytes (nf:
// the footprint's cells), 64-byte aligned, its first kRankTileZero bytes zero on entry and left
// zero.
//
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace rank {

template <class T>
using MinMaxFn = void (*)(const T* const* in, T* const* out, int64_t n, int64_t k, int64_t width,
                          bool minimum, void* work);
template <class T>
using MinMaxLineFn = void (*)(const T* in, T* out, int64_t n, int64_t k, bool minimum, void* work);
template <class T>
using MinMaxRowsFn = bool (*)(const T* const* in, T* out, int64_t k, int64_t width, bool minimum,
                              int64_t check_from);
template <class T>
using MinMax2dFn = bool (*)(const T* const* in, T* out, int64_t n, int64_t k0, int64_t k1,
                            bool minimum, T* work, int64_t check_from);
template <class T>
using MinMax2dPairFn = bool (*)(const T* const* in, T* const* out, int64_t n, int64_t k0,
                                int64_t k1, bool minimum, T* const* work, int64_t check_from,
                                int64_t ahead);
template <class T>
using SelectFn = void (*)(const T* in, const int64_t* offsets, int64_t nf, int64_t rank,
                          int64_t count, T* out, double* work);
template <class T>
using FootprintFn = void (*)(const T* in, const int64_t* offsets, int64_t nf, bool minimum,
                             int64_t count, T* out);
using RankHistFn = void (*)(const uint8_t* in, int64_t row_step, int64_t kh, int64_t kw,
                            int64_t rank, int64_t count, uint8_t* out);
using RankHist16Fn = void (*)(const uint16_t* in, int64_t row_step, int64_t kh, int64_t kw,
                              int64_t rank, int64_t count, uint16_t* out, int32_t* work);
constexpr int64_t kRankHist16Work = 65536 + 256;
template <class T>
using RankTileFn = void (*)(const T* in, int64_t in_step, int64_t in_col, const int64_t* runs,
                            int64_t nruns, int64_t kh, int64_t kw, int64_t rank, int64_t rows,
                            int64_t count, T* out, int64_t out_step, int64_t out_col, void* work);
// The values a rank_tile call may read: their places in the sorted order must fit 16 bits.
constexpr int64_t kRankTileValues = int64_t{1} << 15;
constexpr size_t kRankTileZero = kRankTileValues / 8;  // the window's bits (tile.h)
constexpr int kTileDigit = 11;                         // bits a radix pass sorts by
constexpr int kTilePasses = 6;                         // passes for 64-bit keys
// A sorted item of tile.h: an 8-byte key and its index, else a key packed above the index.
constexpr size_t tile_item_bytes(size_t tsize) { return tsize == 8 ? 16 : 8; }
// The sections of rank_tile's work in order (tile.h's TileWork: the window's bits, two item
// buffers, radix counts, places, answers, values, run ends, a NaN window's doubles), each but
// the last rounded up to 64 bytes where it is laid out.
constexpr int kTileSections = 9;
inline void tile_sections(size_t tsize, int64_t nf, size_t (&bytes)[kTileSections]) {
  const size_t n = static_cast<size_t>(kRankTileValues), cells = static_cast<size_t>(nf);
  const size_t items = n * tile_item_bytes(tsize);
  const size_t sizes[kTileSections] = {n / 8,
                                       items,
                                       items,
                                       kTilePasses * (size_t{1} << kTileDigit) * 4,
                                       n * 2,
                                       n * 2,
                                       n * tsize,
                                       cells * 2 * sizeof(int64_t),
                                       cells * sizeof(double)};
  for (int i = 0; i < kTileSections; ++i) bytes[i] = sizes[i];
}
constexpr size_t tile_section_span(size_t b) { return (b + 63) / 64 * 64; }
inline size_t rank_tile_work_bytes(size_t tsize, int64_t nf) {
  size_t bytes[kTileSections], total = 0;
  tile_sections(tsize, nf, bytes);
  for (size_t b : bytes) total += tile_section_span(b);
  return total;
}
constexpr int64_t kNetMinSplit = 64;  // outputs: the widest register holds 64 bytes
// median3_rows's output rows a strip: 8 took 1.2x the time of 6 on rows 4 KiB + 8 bytes apart
// (their lines share L1 sets), 4 1.1x elsewhere (docs/ndimage-speed.md "med23").
constexpr int64_t kMedian3Strip = 6;

// True when the K * K offsets are a K x K rectangle in C order: offsets[0] + r * s + c for the
// window's row r and column c, s = the row step (a 1-D run of K * K is one, s = K). The n9 /
// n25 kernels take the square median for such offsets at the median rank; the operator costs
// them by the same test.
inline bool is_square(const int64_t* offsets, int K) {
  const int64_t s = offsets[K] - offsets[0];
  for (int j = 0; j < K * K; ++j)
    if (offsets[j] != offsets[0] + (j / K) * s + j % K) return false;
  return true;
}
template <class T>
using RankNetFn = void (*)(const T* in, const int64_t* offsets, int64_t rank, int64_t count,
                           T* out);
// The offsets of a 3 x 3 window whose rows are `step` apart, in C order (median3_rows's
// windows, for the selection that checks them).
inline void square3_offsets(int64_t step, int64_t* offsets) {
  for (int j = 0; j < 9; ++j) offsets[j] = (j / 3) * step + j % 3;
}
template <class T>
using Median3RowsFn = void (*)(const T* in, int64_t in_step, T* out, int64_t out_step, int64_t rows,
                               int64_t count);

struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/rank/kernels.inc"
#undef NPFAST_KERNEL
};

// How many elements ahead the fused 2-D folds prefetch the newest input row (the one read
// from memory; the older rows are L2 hits): at 4000^2 float32 (rows 16 KB), 1-thread CPU time
// per pixel 0.63 with none, 0.50-0.59 at 1-2 KiB, 0.45-0.55 at 4 KiB, 0.50-0.58 at 8 KiB, 0.56
// at 16 KiB (loaded machine, docs/ndimage-speed.md "stream"); fold_2d's 512 B before. The
// one-row kernels always; the pair kernels where the operator passes it as `ahead`.
constexpr int64_t kFold2dAhead = 1024;

// The windows (rows k0, columns k1) whose `_lines` kernel takes two rows at once.
constexpr bool pair_lines_fast(int64_t k0, int64_t k1) {
  return (k0 == 3 || k0 == 5) && (k1 == 3 || k1 == 5);
}

// Bytes of `work` a minmax kernel needs: (k + 2) rows of `width` values (the backward scan,
// the forward scan, a NaN detector per line) and the deque's ring of k (value, death) pairs.
inline size_t minmax_work_bytes(int64_t k, int64_t width, size_t tsize) {
  return static_cast<size_t>((k + 2) * width) * tsize + static_cast<size_t>(k) * (tsize + 8) + 64;
}

// SciPy's NI_Select (ndimage/src/ni_filters.c): Hoare partition around the first element,
// recursing into the side that holds `rank`; written as a loop. Reordering buffer[lo..hi].
inline double ni_select(double* buffer, int64_t lo, int64_t hi, int64_t rank) {
  for (;;) {
    if (lo == hi) return buffer[lo];
    const double x = buffer[lo];
    int64_t ii = lo - 1, jj = hi + 1;
    for (;;) {
      do --jj;
      while (buffer[jj] > x);
      do ++ii;
      while (buffer[ii] < x);
      if (ii < jj) {
        const double t = buffer[ii];
        buffer[ii] = buffer[jj];
        buffer[jj] = t;
      } else {
        break;
      }
    }
    const int64_t left = jj - lo + 1;
    if (rank < left) {
      hi = jj;
    } else {
      lo = jj + 1;
      rank -= left;
    }
  }
}

// SciPy's NI_MinOrMaxFilter1D on one line of n + k - 1 elements in(t), writing out(i, value)
// for i < n: Harter's deque of (value, death) pairs in a ring of k, comparisons as SciPy's
// (`<=` / `>=` to replace the front, `>=` / `<=` to drop from the back). Values compare the
// same in T as in SciPy's double line buffer (every T here converts to double exactly).
template <class T, class In, class Out>
void minmax_deque_of(In in, Out out, int64_t n, int64_t k, bool minimum, T* ring_value,
                     int64_t* ring_death) {
  if (k == 1) {
    for (int64_t i = 0; i < n; ++i) out(i, in(i));
    return;
  }
  int64_t front = 0, last = 0;
  ring_value[0] = in(0);
  ring_death[0] = k;
  for (int64_t ll = 1; ll < k + n - 1; ++ll) {
    const T val = in(ll);
    if (ring_death[front] == ll && ++front >= k) front = 0;
    if (minimum ? val <= ring_value[front] : val >= ring_value[front]) {
      ring_value[front] = val;
      ring_death[front] = ll + k;
      last = front;
    } else {
      while (minimum ? ring_value[last] >= val : ring_value[last] <= val) {
        if (last == 0) last = k;
        --last;
      }
      if (++last >= k) last = 0;
      ring_value[last] = val;
      ring_death[last] = ll + k;
    }
    if (ll >= k - 1) out(ll - k + 1, ring_value[front]);
  }
}

// The deque on line c of rows (in[t][c], out[i][c]).
template <class T>
void minmax_deque(const T* const* in, T* const* out, int64_t c, int64_t n, int64_t k, bool minimum,
                  T* ring_value, int64_t* ring_death) {
  minmax_deque_of<T>([&](int64_t t) { return in[t][c]; }, [&](int64_t i, T v) { out[i][c] = v; }, n,
                     k, minimum, ring_value, ring_death);
}

// The deque on one contiguous line (in[t], out[i]).
template <class T>
void minmax_deque_line(const T* in, T* out, int64_t n, int64_t k, bool minimum, T* ring_value,
                       int64_t* ring_death) {
  minmax_deque_of<T>([&](int64_t t) { return in[t]; }, [&](int64_t i, T v) { out[i] = v; }, n, k,
                     minimum, ring_value, ring_death);
}

// The select kernel's body, shared by every ISA (a partition has nothing to vectorize).
template <class T>
void select_rows(const T* in, const int64_t* offsets, int64_t nf, int64_t rank, int64_t count,
                 T* out, double* work) {
  for (int64_t i = 0; i < count; ++i) {
    const T* p = in + i;
    for (int64_t j = 0; j < nf; ++j) work[j] = static_cast<double>(p[offsets[j]]);
    out[i] = static_cast<T>(ni_select(work, 0, nf - 1, rank));
  }
}

// The footprint kernel's body, shared by every ISA: the loop over outputs is innermost and
// `t < r ? t : r` is the vector min instruction's own rule, so it vectorizes at each ISA's
// flags and stays exactly SciPy's scan.
template <class T>
void footprint_minmax(const T* in, const int64_t* offsets, int64_t nf, bool minimum, int64_t count,
                      T* out) {
  const T* p = in + offsets[0];
  for (int64_t i = 0; i < count; ++i) out[i] = p[i];
  for (int64_t j = 1; j < nf; ++j) {
    const T* __restrict q = in + offsets[j];
    T* __restrict r = out;
    if (minimum)
      for (int64_t i = 0; i < count; ++i) r[i] = q[i] < r[i] ? q[i] : r[i];
    else
      for (int64_t i = 0; i < count; ++i) r[i] = q[i] > r[i] ? q[i] : r[i];
  }
}

// The histogram kernel's body, shared by every ISA (its work is table updates, not lanes).
inline void rank_hist(const uint8_t* in, int64_t row_step, int64_t kh, int64_t kw, int64_t rank,
                      int64_t count, uint8_t* out) {
  if (count <= 0) return;
  int32_t hist[256] = {};
  for (int64_t r = 0; r < kh; ++r)
    for (int64_t c = 0; c < kw; ++c) ++hist[in[r * row_step + c]];
  // m: the answer; below: how many window values are smaller than m.
  int m = 0;
  int64_t below = 0;
  while (below + hist[m] <= rank) below += hist[m++];
  out[0] = static_cast<uint8_t>(m);
  for (int64_t i = 1; i < count; ++i) {
    const uint8_t* leave = in + i - 1;
    const uint8_t* enter = in + i + kw - 1;
    for (int64_t r = 0; r < kh; ++r) {
      const int v = leave[r * row_step], u = enter[r * row_step];
      --hist[v];
      ++hist[u];
      below += (u < m) - (v < m);
    }
    while (below > rank) below -= hist[--m];
    while (below + hist[m] <= rank) below += hist[m++];
    out[i] = static_cast<uint8_t>(m);
  }
}

// The 16-bit histogram kernel's body, shared by every ISA. fine[v] counts value v, coarse[b]
// values v >> 8 == b; m is the answer and below the count of window values smaller than m.
inline void rank_hist16(const uint16_t* in, int64_t row_step, int64_t kh, int64_t kw, int64_t rank,
                        int64_t count, uint16_t* out, int32_t* work) {
  if (count <= 0) return;
  int32_t* fine = work;
  int32_t* coarse = work + 65536;
  auto add = [&](int v, int d) {
    fine[v] += d;
    coarse[v >> 8] += d;
  };
  int m = 0;
  int64_t below = 0;
  // Moves m to the answer, keeping `below` exact: down value by value to the bucket start,
  // then bucket by bucket; up value by value, whole buckets at each bucket start.
  auto settle = [&] {
    while (below > rank) {
      if ((m & 255) == 0) {
        int b = m >> 8;
        do below -= coarse[--b];
        while (below > rank);
        m = b << 8;
        break;
      }
      below -= fine[--m];
    }
    while (below + fine[m] <= rank) {
      below += fine[m++];
      if ((m & 255) == 0) {
        int b = m >> 8;
        while (below + coarse[b] <= rank) below += coarse[b++];
        m = b << 8;
      }
    }
  };
  for (int64_t r = 0; r < kh; ++r)
    for (int64_t c = 0; c < kw; ++c) add(in[r * row_step + c], 1);
  settle();
  out[0] = static_cast<uint16_t>(m);
  for (int64_t i = 1; i < count; ++i) {
    const uint16_t* leave = in + i - 1;
    const uint16_t* enter = in + i + kw - 1;
    for (int64_t r = 0; r < kh; ++r) {
      const int v = leave[r * row_step], u = enter[r * row_step];
      add(v, -1);
      add(u, 1);
      below += (u < m) - (v < m);
    }
    settle();
    out[i] = static_cast<uint16_t>(m);
  }
  // Leave the histogram zero for the next call.
  for (int64_t r = 0; r < kh; ++r)
    for (int64_t c = 0; c < kw; ++c) add(in[count - 1 + r * row_step + c], -1);
}

}  // namespace rank
}  // namespace npfast
