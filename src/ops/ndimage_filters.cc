// correlate1d, uniform_filter1d and their fused pairs: argument checks, then line passes
// (ndimage_line.h) with the filter1d kernels, or two passes fused over bands of rows
// (pair_fused).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/ndimage.hpp"
#include "src/kernels/elementwise/elementwise.h"
#include "src/kernels/filter1d/filter1d.h"
#include "src/ops/alias_rows.h"
#include "src/ops/ndimage_line.h"
#include "src/ops/ndimage_weights.h"

namespace npfast {
namespace ndimage {

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

}  // namespace ndimage

namespace {

using ndimage::check_pass;

// Copied blocks: 128 bytes of lines per row. Blocks read in place: 4 KiB rows (a page of each
// row per visit), in bands of `band` positions (its rows stay in L2 for all the taps), or over
// whole lines (band 0) for a running sum carried from one position to the next.
ndimage::LinePass line_pass(int axis, int64_t size, int64_t origin, Border mode, double cval,
                            bool f32, int64_t band, double ns_per_element) {
  const int64_t size1 = size / 2, size2 = size - size1 - 1;
  const int64_t per_kib = f32 ? 256 : 128;
  return {axis,          size1 + origin, size2 - origin, mode,          cval,
          f32 ? 32 : 16, 4 * per_kib,    band,           ns_per_element};
}

using ndimage::f32_weights;
using ndimage::symmetry;

// Non-temporal stores for an output of at least kStreamBytes: each output line then goes to
// memory without first being read for ownership (a third of a streaming filter's traffic), but
// is no longer in the cache. Measured on the development machine (1 thread, CPU time per
// pixel): a copy's time per byte doubles between 3300^2 and 4000^2 float32 (87 and 128 MB read
// and written), where the data leaves the cache share this process gets (which varies with
// what else runs); streamed outputs were 10-50% slower up to 2500^2, at 3000^2 0.5 ns per
// pixel where plain stores took 0.45-0.73, faster from 3500^2.
// Earlier where the output is half the L3 a core shares (l3_cache_bytes(), from CPUID), i.e.
// input and output fill it: on Zen 5 (32 MiB per CCD) outputs from 16 MiB stream, as the
// min / max filters' (elementwise::kStreamOutputBytes): with plain stores 2048^2 float32 (in
// and out 32 MiB, the LLC) ran uniform_filter 5 and sobel 1.4-1.6x slower than streamed, back
// to back or cold (the report's 2048^2 step; docs/ndimage-speed.md "stream5"). The Xeon's
// 480 MiB shared L3 keeps 32 MiB.
constexpr int64_t kStreamBytes = int64_t{32} << 20;

// pair_fused's ring for planes of this size or more (any width): see there. 10 MiB: float32
// 1620^2, where the ring and no ring were even in a warm loop.
constexpr int64_t kRingBytes = int64_t{10} << 20;

bool streams(const View& out) {
  static const int64_t from = [] {
    const auto l3 = static_cast<int64_t>(l3_cache_bytes());
    return l3 > 0 ? std::min(kStreamBytes, l3 / 2) : kStreamBytes;
  }();
  return out.size() * static_cast<int64_t>(itemsize(out.dtype)) >= from;
}

template <class T>
void correlate1d_as(const View& input, const double* weights, int64_t size, int axis,
                    const View& out, Border mode, double cval, int64_t origin) {
  std::vector<T> w(weights, weights + size);
  const int sym = symmetry(weights, size);
  const filter1d::Corr1dFn<T> k =
      of<T>(kernels<filter1d::Table>().f32_corr1d_rows, kernels<filter1d::Table>().f64_corr1d_rows);
  const ndimage::LinePass p = line_pass(axis, size, origin, mode, cval, sizeof(T) == 4, 32,
                                        0.15 * static_cast<double>(sym ? size / 2 + 1 : size));
  if (ndimage::along_lines(input, axis)) {
    // Along the last axis (or over few lines) line by line, vectorised along them (on Zen 5
    // two output vectors a step, `_x2`: gaussian_filter1d sigma 2 along rows, 4000^2 cold,
    // 0.42-0.43 -> 0.38-0.39 CPU ns/px; docs/ndimage-speed.md "gauss7").
    const filter1d::Table& t = kernels<filter1d::Table>();
    const filter1d::Corr1dLineFn<T> kl =
        of<T>(tune_amd() ? t.f32_corr1d_line_x2 : t.f32_corr1d_line, t.f64_corr1d_line);
    ndimage::for_each_contiguous_line<T>(input, out, p, [&](const T* in, T* res, int64_t n) {
      kl(in, res, n, w.data(), size, sym);
    });
    return;
  }
  ndimage::for_each_line<T>(input, out, p,
                            [&](const T* const* in, T* const* res, int64_t n, int64_t lanes) {
                              k(in, res, n, lanes, w.data(), size, sym);
                            });
}

// Whether sums of fewer than 2^20 elements of dtype `d` (converted to double) are exact:
// integers of at most 32 bits (2^20 * 2^32 = 2^52).
bool exact_sums(DType d) {
  switch (d) {
    case DType::u8:
    case DType::i8:
    case DType::u16:
    case DType::i16:
    case DType::u32:
    case DType::i32:
      return true;
    default:
      return false;
  }
}

template <class T>
void uniform_as(const View& input, int64_t size, int axis, const View& out, Border mode,
                double cval, int64_t origin) {
  const filter1d::Uniform1dFn<T> k =
      of<T>(kernels<filter1d::Table>().f32_uniform1d, kernels<filter1d::Table>().f64_uniform1d);
  // Lines of integers of at most 32 bits (with an integer cval where the mode reads it) sum
  // exactly in double, in any order and from any restart: SciPy's running sum's bits either way.
  const bool exact =
      std::is_same_v<T, double> && exact_sums(input.dtype) && size < (int64_t{1} << 20) &&
      (mode != Border::fill || (cval == std::trunc(cval) && std::fabs(cval) <= 4294967296.0));
  // float32 sums restart every kReanchor positions, so bands of that many give the same bits
  // as whole lines; double keeps SciPy's one running sum per line unless its sums are exact and
  // the window small (each band sums its first window anew: a 20001-wide one made uint8 across
  // 20000 rows 50x SciPy's time, review27). Bands read rows of 4 KiB where whole lines read
  // strips of a few lanes from every row: uint8 uniform_filter1d(5) along axis 0, 2048^2, 1
  // thread 1.43-1.58 -> 0.82 ns/px (docs/ndimage-speed.md "int27").
  const bool banded = sizeof(T) == 4 || (exact && size <= filter1d::kDirectUniform);
  const ndimage::LinePass p = line_pass(axis, size, origin, mode, cval, sizeof(T) == 4,
                                        banded ? filter1d::kReanchor : 0, 0.5);
  if constexpr (std::is_same_v<T, double>) {
    if (ndimage::along_lines(input, axis)) {
      // double along the last axis (or few lines): SciPy's running sum along each line, no
      // transpose; exact lines with small windows take the window sums, which no add chain binds
      // (uint8 uniform_filter1d(5) along rows, 2048^2, 1 thread 2.08 -> 0.68 ns/px).
      const filter1d::Table& t = kernels<filter1d::Table>();
      const filter1d::Uniform1dLineFn<double> kl =
          exact && size <= filter1d::kDirectUniform ? t.f64_uniform1d_line : t.f64_uniform1d_run;
      ndimage::for_each_contiguous_line<T>(
          input, out, p, [&](const T* in, T* res, int64_t n) { kl(in, res, n, size); });
      return;
    }
  }
  if constexpr (std::is_same_v<T, float>) {
    // Short rows go side by side only where the lanes' sums are the same window sums
    // (kDirectRows), so the fused 3-D filter's rows keep the passes' bits.
    const bool lines = ndimage::along_lines(input, axis) ||
                       (axis == input.ndim - 1 && size > filter1d::kDirectRows);
    if (lines && size <= filter1d::kDirectUniform) {
      // float32 along the last axis (or few lines): direct window sums along the line, no
      // transpose.
      const filter1d::Uniform1dLineFn<float> kl = kernels<filter1d::Table>().f32_uniform1d_line;
      ndimage::for_each_contiguous_line<T>(
          input, out, p, [&](const T* in, T* res, int64_t n) { kl(in, res, n, size); });
      return;
    }
  }
  ndimage::for_each_line<T>(input, out, p,
                            [&](const T* const* in, T* const* res, int64_t n, int64_t lanes) {
                              k(in, res, n, lanes, size);
                            });
}

// pair_fused's rows copied alongside its pass along rows, by a horizontal kernel without a
// copying variant: after the band's rows. None where from or to is null (to: rows to prefetch
// only, pair_fused's in-place reads).
template <class T>
void copy_rows(const T* const* from, T* const* to, int64_t rows, int64_t count) {
  if (from == nullptr || to == nullptr) return;
  for (int64_t r = 0; r < rows; ++r)
    if (from[r]) std::memcpy(to[r], from[r], static_cast<size_t>(count) * sizeof(T));
}

// Two fused line passes over an N-D array whose last axis is contiguous in both views: one
// across rows (along axis `a`: vert(rows_in, rows_out, m, W) on m + bv + av row pointers
// extended as modev) and one along rows (horiz(ext, res, rows, count, from, to): for each of
// `rows` rows, count results res[r] from an extended run ext[r] of count + bh + ah elements,
// extended here as modeh, and where from is not null and from[r] is not, count elements
// copied from from[r] to to[r]; to null: from's rows are only to be prefetched, `ahead`),
// vertical first when rows_first. Bands of
// `band` positions along `a`; the rows a band needs from its neighbours are recomputed, so each
// output element is computed as by the two passes one after the other. In place (out is in),
// a block is a whole plane (all positions along `a`), first copied to scratch.
template <class T, class Vert, class Horiz>
void pair_fused(const View& in, const View& out, int a, bool rows_first, int64_t bv, int64_t av,
                Border modev, int64_t bh, int64_t ah, Border modeh, int64_t band_max, double cval,
                double ns_per_element, bool ahead, Vert&& vert, Horiz&& horiz) {
  const int last = in.ndim - 1;
  const int64_t n = in.shape[a], W = in.shape[last];
  const T cv = static_cast<T>(cval);
  const int64_t pitch = W + bh + ah;  // a padded row: bh extension, W elements, ah extension
  const int64_t e = bh + ah;          // the along-row filter's reach beyond its output
  const ndimage::OuterAxes outer_axes(in, a, last);
  const int64_t outer = outer_axes.size;
  const bool same = in.data == out.data;
  const int64_t band = same ? n : std::min(band_max, n), nbands = (n + band - 1) / band;
  const int64_t blocks = outer * nbands;
  // Rows a multiple of 4 KiB apart share their L1 sets, column for column: the pass across
  // rows, which reads a chunk of every row it spans at once, evicts its own rows when it spans
  // more than the 12 ways hold. Scratch rows then lie one cache line further apart, and the
  // input rows of a vertical-first pass spanning more than 8 rows are copied into such rows (a
  // ring: each row once, kept for the next band): gaussian sigma 2 on 1024- and 2048-wide
  // images 15-20% faster; a 5-row uniform filter was 30% slower with the copy. A band's
  // pass along rows copies the next band's new rows into the ring (horiz's from / to), so
  // their reads overlap its arithmetic: copied before the pass across rows, with nothing to
  // overlap, they made gaussian sigma 2 at 1024^2 / 2048^2 1.15-1.4x slower per pixel than
  // at 1000^2 / 2000^2 (docs/ndimage-speed.md, g2k).
  auto aliases = [](int64_t bytes) { return bytes % 4096 == 0; };
  const int64_t rp = W + (aliases(W * static_cast<int64_t>(sizeof(T))) ? 64 / sizeof(T) : 0);
  const int64_t R = band + bv + av;  // rows the pass across rows reads per band
  // Along rows first (not in place), the ring holds each row's along-row results instead, made
  // once: a band recomputing the R - band rows it shares with the previous one made gaussian
  // sigma 2 at 4000^2 along axes (1, 0) do twice the pass along rows.
  // A plane (the rows along `a`) of kRingBytes or more takes the ring at any width: the pass
  // across rows then reads its rows from L2, where it read each band's new rows from L3 or
  // memory as 16 concurrent 1 KiB runs, and the band's copy (after its pass along rows) reads
  // them one row after the other. gaussian sigma 2 float32 on a Zen 5 core, 1 thread, CPU ns
  // per pixel (docs/ndimage-speed.md, gauss5): cold 4000^2 0.50-0.52 -> 0.44-0.47, 8000^2
  // 0.58-0.59 -> 0.41-0.46; in a warm loop 1800^2 0.58 -> 0.52, 1600^2 even. Smaller planes
  // stay in cache in a loop, where the copy is extra work (1300^2: 0.35 -> 0.40), and a
  // volume's small planes copy all the rows of each plane's first band with nothing to overlap
  // (160^3 cold: 1.07-1.10 -> 1.21-1.28 with the whole volume's size as the rule).
  const bool big = n * W * static_cast<int64_t>(sizeof(T)) >= kRingBytes;
  // But where horiz prefetches the next band's rows (`ahead`: from with to null) and the input
  // rows share their offset into a 64-byte line without aliasing 4 KiB, the pass across rows
  // reads them in place: its loads whole lines past a common head (corr1d_rows), the band's
  // new rows brought into cache by the previous band's pass along rows, and no copy, which
  // was a quarter of the time after that prefetch. gaussian sigma 2 float32, CPU ns/px
  // (docs/ndimage-speed.md "gauss6"): 4000^2 cold 1 thread 0.37 -> 0.34-0.35, 2 threads 0.40 ->
  // 0.36; 8000^2 0.41-0.49 -> 0.39-0.44. With rows at two offsets (3000 floats wide) the split
  // loads made it 6-9% slower than the ring: those keep it.
  const bool in_place =
      ahead && rows_first && !same && big && in.strides[a] % 64 == 0 && !aliases(in.strides[a]);
  const bool ring =
      !same && !in_place && (!rows_first || (bv + av + 1 > 8 && (aliases(in.strides[a]) || big)));
  // Scratch per block: rows_first, the band's vertical results as padded rows; otherwise (in
  // place) the along-row results of every row the band reads; one padded row. Each with a line
  // more, to start its rows as far into a line as the output's (`lead`).
  constexpr int64_t E = 64 / static_cast<int64_t>(sizeof(T));  // elements in a 64-byte line
  const int64_t tsize = rows_first ? band * pitch + E : ring ? 0 : R * rp + E;
  const double ns = ns_per_element * static_cast<double>(band * W);
  parallel_for(blocks, grain_for(blocks, ns), [&](int64_t b0, int64_t b1) {
    Buffer<T> tmp(static_cast<size_t>(tsize)), fill(static_cast<size_t>(W));
    Buffer<T> line(static_cast<size_t>(rows_first ? 0 : pitch));
    Buffer<const T*> rin(static_cast<size_t>(R));
    Buffer<T*> rout(static_cast<size_t>(band));
    Buffer<T> plane(static_cast<size_t>(same ? n * rp : 0));
    // The ring: slot s holds the row of band position held[s] of plane ring_o.
    Buffer<T> rows(static_cast<size_t>(ring ? R * rp + E : 0));
    Buffer<int64_t> held(static_cast<size_t>(ring ? R : 0));
    // The next band's rows the pass along rows copies into the ring: row r's from[r] to to[r].
    Buffer<const T*> from(static_cast<size_t>(ring || in_place ? band : 0));
    Buffer<T*> to(static_cast<size_t>(ring ? band : 0));
    int64_t ring_o = -1;
    // The ring row of band position pos (plane ring_o); claim marks it held, true where it was
    // not: consecutive positions take distinct slots, so a band's first R - band rows are the
    // previous band's last ones, already there.
    int64_t ring_lead = 0;  // the plane's `lead` for a ring of results, else 0
    auto ring_row = [&](int64_t pos) { return rows.get() + ring_lead + ((pos % R) + R) % R * rp; };
    auto claim = [&](int64_t pos) {
      int64_t& h = held[((pos % R) + R) % R];
      const bool fresh = h != pos;
      h = pos;
      return fresh;
    };
    std::fill(fill.get(), fill.get() + W, cv);
    for (int64_t blk = b0; blk < b1; ++blk) {
      int64_t o = blk / nbands;
      const int64_t i0 = (blk % nbands) * band, m = std::min(band, n - i0);
      const char* src = static_cast<const char*>(in.data);
      char* dst = static_cast<char*>(out.data);
      outer_axes.offsets(in, out, o, &src, &dst);
      auto out_row = [&](int64_t k) { return reinterpret_cast<T*>(dst + k * out.strides[a]); };
      // The band's first output row's offset into a 64-byte line (0 off T's alignment): the
      // rows the pass into the output reads start as far into a line, so that where a streamed
      // output row is stored from its first whole line on (filter1d generic.h: head_to_line),
      // the kernel's loads start on lines too (4000^2 gaussian into a 16-byte-aligned output,
      // loads split across lines: 3-4% slower).
      const auto at = reinterpret_cast<uintptr_t>(out_row(i0));
      const int64_t lead = at % sizeof(T) == 0 ? static_cast<int64_t>(at % 64 / sizeof(T)) : 0;
      if (same)
        for (int64_t k = 0; k < n; ++k)
          std::memcpy(plane.get() + k * rp, src + k * in.strides[a],
                      static_cast<size_t>(W) * sizeof(T));
      auto in_row = [&](int64_t k) {
        return same ? plane.get() + k * rp : reinterpret_cast<const T*>(src + k * in.strides[a]);
      };
      if (ring && ring_o != o) {
        std::fill(held.get(), held.get() + R, std::numeric_limits<int64_t>::min());
        ring_o = o;
        ring_lead = rows_first ? 0 : lead;  // one for the plane: rows stay for the next band
      }
      // Rows of the vertical pass's input: the band's positions with its extension.
      for (int64_t r = 0; r < m + bv + av; ++r) {
        const int64_t pos = i0 + r - bv, k = map_index(pos, n, modev);
        rin[r] = k < 0 ? fill.get() : in_row(k);
        if (ring && rows_first && k >= 0) {
          T* dst_row = ring_row(pos);
          if (claim(pos)) std::memcpy(dst_row, rin[r], static_cast<size_t>(W) * sizeof(T));
          rin[r] = dst_row;
        }
      }
      if (rows_first) {
        // Vertical into padded rows, then along the band's padded rows into the output.
        T* const t0 = tmp.get() + lead;
        for (int64_t i = 0; i < m; ++i) rout[i] = t0 + i * pitch + bh;
        vert(rin.get(), rout.get(), m, W);
        for (int64_t i = 0; i < m; ++i) {
          T* padded = t0 + i * pitch;
          ndimage::extend_lines(padded, W, bh, ah, 1, modeh, cv);
          rin[i] = padded;
          rout[i] = out_row(i0 + i);
        }
        // The next band's new rows (at most m: it shares R - band rows with this one), when
        // this thread does it next: into the ring, whose slots of this band's first rows are
        // free now, or (in place) to prefetch, those past the rows this band reads.
        int64_t next = 0;
        if ((ring || in_place) && blk + 1 < b1 && (blk + 1) / nbands == o) {
          const int64_t j0 = i0 + band, mj = std::min(band, n - j0);
          for (int64_t r = 0; r < mj + bv + av && next < m; ++r) {
            const int64_t pos = j0 + r - bv, k = map_index(pos, n, modev);
            if (k < 0 || (ring ? !claim(pos) : pos < i0 + m + av)) continue;
            if (ring) to[next] = ring_row(pos);
            from[next++] = in_row(k);
          }
          for (int64_t i = next; i < m; ++i) from[i] = nullptr;
        }
        horiz(rin.get(), rout.get(), m, W, next > 0 ? from.get() : nullptr,
              ring ? to.get() : nullptr);
      } else {
        auto horiz1 = [&](const T* ext, T* res, int64_t count) {
          horiz(&ext, &res, 1, count, nullptr, nullptr);
        };
        // Along every row the band's vertical pass reads (its neighbours' too), then vertical.
        for (int64_t r = 0; r < m + bv + av; ++r) {
          if (rin[r] == fill.get()) continue;  // the first pass's output is extended by cval
          const int64_t pos = i0 + r - bv;
          T* res = ring ? ring_row(pos) : tmp.get() + lead + r * rp;
          if (ring && !claim(pos)) {  // made by the previous band
            rin[r] = res;
            continue;
          }
          if (W > 2 * e && W >= 1024) {
            // The interior straight from the row; only the ends through padded pieces (on
            // shorter rows the three calls cost more than the copy: sobel 256^2 15% slower).
            const T* row = rin[r];
            auto ext = [&](int64_t k) {
              const int64_t j = map_index(k, W, modeh);
              return j < 0 ? cv : row[j];
            };
            T* piece = line.get();
            for (int64_t k = 0; k < bh + e; ++k) piece[k] = ext(k - bh);
            horiz1(piece, res, bh);
            horiz1(row, res + bh, W - e);
            for (int64_t k = 0; k < ah + e; ++k) piece[k] = ext(W - ah - bh + k);
            horiz1(piece, res + W - ah, ah);
          } else {
            T* padded = line.get();
            std::memcpy(padded + bh, rin[r], static_cast<size_t>(W) * sizeof(T));
            ndimage::extend_lines(padded, W, bh, ah, 1, modeh, cv);
            horiz1(padded, res, W);
          }
          rin[r] = res;
        }
        for (int64_t i = 0; i < m; ++i) rout[i] = out_row(i0 + i);
        vert(rin.get(), rout.get(), m, W);
      }
    }
  });
}

// correlate1d_pair fused, in bands of 16 rows.
template <class T>
void correlate_pair_fused(const View& in, const double* w0d, int64_t n0, int axis0, Border mode0,
                          const double* w1d, int64_t n1, int axis1, Border mode1, const View& out,
                          double cval) {
  const bool rows_first = axis1 == in.ndim - 1;  // vertical (across rows) pass first
  const std::vector<T> w0(w0d, w0d + n0), w1(w1d, w1d + n1);
  const int sym0 = symmetry(w0d, n0), sym1 = symmetry(w1d, n1);
  const std::vector<T>& wv = rows_first ? w0 : w1;
  const std::vector<T>& wh = rows_first ? w1 : w0;
  const int64_t nv = rows_first ? n0 : n1, nh = rows_first ? n1 : n0;
  const int symv = rows_first ? sym0 : sym1, symh = rows_first ? sym1 : sym0;
  const filter1d::Table& t = kernels<filter1d::Table>();
  // The pass that writes the output stores non-temporally into a large float32 output.
  const bool nt = streams(out);
  const filter1d::Corr1dFn<T> kv = nt && !rows_first ? of<T>(t.f32_corr1d_nt, t.f64_corr1d_rows)
                                                     : of<T>(t.f32_corr1d_rows, t.f64_corr1d_rows);
  // On Zen 5 the passes along rows two output vectors a step (`_x2`, the same bits): alone in
  // L1 5.1 -> 7.1 G elements/s, streamed (16 x 4000 into memory) 6.4 -> 6.5; gaussian sigma 2
  // float32 4000^2 cold, 1 thread, CPU ns/px 0.32-0.36 -> 0.31-0.32, 2048^2 warm even
  // (docs/ndimage-speed.md "gauss7").
  const bool x2 = tune_amd();
  const filter1d::Corr1dLineFn<T> kh =
      nt && rows_first ? of<T>(t.f32_corr1d_line_nt, t.f64_corr1d_line)
                       : of<T>(x2 ? t.f32_corr1d_line_x2 : t.f32_corr1d_line, t.f64_corr1d_line);
  const filter1d::Corr1dLinesFn<float> klines =
      x2 ? t.f32_corr1d_lines_nt_x2 : t.f32_corr1d_lines_nt;
  const filter1d::Corr1dLineCopyFn<T> kc = of<T>(t.f32_corr1d_line_copy, t.f64_corr1d_line_copy);
  // A band streamed into the output goes through f32_corr1d_lines_nt: its rows one by one and
  // one fence after the band, where a fence a row waits for each row's stores to drain.
  const bool lines = std::is_same_v<T, float> && nt && rows_first;
  // The pass along rows first over an image far larger than the cache reads each input row
  // from memory once, as one stream: the hardware prefetcher alone kept it waiting (gaussian
  // sigma 2 at 4000^2 along axes (1, 0), that pass alone: 0.88 ns per pixel against 0.37 with
  // its input in cache), so each piece of kFarPiece outputs prefetches the input kFarAhead
  // bytes on (0.45; 1 / 4 / 8 KiB ahead: 0.46 / 0.49 / 0.51, pieces of 128: 0.48).
  const bool far = nt && !rows_first;
  auto line_from_memory = [&](const T* ext, T* res, int64_t count) {
    constexpr int64_t kFarPiece = 256, kFarAhead = 2048;
    for (int64_t j = 0; j < count; j += kFarPiece) {
      const char* p = reinterpret_cast<const char*>(ext + j) + kFarAhead;
      for (int64_t b = 0; b < kFarPiece * static_cast<int64_t>(sizeof(T)); b += 64)
        __builtin_prefetch(p + b);
      kh(ext + j, res + j, std::min(kFarPiece, count - j), wh.data(), nh, symh);
    }
  };
  // Bands of 16 rows; 8 for a streamed float32 output whose rows are over 16 KiB: a band's
  // input rows, its vertical results and the next band's prefetched rows then stay within L2
  // (1 MiB here). gaussian sigma 2, cold, CPU ns/px, one process (docs/ndimage-speed.md
  // "gauss6"): 8000^2 1 thread 0.39-0.40 -> 0.31-0.33, 2 threads 0.40-0.48 -> 0.30-0.40;
  // 6000^2 0.47 -> 0.41, 2 threads 0.39 -> 0.36; 5000^2 0.37 -> 0.36, 0.41 -> 0.39. 4000^2
  // (16000-byte rows) was even within the noise, 2048^2 / 2400^2 16 rows slightly ahead.
  const int64_t row_bytes = in.shape[in.ndim - 1] * static_cast<int64_t>(sizeof(T));
  const int64_t band = lines && row_bytes > (int64_t{16} << 10) ? 8 : 16;
  pair_fused<T>(
      in, out, rows_first ? axis0 : axis1, rows_first, nv / 2, nv - nv / 2 - 1,
      rows_first ? mode0 : mode1, nh / 2, nh - nh / 2 - 1, rows_first ? mode1 : mode0, band, cval,
      0.15 * static_cast<double>(nv + nh) / 2, lines,
      [&](const T* const* rin, T* const* rout, int64_t m, int64_t W) {
        kv(rin, rout, m, W, wv.data(), nv, symv);
      },
      [&](const T* const* ext, T* const* res, int64_t rows, int64_t count, const T* const* from,
          T* const* to) {
        if constexpr (std::is_same_v<T, float>)
          if (lines) {
            // The rows read next (copied into the ring, or read in place) are prefetched as
            // the band's lines are made (`next`).
            klines(ext, res, rows, count, wh.data(), nh, symh, from);
            return copy_rows(from, to, rows, count);
          }
        // Rows to copy come only with the pass along rows last (rows_first): kh is then the
        // plain line kernel (a streamed float32 output took f32_corr1d_lines_nt above), as kc.
        for (int64_t r = 0; r < rows; ++r) {
          if (from && from[r])
            kc(ext[r], res[r], count, wh.data(), nh, symh, from[r], to[r]);
          else if (far)
            line_from_memory(ext[r], res[r], count);
          else
            kh(ext[r], res[r], count, wh.data(), nh, symh);
        }
      });
}

// The row-by-row fused filters' loop (uniform_rows, sep3_rows): the output rows along axis
// `a`, plane by plane over the other outer axes, in blocks of about 256 KiB of output (many
// blocks for the threads; the few rows a block reads before its first are a small share of
// its reads). Each thread makes its scratch with make_state(), then calls rows(state, src, dst,
// r0, r1) for each block's output rows [r0, r1) of the plane at src / dst; a streamed output is
// fenced once a chunk.
template <class MakeState, class Rows>
void for_each_row(const View& in, const View& out, int a, double ns_per_element, bool nt,
                  MakeState&& make_state, Rows&& rows_of) {
  const int last = in.ndim - 1;
  const int64_t H = in.shape[a], W = in.shape[last];
  const ndimage::OuterAxes outer_axes(in, a, last);
  const int64_t rows = std::clamp<int64_t>((int64_t{256} << 10) / (W * 4), 8, 256);
  const int64_t per_plane = (H + rows - 1) / rows;
  const int64_t blocks = outer_axes.size * per_plane;
  parallel_for(blocks, grain_for(blocks, ns_per_element * static_cast<double>(rows * W)),
               [&](int64_t c0, int64_t c1) {
                 auto state = make_state();
                 for (int64_t cb = c0; cb < c1; ++cb) {
                   const char* src = static_cast<const char*>(in.data);
                   char* dst = static_cast<char*>(out.data);
                   outer_axes.offsets(in, out, cb / per_plane, &src, &dst);
                   const int64_t r0 = (cb % per_plane) * rows, r1 = std::min(r0 + rows, H);
                   rows_of(state, src, dst, r0, r1);
                 }
                 if (nt) elementwise::stream_fence();  // before the chunk is reported done
               });
}

// The fused 2-D uniform filter with window sums across rows (size0 <= kDirectRows), row by
// row: each output row sums its k0 input rows (read in place; k0 - 1 of them the previous
// rows', in L1 / L2) and slides the window along the row in registers (f32_uniform2d_rows,
// several rows a call), so the
// row's reads and its writes interleave, where the band scheme (pair_fused) ran a read phase
// and then a write phase through a band of column sums. Border outputs are then summed from
// the column sums the kernel leaves in `v`, extended as extend_lines would. Every output is
// the same sum in the same order as by pair_fused, so the same bits.
void uniform_rows(const View& in, const View& out, int a, int64_t k0, int64_t b0, Border mode0,
                  int64_t k1, int64_t b1, Border mode1, double cval) {
  const int64_t H = in.shape[a], W = in.shape[in.ndim - 1], a1 = k1 - 1 - b1;
  const float cv = static_cast<float>(cval);
  const filter1d::Table& t = kernels<filter1d::Table>();
  const bool nt = streams(out);
  // Streamed outputs: up to kGroup output rows a kernel call (f32_uniform2d_rows), each input
  // row loaded once for the rows that share it (k0 + 3 row loads per 4 output rows, not 4 k0):
  // size 5, cold, 1 thread CPU ns/px, 1 / 4 rows a call, 4000^2 0.61 / 0.50, 8000^2 0.60 /
  // 0.46 (copy 0.35). Outputs in cache stay one row a call (warm 2048^2: 0.41-0.42 -> 0.44
  // four a call; 2500^2 0.41-0.44 -> 0.40-0.42).
  constexpr int64_t kGroup = 4;
  const int64_t group = nt ? kGroup : 1;
  // Streamed rows in the 4 KiB alias of the rows they read are made in a scratch
  // (alias_rows.h) with plain stores, then streamed out.
  const bool aliased = nt && ops::streamed_rows_alias(in, out, a, b0, k0 - 1 - b0, kGroup);
  const filter1d::Uniform2dRowsFn k2 =
      nt && !aliased ? t.f32_uniform2d_rows_nt : t.f32_uniform2d_rows;
  struct State {
    Buffer<float> v, fill;
    Buffer<const float*> rin;
    ops::AliasedRows alias;
  };
  auto make_state = [&] {
    State s{Buffer<float>(static_cast<size_t>(kGroup * W)),
            Buffer<float>(static_cast<size_t>(mode0 == Border::fill ? W : 0)),
            Buffer<const float*>(static_cast<size_t>(k0 + kGroup - 1)),
            aliased ? ops::AliasedRows(kGroup, W * 4, reinterpret_cast<uintptr_t>(in.data))
                    : ops::AliasedRows()};
    std::fill(s.fill.get(), s.fill.get() + s.fill.size(), cv);
    return s;
  };
  // Output rows [i, i + m): input rows i - b0 .. i + m - 2 + k0 - b0.
  auto rows = [&](State& s, const char* src, char* dst, int64_t i, int64_t m) {
    for (int64_t q = 0; q < k0 + m - 1; ++q) {
      const int64_t k = map_index(i + q - b0, H, mode0);
      s.rin[q] = k < 0 ? s.fill.get() : reinterpret_cast<const float*>(src + k * in.strides[a]);
    }
    float* o[kGroup];
    float* ob[kGroup];
    float* vr[kGroup];
    for (int64_t r = 0; r < m; ++r) {
      o[r] = s.alias.row(r, reinterpret_cast<float*>(dst + (i + r) * out.strides[a]));
      ob[r] = o[r] + b1;
      vr[r] = s.v.get() + r * W;
    }
    k2(s.rin.get(), ob, m, W - k1 + 1, k0, k1, vr);
    // Border outputs: [0, b1) read columns [-b1, k1 - 1 - b1), [W - a1, W) columns
    // [W - k1 + 1, W + a1).
    for (int64_t r = 0; r < m; ++r) {
      const float* v = vr[r];
      auto border = [&](int64_t first, int64_t count, float* res) {
        // A border's extended run: at most 2 * k1 - 2 values.
        float piece[2 * filter1d::kDirectUniform];
        for (int64_t e = 0; e < count + k1 - 1; ++e) {
          const int64_t c = map_index(first + e, W, mode1);
          piece[e] = c < 0 ? cv : v[c];
        }
        t.f32_uniform1d_line(piece, res, count, k1);
      };
      if (b1 > 0) border(-b1, b1, o[r]);
      if (a1 > 0) border(W - k1 + 1, a1, o[r] + W - a1);
    }
    if (s.alias.on()) s.alias.flush(dst + i * out.strides[a], out.strides[a], m);
  };
  for_each_row(in, out, a, 0.5, nt, make_state,
               [&](State& s, const char* src, char* dst, int64_t r0, int64_t r1) {
                 for (int64_t i = r0; i < r1; i += group)
                   rows(s, src, dst, i, std::min(group, r1 - i));
               });
}

// Rows of at least this many bytes take sep3_rows (1-thread CPU ns per pixel, sobel:
// 1024^2 0.41-0.43 -> 0.40-0.41, 2048^2 0.37 -> 0.32, 4000^2 0.60-0.61 -> 0.36; 512^2 0.45
// -> 0.48-0.50, so narrower rows keep pair_fused's bands).
constexpr int64_t kSep3RowBytes = 4096;

// correlate1d_pair for two 3-tap (anti)symmetric float32 passes, along rows first (sobel,
// prewitt along the last axis), row by row: f32_sep3_rows makes up to kGroup output rows a
// call from their input rows read in place, nothing through scratch, so the rows' reads and
// writes interleave. Columns 0 and W - 1 (whose first pass reads the extension) and rows with a
// cval neighbour (whose first-pass output is cval itself) go through the line kernel on
// extended pieces and corr1d_rows on one lane, as pair_fused: the same sums, the same bits.
void sep3_rows(const View& in, const View& out, int a, const float* wh, int symh, Border modeh,
               const float* wv, int symv, Border modev, double cval) {
  const int64_t H = in.shape[a], W = in.shape[in.ndim - 1];
  const float cv = static_cast<float>(cval);
  const filter1d::Table& t = kernels<filter1d::Table>();
  const bool nt = streams(out);
  // Streamed outputs: up to kGroup output rows a kernel call (f32_sep3_rows), each input row's
  // along-row results made once for the rows that share it: 4000^2 cold, 1 thread CPU ns/px,
  // 1 / 2 / 4 / 8 rows a call 0.56 / 0.47 / 0.42 / 0.42, 8000^2 (1 / 4 / 8) 0.55 / 0.35 / 0.36
  // (copy 0.35). Outputs in cache stay one row a call: four measured slower there (warm, 1
  // thread: 1000^2-2048^2 0.39-0.50 -> 0.47-0.70; the cause not found, as minmax's pairs).
  constexpr int64_t kGroup = 4;
  // Streamed rows in the 4 KiB alias of the rows they read are made in a scratch
  // (alias_rows.h) with plain stores, then streamed out.
  const bool aliased = nt && ops::streamed_rows_alias(in, out, a, 1, 1, kGroup);
  const filter1d::Sep3RowsFn k3 = nt && !aliased ? t.f32_sep3_rows_nt : t.f32_sep3_rows;
  const float whf[3] = {wh[0], wh[1], wh[2]}, wvf[3] = {wv[0], wv[1], wv[2]};
  // Scratch for rows with a cval neighbour (modev fill only): three first-pass rows, a padded
  // input row, a cval row; the aliased rows' scratch.
  struct State {
    Buffer<float> hrows, padded, fill;
    ops::AliasedRows alias;
  };
  const size_t filled_w = static_cast<size_t>(modev == Border::fill ? W : 0);
  auto make_state = [&] {
    State s{Buffer<float>(3 * filled_w), Buffer<float>(filled_w + 2), Buffer<float>(filled_w),
            aliased ? ops::AliasedRows(kGroup, W * 4, reinterpret_cast<uintptr_t>(in.data))
                    : ops::AliasedRows()};
    std::fill(s.fill.get(), s.fill.get() + filled_w, cv);
    return s;
  };
  // Output rows with a cval neighbour: whole first-pass rows (cval rows as cval), then across
  // them.
  auto filled_row = [&](State& s, const float* const* x, float* o) {
    const float* hp[3];
    for (int r = 0; r < 3; ++r) {
      if (!x[r]) {
        hp[r] = s.fill.get();
        continue;
      }
      float* h = s.hrows.get() + r * W;
      std::memcpy(s.padded.get() + 1, x[r], static_cast<size_t>(W) * 4);
      ndimage::extend_lines(s.padded.get(), W, 1, 1, 1, modeh, cv);
      t.f32_corr1d_line(s.padded.get(), h, W, whf, 3, symh);
      hp[r] = h;
    }
    t.f32_corr1d_rows(hp, &o, 1, W, wvf, 3, symv);
  };
  const int64_t group = nt ? kGroup : 1;
  for_each_row(in, out, a, 0.3, nt, make_state,
               [&](State& s, const char* src, char* dst, int64_t r0, int64_t r1) {
                 auto input_row = [&](int64_t i) -> const float* {
                   const int64_t k = map_index(i, H, modev);
                   return k < 0 ? nullptr : reinterpret_cast<const float*>(src + k * in.strides[a]);
                 };
                 auto output_row = [&](int64_t i) {
                   return reinterpret_cast<float*>(dst + i * out.strides[a]);
                 };
                 for (int64_t i = r0; i < r1;) {
                   const float* x[kGroup + 2];
                   bool filled = false;
                   for (int r = 0; r < 3; ++r) {
                     x[r] = input_row(i + r - 1);
                     filled |= !x[r];
                   }
                   if (filled) {
                     filled_row(s, x, output_row(i));
                     ++i;
                     continue;
                   }
                   // The rows from i on whose three input rows are all in the image.
                   int64_t m = 1;
                   while (m < group && i + m < r1 && (x[m + 2] = input_row(i + m + 1)) != nullptr)
                     ++m;
                   const float* centre[kGroup + 2];  // column 1 of each input row
                   float* o[kGroup];
                   float* oc[kGroup];
                   for (int64_t r = 0; r < m + 2; ++r) centre[r] = x[r] + 1;
                   for (int64_t r = 0; r < m; ++r)
                     o[r] = s.alias.row(r, output_row(i + r)), oc[r] = o[r] + 1;
                   k3(centre, oc, m, W - 2, whf, symh, wvf, symv);
                   // Columns 0 and W - 1: the same kernel on each input row's extended piece
                   // (its one-by-one outputs: the same sums as the line and rows kernels).
                   for (int64_t c : {int64_t{0}, W - 1}) {
                     float piece[kGroup + 2][3];
                     const float* pc[kGroup + 2];
                     float* at[kGroup];
                     for (int64_t q = 0; q < m + 2; ++q) {
                       for (int e = 0; e < 3; ++e) {
                         const int64_t k = map_index(c - 1 + e, W, modeh);
                         piece[q][e] = k < 0 ? cv : x[q][k];
                       }
                       pc[q] = piece[q] + 1;
                     }
                     for (int64_t r = 0; r < m; ++r) at[r] = o[r] + c;
                     t.f32_sep3_rows(pc, at, m, 1, whf, symh, wvf, symv);
                   }
                   if (s.alias.on()) s.alias.flush(output_row(i), out.strides[a], m);
                   i += m;
                 }
               });
}

// Fused passes in place copy one plane (the axes `a` and last) per block: worth it while a
// plane stays in cache (a volume's slices), not for a whole large image.
bool fits_in_place(const View& input, const View& out, int a) {
  constexpr int64_t kMaxPlaneBytes = int64_t{2} << 20;
  return input.data != out.data || input.shape[a] * input.shape[input.ndim - 1] *
                                           static_cast<int64_t>(itemsize(input.dtype)) <=
                                       kMaxPlaneBytes;
}

// float32 arithmetic only when nothing wider is read or written.
bool in_f32(const View& input, const View& out) {
  return input.dtype == DType::f32 && out.dtype == DType::f32;
}

}  // namespace

void correlate1d_pair(const View& input, const double* w0, int64_t n0, int axis0, Border mode0,
                      const double* w1, int64_t n1, int axis1, Border mode1, const View& out,
                      double cval) {
  check_pass(input, out, axis0, n0, 0, "len(weights)");
  check_pass(input, out, axis1, n1, 0, "len(weights)");
  const int last = input.ndim - 1;
  const bool fuse = (axis0 == last) != (axis1 == last) && input.dtype == out.dtype &&
                    (input.dtype == DType::f64 ||
                     (input.dtype == DType::f32 && f32_weights(w0, n0) && f32_weights(w1, n1))) &&
                    input.strides[last] == static_cast<int64_t>(itemsize(input.dtype)) &&
                    out.strides[last] == input.strides[last] && input.shape[last] >= 8 &&
                    !input.empty() && fits_in_place(input, out, axis0 == last ? axis1 : axis0);
  if (!fuse) {
    // The second pass in place across rows would take whole lines (for_each_line: a band
    // would read rows its neighbour band rewrote), strips of a few lanes down every row of a
    // large image; from a scratch array holding the first pass's result (out's dtype: the same
    // values) it runs in bands. sobel, 1 thread, ns/px: uint8 1024^2 1.63 -> 1.19, 4000^2
    // 2.31 -> 1.49; uint16 4000^2 3.15 -> 1.80 (docs/ndimage-speed.md "pair28").
    if (axis1 != last && !out.empty()) {
      Buffer<char> scratch(static_cast<size_t>(out.size()) * itemsize(out.dtype));
      View mid = out;
      mid.data = scratch.get();
      views::set_c_strides(&mid);
      correlate1d(input, w0, n0, axis0, mid, mode0, cval, 0);
      correlate1d(mid, w1, n1, axis1, out, mode1, cval, 0);
      return;
    }
    correlate1d(input, w0, n0, axis0, out, mode0, cval, 0);
    correlate1d(out, w1, n1, axis1, out, mode1, cval, 0);
  } else if (input.dtype == DType::f32 && axis0 == last && n0 == 3 && n1 == 3 &&
             symmetry(w0, 3) != 0 && symmetry(w1, 3) != 0 && input.data != out.data &&
             input.shape[last] * 4 >= kSep3RowBytes) {
    const float wh[3] = {static_cast<float>(w0[0]), static_cast<float>(w0[1]),
                         static_cast<float>(w0[2])};
    const float wv[3] = {static_cast<float>(w1[0]), static_cast<float>(w1[1]),
                         static_cast<float>(w1[2])};
    sep3_rows(input, out, axis1, wh, symmetry(w0, 3), mode0, wv, symmetry(w1, 3), mode1, cval);
  } else if (input.dtype == DType::f32) {
    correlate_pair_fused<float>(input, w0, n0, axis0, mode0, w1, n1, axis1, mode1, out, cval);
  } else {
    correlate_pair_fused<double>(input, w0, n0, axis0, mode0, w1, n1, axis1, mode1, out, cval);
  }
}

void correlate1d(const View& input, const double* weights, int64_t size, int axis, const View& out,
                 Border mode, double cval, int64_t origin) {
  check_pass(input, out, axis, size, origin, "len(weights)");
  if (in_f32(input, out) && f32_weights(weights, size))
    correlate1d_as<float>(input, weights, size, axis, out, mode, cval, origin);
  else
    correlate1d_as<double>(input, weights, size, axis, out, mode, cval, origin);
}

// float32 windows wider than this sum in double, SciPy's running sum (so SciPy's bits, its
// NaN tails included): the float32 running sum restarts every kReanchor positions and sums
// each restart's window anew, size / kReanchor adds an element, so a 20001-wide window over
// (20000, 256) took 1.86 s against SciPy's 50 ms (review27); in double it needs no restart.
// 256: across 2000^2 float32 rows, 1 thread, the float32 sums took 4.2 ms at 257 (double
// 7.6), 6.1 at 513 (8.2), 22 at 1025 (8.1); along rows both ran SciPy's speed from 33 up.
constexpr int64_t kWideUniform = 256;

void uniform_filter_pair(const View& input, int64_t size0, int axis0, Border mode0, int64_t origin0,
                         int64_t size1, Border mode1, int64_t origin1, const View& out,
                         double cval) {
  check_pass(input, out, axis0, size0, origin0, "size");
  check_pass(input, out, input.ndim - 1, size1, origin1, "size");
  const int last = input.ndim - 1;
  const bool fuse = axis0 != last && in_f32(input, out) && input.strides[last] == 4 &&
                    out.strides[last] == 4 && input.shape[last] >= 8 && size0 <= kWideUniform &&
                    size1 <= filter1d::kDirectUniform && !input.empty() &&
                    fits_in_place(input, out, axis0);
  if (!fuse) {
    uniform_filter1d(input, size0, axis0, out, mode0, cval, origin0);
    uniform_filter1d(out, size1, last, out, mode1, cval, origin1);
    return;
  }
  const int64_t b0 = size0 / 2 + origin0, b1 = size1 / 2 + origin1;
  // Window sums across rows whose size0 + 1 input and output rows overflow kRowsInL1 go row by
  // row (uniform_rows; not in place: it reads the input rows where they lie). 1-thread CPU time
  // per pixel, size 5: 3000^2 0.70-0.73 -> 0.51-0.54 ns, 4000^2 0.74-0.76 -> 0.58-0.61; even
  // at 1024^2-2048^2; narrower rows stay in bands (256^2 and 512^2 were 15-25% slower row by
  // row: the per-row head, tail and border outputs).
  constexpr int64_t kRowsInL1 = int64_t{32} << 10;
  if (size0 <= filter1d::kDirectRows && input.data != out.data &&
      (size0 + 1) * input.shape[last] * 4 > kRowsInL1 && input.shape[last] >= 2 * size1) {
    uniform_rows(input, out, axis0, size0, b0, mode0, size1, b1, mode1, cval);
    return;
  }
  const filter1d::Table& t = kernels<filter1d::Table>();
  // Window sums (size0 <= kDirectRows) carry nothing from row to row: bands of
  // kUniformBandBytes of vertical results, which stay in L2 for the horizontal pass (64 rows
  // of a 4000-wide image did not: 1 MiB of results beside 1 MiB of input rows). Running sums:
  // bands of kReanchor rows, restarting where the unfused pass's do.
  constexpr int64_t kUniformBandBytes = int64_t{256} << 10;
  const int64_t pitch_bytes = (input.shape[last] + size1 - 1) * 4;
  const int64_t band =
      size0 <= filter1d::kDirectRows
          ? std::clamp<int64_t>(kUniformBandBytes / pitch_bytes, 1, filter1d::kReanchor)
          : filter1d::kReanchor;
  const filter1d::Uniform1dLineFn<float> kh =
      streams(out) ? t.f32_uniform1d_line_nt : t.f32_uniform1d_line;
  pair_fused<float>(
      input, out, axis0, true, b0, size0 - 1 - b0, mode0, b1, size1 - 1 - b1, mode1, band, cval,
      1.0, false,
      [&](const float* const* rin, float* const* rout, int64_t m, int64_t W) {
        t.f32_uniform1d(rin, rout, m, W, size0);
      },
      [&](const float* const* ext, float* const* res, int64_t rows, int64_t count,
          const float* const* from, float* const* to) {
        for (int64_t r = 0; r < rows; ++r) kh(ext[r], res[r], count, size1);
        copy_rows(from, to, rows, count);
      });
}

void uniform_filter1d(const View& input, int64_t size, int axis, const View& out, Border mode,
                      double cval, int64_t origin) {
  check_pass(input, out, axis, size, origin, "size");
  // float32 past the direct window sums runs its running sum on lines side by side, a lane
  // each: over fewer lines than a vector's lanes most lanes idle, and SciPy's chain along each
  // line in double is faster (review28: (3, 300000) size 65 along rows 4.9-8.2 ms, SciPy's
  // 1.9-2.7).
  const bool few = size > filter1d::kDirectUniform && ndimage::few_lines(input, axis);
  if (in_f32(input, out) && size <= kWideUniform && !few)
    uniform_as<float>(input, size, axis, out, mode, cval, origin);
  else
    uniform_as<double>(input, size, axis, out, mode, cval, origin);
}

}  // namespace npfast
