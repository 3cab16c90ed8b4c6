// 1-D filter kernel family (scipy.ndimage's linear line filters): correlation with a weight
// vector and the running-mean uniform filter, over blocks of lines side by side.
//
// Layout (src/ops/ndimage_line.h): `lanes` lines side by side, as rows: `in` is n + size - 1
// row pointers (the extended lines' positions; rows may repeat), `out` n row pointers, each
// row `lanes` contiguous elements, element l of every row belonging to line l. Output rows do
// not overlap input rows.
//
// Contract of `<t>_corr1d__<isa>`: for i < n, l < lanes, with x[j] = in[i + c + j][l],
// c = size / 2, s2 = size - c - 1 and w the `size` weights:
//   sym > 0 (odd size, w symmetric)      out = x[0] w[c] + sum_{j=-c}^{-1} (x[j] + x[-j]) w[c+j]
//   sym < 0 (odd size, w antisymmetric)  out = x[0] w[c] + sum_{j=-c}^{-1} (x[j] - x[-j]) w[c+j]
//   sym == 0                             out = x[s2] w[c+s2] + sum_{j=-c}^{s2-1} x[j] w[c+j]
// evaluated left to right in T: SciPy's NI_Correlate1D order. In double each term is a
// multiply then an add, as SciPy's, which reproduces SciPy bit for bit; in float the
// multiply-adds after the first product are fused (fma: one rounding each).
//
// Contract of `<t>_corr1d_line__<isa>`: the same sums for one contiguous line, vectorised along
// it: `in` holds the extended line (n + size - 1 elements), `out` n elements; x[j] = in[i + c + j].
//
// Contract of `<t>_corr1d_line_copy__<isa>(in, out, n, w, size, sym, src, dst)`: corr1d_line's
// results, and dst[0, n) = src[0, n) (src and dst overlap neither each other nor in / out),
// copied as the outputs are made, the reads prefetched ahead: the fused 2-D filters' pass along
// a band's rows fills the ring with the next band's input rows (ndimage_filters.cc: pair_fused),
// so those reads, from L3 or memory, overlap the arithmetic instead of running alone.
//
// Contract of `f32_corr1d_lines_nt__<isa>`: corr1d_line_nt on each of `rows` lines, in[r]
// the extended line r (n + size - 1 elements), out[r] its n results: the same bits as
// corr1d_line line by line, streamed, with one fence after the last line. The fused 2-D
// filters' pass along a band's rows into a large output. (AVX-512 went tile by tile through
// 16 x 16 transposes until corr1d_line_sym loaded a third of its shifted vectors: the line
// kernel is now 10-15% faster; docs/ndimage-speed.md "hsym".) `next`: null, or `rows` row
// pointers, each null or n elements the caller reads soon; as line r's outputs are made,
// next[r]'s lines are prefetched into L1, one 64-byte line per vector of outputs (never read or
// written here). The fused filter passes the next band's new input rows, which it then copies
// into its ring or reads in place (pair_fused): their reads from memory overlap this band's
// arithmetic instead of stalling the copy or the next pass across rows (docs/ndimage-speed.md
// "gauss6").
//
// `f32_corr1d_line_x2__<isa>` and `f32_corr1d_lines_nt_x2__<isa>`: f32_corr1d_line's and
// f32_corr1d_lines_nt's contracts and bits, the AVX-512 body making two output vectors a step
// (faster on Zen 5, not on the Xeon: the operators take them where tune_amd()); the same
// functions as those on the other ISAs.
//
// Contract of `<t>_uniform1d__<isa>`: per lane, SciPy's NI_UniformFilter1D running sum:
//   s = in[0][l] + ... + in[size - 1][l] (left to right); out[0][l] = s / size;
//   then for i = 1..n-1: s += in[i - 1 + size][l] - in[i - 1][l]; out[i][l] = s / size.
// In float (T = float), s restarts from the window sum every kReanchor positions: a float
// running sum would drift by about sqrt(n) roundings over a long line (SciPy's runs in double).
// A float window sum (at 0 and at each restart) adds kAnchorBlock elements at a time into a
// partial sum from 0, left to right, and the partials into s in order: windows up to
// kAnchorBlock are the plain left-to-right sum; longer ones err by about (kAnchorBlock + size /
// kAnchorBlock) roundings instead of size (probe22a: 0.1 summed 10001 times in order came out
// 9.7e-5 off).
// In float with size <= kDirectRows there is no running sum: out[i][l] = (in[i][l] +
// in[i + 1][l] + ... + in[i + size - 1][l]) / size, summed left to right as
// f32_uniform1d_line's windows: no state from one position to the next, so a pass can be cut
// into bands of any height (the fused 2-D filter's bands then stay in L1 / L2).
//
// Contract of `<t>_uniform1d_line__<isa>`: along one contiguous extended line (n + size - 1
// elements), out[i] = (in[i] + in[i + 1] + ... + in[i + size - 1]) / size, summed left to
// right, for small sizes along the last axis, where it needs no transpose: float32 (its
// tolerance allows another order than SciPy's running sum), and double where every sum is
// exact (lines of integers of at most 32 bits: any order then gives SciPy's running sum's
// bits).
//
// Contract of `f32_uniform2d__<isa>(in, out, n, k0, k1, v)`: one row of the fused 2-D uniform
// filter (window sums across rows, k0 <= kDirectRows, then along the row): for c < n + k1 - 1,
// v[c] = (in[0][c] + ... + in[k0 - 1][c]) / k0 (f32_uniform1d's), and for j < n, out[j] =
// (v[j] + ... + v[j + k1 - 1]) / k1 (f32_uniform1d_line's), so out is the two passes' row
// wherever the row's windows lie inside it. `v`: n + k1 - 1 floats, holding the column sums on
// return (the caller extends them for the border outputs). `f32_uniform2d_nt__<isa>`: the same
// bits stored non-temporally where out is vector-aligned, without a fence: the caller runs
// elementwise::stream_fence() after its last row (a fence per 3000-wide row cost 10%).
//
// Contract of `f32_uniform2d_rows__<isa>(in, out, m, n, k0, k1, v)`: m rows of
// f32_uniform2d at once, out[r] from in[r .. r + k0 - 1] with its column sums in v[r] (m + k0
// - 1 input rows): the same bits as m calls of f32_uniform2d, each input row loaded once for
// the output rows that share it. `_nt`: streamed as f32_uniform2d_nt, the caller fencing.
//
// Contract of `f32_sep3_row__<isa>(in, out, n, wh, symh, wv, symv)`: one row of two 3-tap
// correlations, along the row first, with (anti)symmetric weights (symh, symv != 0; wh, wv the
// weights' first two values): for r < 3 and j < n, h[r][j] = corr1d_line's sum of row in[r]
// at j (reading in[r][j - 1 .. j + 1]), and out[j] = corr1d's sum across h[0][j], h[1][j],
// h[2][j]: the two passes' row where its windows lie inside the rows. `_nt`: the same bits
// stored non-temporally where out is vector-aligned, the caller fencing (as f32_uniform2d_nt).
//
// Contract of `f32_sep3_rows__<isa>(in, out, m, n, wh, symh, wv, symv)`: m rows of
// f32_sep3_row at once, out[r] from in[r], in[r + 1], in[r + 2] (m + 2 input rows): the same
// bits as m calls of f32_sep3_row, the input rows' along-row results made once for the output
// rows that share them. `_nt`: streamed as f32_sep3_row_nt, the caller fencing.
//
// Contract of `f64_uniform1d_run__<isa>`: the uniform1d running sum (above, T = double) along
// one contiguous extended line (n + size - 1 elements): SciPy's order exactly, without the
// transpose into lanes. One add chain per line (SciPy's own loop); a block of lanes costs more
// in the transpose than the chain does.
//
// Contract of `f32_corr1d_nt__<isa>`, `f32_corr1d_line_nt__<isa>` and
// `f32_uniform1d_line_nt__<isa>`: the results of the kernel without `_nt`, bit for bit, stored
// with non-temporal stores where an output vector is aligned, then a store fence: the fused 2-D
// filters' last pass into an image far larger than the cache, whose lines then go to memory
// without first being read for ownership. The scalar reference is the plain one.
//
// Every lane goes through the same operations in every ISA (the reference fuses with
// std::fma exactly where the SIMD bodies do), so all ISAs give bitwise the same results. Kernels
// are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstdint>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace filter1d {

template <class T>
using Corr1dFn = void (*)(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w,
                          int64_t size, int sym);
template <class T>
using Corr1dLineFn = void (*)(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym);
template <class T>
using Corr1dLineCopyFn = void (*)(const T* in, T* out, int64_t n, const T* w, int64_t size, int sym,
                                  const T* src, T* dst);
template <class T>
using Corr1dLinesFn = void (*)(const T* const* in, T* const* out, int64_t rows, int64_t n,
                               const T* w, int64_t size, int sym, const T* const* next);
constexpr int64_t kReanchor = 64;
constexpr int64_t kAnchorBlock = 64;
constexpr int64_t kDirectRows = 8;
// Widest float32 uniform filter the operators sum directly along the last axis
// (f32_uniform1d_line: size - 1 adds per element; the running sum costs two, plus a transpose).
constexpr int64_t kDirectUniform = 32;

template <class T>
using Uniform1dLineFn = void (*)(const T* in, T* out, int64_t n, int64_t size);
using Uniform2dFn = void (*)(const float* const* in, float* out, int64_t n, int64_t k0, int64_t k1,
                             float* v);
using Uniform2dRowsFn = void (*)(const float* const* in, float* const* out, int64_t m, int64_t n,
                                 int64_t k0, int64_t k1, float* const* v);
using Sep3RowFn = void (*)(const float* const* in, float* out, int64_t n, const float* wh, int symh,
                           const float* wv, int symv);
using Sep3RowsFn = void (*)(const float* const* in, float* const* out, int64_t m, int64_t n,
                            const float* wh, int symh, const float* wv, int symv);
template <class T>
using Uniform1dFn = void (*)(const T* const* in, T* const* out, int64_t n, int64_t lanes,
                             int64_t size);

// The family's kernels (kernels.inc). One constant per ISA, table_<isa> (src/core/kernels.inc).
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/filter1d/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace filter1d
}  // namespace npfast
