// The implicit GEMM over channels-last copies of the input, any stride and dilation.
//
// The input is copied once into padded NHWC (the channels of a pixel contiguous). With the
// output computed over a wide row of wpad columns (columns >= ow dropped, as in
// conv2d_shifted.cc), stride 1 makes output pixel p and tap (ky, kx) read padded pixel
// p + ky*dh*wpad + kx*dw: a GEMM C[p][o] = sum_k A[p][k] B[k][o] whose A rows are read in place
// (row p at pixel p, k = (ky, kx, c)). For dw == 1 and one group, the kw taps of a kernel row
// are kw*C contiguous elements, so a kernel row is one K segment; otherwise each tap is one.
// Strides: the padded rows are split into stride_h row-phase planes (plane q holds rows
// i*sh + q) of wrow = sw * wpad pixels, so pixel p's A row is pixel sw * p of the plane its tap
// reads (row stride sw * C): still no im2col, and a kernel row still one K segment.
// Dilation (stride 1): output rows a, a + dh, ... only read input rows a + dh * i, so the
// output splits into dh x dw phases, each an undilated convolution of its own phase of the
// padded input; its taps are contiguous again (a kernel row is one K segment of kw*C instead
// of kw segments of C, so the C tile is loaded and stored a third as often for 3x3).
// The weights are packed once per call into NR-wide panels; no operand is packed per tile, and
// the microkernel runs on full tiles only (the workspaces carry slack rows and columns).
// Compared with the shifted path this drops the kw input copies and the per-block B packing,
// which took about a quarter of a ResNet 3x3 layer's time (docs/conv.md). With NHWC input and
// output (Layout::nhwc) the copy is a padded memcpy and the C block is the output's rows.
#include <algorithm>
#include <cstring>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/gemm/gemm.h"
#include "src/kernels/pack/pack.h"
#include "src/ops/conv2d_epilogue.h"
#include "src/ops/conv2d_implicit.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {
namespace {

// A work item is a run of output pixels of one image, phase and group (kImplicitItem*).

// Most rows a tile on gathered A rows (compact tiles) may have: the row pointers of a call.
constexpr int kMaxRows = 16;

// A K segment: `len` steps of A starting `a_off` elements from a pixel's row, paired with
// the weight rows starting at `k0`.
struct Segment {
  int64_t a_off, k0, len;
};

// Pixels [p0, p1) of the wide outputs of phases (a, 0..fw-1) (pixel p = row p / wpad, column
// p % wpad) from their C blocks (cbs[b] holds pixel p0's row, pixel-major, ogp columns) into y
// (image n, group g), dropping the columns past ow2 and the rows and columns past the output,
// with bias and ReLU. For NCHW with column phases the fw blocks' pixels are first interleaved
// into `tmp` (ow * og elements), so each output row is one transpose rather than fw strided
// scatters.
template <class T>
void store_pixels(const ImplicitPlan& pl, const T* const* cbs, int64_t ogp, int64_t n, int64_t g,
                  int64_t a, int64_t p0, int64_t p1, const T* bias, bool relu, T* y, T* tmp) {
  const int64_t og = pl.og, O = pl.o, fw = pl.fw;
  const T* bg = bias ? bias + g * og : nullptr;
  for (int64_t i = p0 / pl.wpad; i * pl.wpad < p1; ++i) {
    const int64_t oy = a + pl.fh * i;
    if (oy >= pl.oh) break;
    const int64_t j0 = std::max<int64_t>(p0 - i * pl.wpad, 0);
    const int64_t j1 = std::min(p1 - i * pl.wpad, pl.ow2);
    const int64_t ox0 = fw * j0, ox1 = std::min(pl.ow, fw * j1), nx = ox1 - ox0;
    if (nx <= 0) continue;
    const int64_t row = i * pl.wpad - p0;  // C block row of pixel (i, 0)
    if (pl.p.layout == Layout::nhwc) {
      for (int64_t ox = ox0; ox < ox1; ++ox) {
        T* yp = y + ((n * pl.oh + oy) * pl.ow + ox) * O + g * og;
        const T* cp = cbs[ox % fw] + (row + ox / fw) * ogp;
        if (!bg && !relu) {
          std::memcpy(yp, cp, og * sizeof(T));
        } else if (!bg) {
          for (int64_t o = 0; o < og; ++o) yp[o] = cp[o] < T(0) ? T(0) : cp[o];
        } else {
          for (int64_t o = 0; o < og; ++o) {
            const T v = cp[o] + bg[o];
            yp[o] = relu && v < T(0) ? T(0) : v;
          }
        }
      }
      continue;
    }
    T* yg = y + (n * O + g * og) * pl.P + oy * pl.ow + ox0;
    if (fw == 1) {
      transpose_to_planes(cbs[0] + (row + j0) * ogp, ogp, yg, pl.P, nx, og);
    } else {
      for (int64_t ox = ox0; ox < ox1; ++ox)
        std::memcpy(tmp + (ox - ox0) * og, cbs[ox % fw] + (row + ox / fw) * ogp, og * sizeof(T));
      transpose_to_planes(tmp, og, yg, pl.P, nx, og);
    }
    if (!bias && !relu) continue;
    for (int64_t o = 0; o < og; ++o)
      bias_act(yg + o * pl.P, yg + o * pl.P, nx, bg ? bg + o : nullptr, relu);
  }
}

}  // namespace

template <class T>
void forward_implicit(const ImplicitPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                      T* y) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  // At most NR/2 output channels a group: the half-width edge kernel (same bits) rather than
  // full tiles whose right half is zero columns.
  const bool narrow = uk.fn_narrow && pl.og <= uk.nr / 2;
  const gemm_kernels::UkernelFn<T> ukfn = narrow ? uk.fn_narrow : uk.fn;
  // A tile of at most MR/2 valid rows (the last of a block or of a row): the half-height
  // kernel, on all its MR/2 rows (the copy and the C block carry slack rows), the same
  // per-element arithmetic. 4x4/2 64->128 to 16^2: 280 -> 273 rows an image for 256 pixels.
  const gemm_kernels::UkernelFn<T> ukfn_short =
      narrow || !uk.fn_heights ? nullptr : uk.for_rows(uk.mr / 2);
  // The kernel on gathered A rows (tiles over valid pixels only, below); full width only.
  const gemm_kernels::UkernelRowsFn<T> ukfn_rows = narrow ? nullptr : uk.fn_rows;
  const int MR = uk.mr, NR = narrow ? uk.nr / 2 : uk.nr;
  const int64_t C = pl.c, cg = pl.cg, og = pl.og, K = pl.K, taps = pl.kh * pl.kw;
  const int64_t ogp = round_up(og, NR), panels = ogp / NR;
  const int64_t sh = pl.p.stride_h, sw = pl.p.stride_w, rs = sw * C;  // A's row stride
  const int64_t phases = pl.fh * pl.fw;

  // K segments in (ky, kx, c) order, each cut to the kernel's K block so a weight panel's
  // slice stays in L1 while the tiles of an item stream past it. A tap reads row-phase plane
  // (ky*edh) mod sh, (ky*edh) div sh rows and kx*edw pixels on.
  const bool rows_contiguous = pl.edw == 1 && pl.groups == 1;
  const int64_t per_tap = rows_contiguous ? pl.kw : 1;
  const int64_t seg_len = per_tap * cg, nseg_k = (seg_len + uk.kc - 1) / uk.kc;
  Buffer<Segment> sg(static_cast<size_t>((taps / per_tap) * nseg_k));
  int64_t nseg = 0;
  for (int64_t t = 0; t < taps; t += per_tap) {
    const int64_t ky = t / pl.kw, kx = t % pl.kw, ry = ky * pl.edh;
    const int64_t base = ((ry % sh) * pl.plane_px + (ry / sh) * pl.wrow + kx * pl.edw) * C;
    for (int64_t q = 0; q < nseg_k; ++q) {
      const int64_t k0 = q * seg_len / nseg_k, k1 = (q + 1) * seg_len / nseg_k;
      sg[nseg++] = Segment{base + k0, t * cg + k0, k1 - k0};
    }
  }

  // Weights as [group][panel][k][NR], k = (ky, kx, c), zero columns past og, one panel per
  // work item (a serial pack was 4% of a 2-thread ResNet 3x3 layer). A panel is written a
  // channel at a time: the channel's taps of the panel's NR weight rows (NR x taps elements,
  // their lines read once) transposed into its taps' rows t * cg + ci by pack::transpose's
  // register blocks. Tap by tap over whole rows swept a 73 KB panel from L2 9 times (~1 ns an
  // element); element by element (a block of channels at a time) the packing and the units'
  // set-up were 3.0% of the one-image stride-2 layer on AVX2 (perf), now 1.9%.
  // Where whole units are the work items (below), the packing runs inside the units' job
  // (PartsInJob, a panel a part), while the helpers wake: as a job of its own (tens of us) right
  // before the units' job, its helper often woke too late, the pool counted a lost call, and the
  // serial stretch that followed covered the units' job (the transposed layer's grad_input, K =
  // 1024, ran at its one-thread time on two threads); on the caller before the job, the call took
  // the packing and the helpers' wake-up in turn.
  const int64_t image_elems = checked_mul(pl.image_px, C, "channels-last input");
  const int64_t unit_bytes = image_elems * static_cast<int64_t>(sizeof(T));
  Buffer<T> wp(static_cast<size_t>(checked_mul(pl.groups * ogp, K, "packed weights")));
  const int64_t npanels = pl.groups * panels;
  auto pack_panels = [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t g = q / panels, o0 = (q % panels) * NR;
      const int64_t cols = std::min<int64_t>(NR, og - o0);
      const T* src = w + (g * og + o0) * K;  // rows o, columns (ci, ky, kx)
      T* panel = wp.get() + q * K * NR;
      for (int64_t ci = 0; ci < cg; ++ci) {
        pack::transpose(src + ci * taps, K, panel + ci * NR, cg * NR, cols, taps);
        if (cols < NR)
          for (int64_t t = 0; t < taps; ++t)
            std::fill(panel + (t * cg + ci) * NR + cols, panel + (t * cg + ci + 1) * NR, T(0));
      }
    }
  };

  // Work items are blocks of at least kImplicitItemFlops and kImplicitItemPixels of one image, row
  // phase and group (all its column phases): `cap` wide-output pixels, a multiple of MR so that
  // only the last block of a phase computes padding rows (blocks of whole wide rows wasted up to MR
  // - 1 rows each: 8% of a stride-2 56^2 layer, 116 pixels in 126), or whole output rows.
  const double pixel_flops = 2.0 * static_cast<double>(og) * static_cast<double>(K);
  const int64_t total = pl.oh2 * pl.wpad;
  const int64_t want_px = std::max<int64_t>(static_cast<int64_t>(kImplicitItemFlops / pixel_flops),
                                            kImplicitItemPixels);
  // Tiles run along the wide rows (a tile may span two rows; wpad - ow2 dropped columns a row
  // are computed) or row by row (ceil(ow2 / MR) tiles a row; round_up(ow2, MR) - ow2 dropped
  // columns), whichever computes fewer pixels. Row by row wins for 28-wide outputs with
  // AVX-512's MR = 14 (the stride-2 and the dilation-2 layers at 56^2: 3.5% and 7% fewer
  // flops). Which tile holds a pixel does not change its sum.
  // A third way where the microkernel takes gathered A rows (ukfn_rows, AVX2): tiles over the
  // valid pixels of a block of output rows only, across the ends of the rows (compact), the
  // last tile of a block padded with repeats of its last pixel. AVX2's MR = 6 divides neither
  // 28 nor the wide rows of 29 (stride 2) or 30 (dilation 2): 816 or 840 rows computed for
  // the 784 pixels of a 28^2 output, now 786 (blocks of 3 rows) to 798 (4 rows). Blocks are
  // whole rows as by rows, and the C block holds the valid pixels (ow2 a row).
  const int64_t row_tiles = (pl.ow2 + MR - 1) / MR;
  const int64_t wide_px = round_up(std::max<int64_t>(total, 1), MR);
  // Rows a block for the row-wise tilings (pixels computed a row: px_row), an even item count
  // per batch where one row less per item gives it, so that two threads split a batch (often
  // one image) evenly: 28 rows in 7 blocks of 4 -> 10 of 3.
  auto block_rows = [&](int64_t px_row) {
    int64_t rows = std::clamp<int64_t>((want_px + px_row - 1) / px_row, 1, pl.oh2);
    const int64_t nb = (pl.oh2 + rows - 1) / rows;
    const bool odd = (std::min(pl.n, pl.batch_images) * pl.fh * pl.groups * nb) % 2 == 1;
    if (odd && rows > 1 && (pl.oh2 + rows - 2) / (rows - 1) % 2 == 0) --rows;
    return rows;
  };
  // Pixels the compact tiles compute: each block's valid pixels rounded up to MR.
  auto compact_px = [&](int64_t rows) {
    const int64_t full = pl.oh2 / rows, rest = pl.oh2 % rows;
    return full * round_up(rows * pl.ow2, MR) + round_up(rest * pl.ow2, MR);
  };
  const int64_t compact_rows = ukfn_rows ? block_rows(pl.ow2) : 0;
  const bool compact = ukfn_rows && MR <= kMaxRows &&
                       compact_px(compact_rows) < std::min(pl.oh2 * row_tiles * MR, wide_px);
  const bool by_rows = compact || pl.oh2 * row_tiles * MR < wide_px;
  // C block pixels a row (by rows, compact)
  const int64_t cpitch = compact ? pl.ow2 : std::max(pl.wpad, row_tiles * MR);
  int64_t cap, blocks, rows_per_item = 0;
  if (by_rows) {
    rows_per_item = compact ? compact_rows : block_rows(row_tiles * MR);
    blocks = (pl.oh2 + rows_per_item - 1) / rows_per_item;
    cap = compact ? round_up(rows_per_item * cpitch, MR) : rows_per_item * cpitch;
  } else {
    cap = std::min(round_up(want_px, MR), round_up(std::max<int64_t>(total, 1), MR));
    blocks = (total + cap - 1) / cap;
  }
  const int64_t image_in = C * pl.h * pl.w;
  const int64_t planes = phases * sh;        // per image, in (a, b, q) order
  const int64_t prows = pl.fh * sh * pl.hq;  // padded rows, all planes
  // NCHW input is copied by blocks of a cache line of channels, each plane read as one stream
  // (channels_last_block); NHWC by whole rows, a memcpy each.
  const int64_t copy_channels =
      pl.p.layout == Layout::nhwc ? C : static_cast<int64_t>(64 / sizeof(T));
  const int64_t cblocks = (C + copy_channels - 1) / copy_channels;
  // Padded rows r0, r0 + step, ... < r1 of image xi, channels [c0, c1), into its channels-last
  // copy d: row i of plane (a, q) (every column phase b) for r = a + fh*(i*sh + q).
  auto copy_rows = [&](const T* xi, T* d, int64_t r0, int64_t r1, int64_t step, int64_t c0,
                       int64_t c1) {
    for (int64_t r = r0; r < r1; r += step) {
      const int64_t a = r % pl.fh, q = r / pl.fh % sh, i = r / pl.fh / sh;
      for (int64_t bc = 0; bc < pl.fw; ++bc) {
        const int64_t plane = (a * pl.fw + bc) * sh + q;
        channels_last_block(pl, xi, r, pl.wrow, d + (plane * pl.plane_px + i * pl.wrow) * C, bc,
                            pl.fw, c0, c1);
      }
    }
  };
  auto zero_slack = [&](T* d) {
    for (int64_t plane = 0; plane < planes; ++plane)
      std::fill(d + (plane * pl.plane_px + pl.hq * pl.wrow) * C, d + (plane + 1) * pl.plane_px * C,
                T(0));
  };
  // Item `it` of image n (row phase a, group g, block blk: (a, g, blk) in row-major order), over
  // all fw column phases of its rows, from the image's channels-last copy xi. cbuf (fw * cap *
  // ogp), tmp (og * ow where fw > 1) and cbs (fw) are the caller's scratch.
  const int64_t per_image = pl.fh * pl.groups * blocks;
  // Rows [r0, r1) (by rows) or pixels [p0, p1) of phase a, group g.
  struct Scratch {
    Buffer<T> cbuf, tmp;
    Buffer<const T*> cbs;
    Buffer<int64_t> offs;  // compact tiles' A row offsets
  };
  auto scratch = [&] {
    return Scratch{Buffer<T>(static_cast<size_t>(pl.fw * cap * ogp)),
                   pl.fw > 1 ? Buffer<T>(static_cast<size_t>(og * pl.ow)) : Buffer<T>(),
                   Buffer<const T*>(static_cast<size_t>(pl.fw)),
                   compact ? Buffer<int64_t>(static_cast<size_t>(cap)) : Buffer<int64_t>()};
  };
  auto run_block = [&](int64_t a, int64_t g, int64_t r0, int64_t r1, int64_t p0, int64_t p1,
                       int64_t n, const T* xi, Scratch& sc) {
    T* const cbuf = sc.cbuf.get();
    T* const tmp = sc.tmp.get();
    const T** const cbs = sc.cbs.get();
    int64_t* const offs = sc.offs.get();
    const int64_t np = round_up(p1 - p0, MR);
    // NCHW output lines asked for during the products (LinesAhead). Stride 2 64->128 @56 N=8
    // f32, one thread: 7.1-7.7 ms -> 6.8-7.1 ms with the output kept in L2 (a test), 7.4 ->
    // 6.75 ms with these prefetches.
    const int64_t i0 = by_rows ? r0 : p0 / pl.wpad;
    const int64_t i1 = std::min(by_rows ? r1 : (p1 + pl.wpad - 1) / pl.wpad,
                                (pl.oh - a + pl.fh - 1) / pl.fh);  // rows with oy < oh
    const bool nchw = pl.p.layout == Layout::nchw;
    LinesAhead ahead(y + (n * pl.o + g * og) * pl.P + (a + pl.fh * i0) * pl.ow, nchw ? og : 0,
                     pl.P * static_cast<int64_t>(sizeof(T)), std::max<int64_t>(i1 - i0, 0),
                     pl.fh * pl.ow * static_cast<int64_t>(sizeof(T)),
                     pl.ow * static_cast<int64_t>(sizeof(T)));
    const int64_t compact_np = compact ? round_up((r1 - r0) * pl.ow2, MR) : 0;
    const int64_t calls = pl.fw * panels * nseg *
                          (compact   ? compact_np / MR
                           : by_rows ? (r1 - r0) * row_tiles
                                     : np / MR);
    // Compact tiles: the A row offset (elements, from the segment's start) of each pixel.
    if (compact)
      for (int64_t i = 0; i < compact_np; ++i) {
        const int64_t q = r0 * pl.ow2 + std::min(i, (r1 - r0) * pl.ow2 - 1);
        offs[i] = (q / pl.ow2 * pl.wpad + q % pl.ow2) * rs;
      }
    const int64_t per_call = (ahead.lines() + calls - 1) / std::max<int64_t>(calls, 1);
    for (int64_t bc = 0; bc < pl.fw; ++bc) {
      const T* ab = xi + (a * pl.fw + bc) * sh * pl.plane_px * C + g * cg;
      T* cb = cbuf + bc * cap * ogp;
      for (int64_t t = 0; t < panels; ++t) {
        const T* bp = wp.get() + (g * panels + t) * K * NR;
        for (int64_t s = 0; s < nseg; ++s) {
          const T* as = ab + sg[s].a_off;
          const T* bs = bp + sg[s].k0 * NR;
          const T beta = s == 0 ? T(0) : T(1);
          // A tile of `rows` valid rows at A row a and C row c.
          const auto tile = [&](int64_t rows, const T* a, T* c) {
            ahead.ahead(per_call);
            if (ukfn_short && rows <= MR / 2)
              ukfn_short(sg[s].len, a, rs, 1, bs, NR, c, ogp, MR / 2, NR, T(1), beta);
            else
              ukfn(sg[s].len, a, rs, 1, bs, NR, c, ogp, MR, NR, T(1), beta);
          };
          if (compact) {
            const T* rows[kMaxRows];
            for (int64_t i = 0; i < compact_np; i += MR) {
              for (int m = 0; m < MR; ++m) rows[m] = as + offs[i + m];
              ahead.ahead(per_call);
              ukfn_rows(sg[s].len, rows, bs, NR, cb + i * ogp + t * NR, ogp, MR, NR, T(1), beta);
            }
          } else if (by_rows) {
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t q = 0; q < row_tiles; ++q)
                tile(pl.ow2 - q * MR, as + (r * pl.wpad + q * MR) * rs,
                     cb + ((r - r0) * cpitch + q * MR) * ogp + t * NR);
          } else {
            for (int64_t i = 0; i < np; i += MR)
              tile(p1 - p0 - i, as + (p0 + i) * rs, cb + i * ogp + t * NR);
          }
        }
      }
    }
    if (by_rows) {
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t bc = 0; bc < pl.fw; ++bc)
          cbs[bc] = cbuf + (bc * cap + (r - r0) * cpitch) * ogp;
        store_pixels(pl, cbs, ogp, n, g, a, r * pl.wpad, (r + 1) * pl.wpad, bias, relu, y, tmp);
      }
    } else {
      for (int64_t bc = 0; bc < pl.fw; ++bc) cbs[bc] = cbuf + bc * cap * ogp;
      store_pixels(pl, cbs, ogp, n, g, a, p0, p1, bias, relu, y, tmp);
    }
  };
  auto run_item = [&](int64_t it, int64_t n, const T* xi, Scratch& sc) {
    const int64_t blk = it % blocks, g = it / blocks % pl.groups, a = it / blocks / pl.groups;
    const int64_t r0 = blk * rows_per_item, r1 = std::min(pl.oh2, r0 + rows_per_item);
    const int64_t p0 = blk * cap, p1 = std::min(total, p0 + cap);
    run_block(a, g, r0, r1, p0, p1, n, xi, sc);
  };
  const double item_ns =
      pixel_flops * static_cast<double>(cap) * static_cast<double>(pl.fw) * kNsPerFlop;

  // Whole (image, row phase) units per work item where they split evenly enough over the
  // threads (even_split): each thread copies the padded rows of its unit (a row phase a reads
  // only the rows a + fh*i) into its own buffer, in its own L2, and computes all of the unit's
  // items. Splitting each image's copy (by channel blocks) and its items (by rows) over the
  // threads instead took three hand-offs an image, read half of every A row from the other
  // core's L2, and split 28 rows 16:12; the stride-2 layer scaled 1.2x from one to two threads.
  // Which thread computes a tile does not change its bits.
  const int64_t unit_items = pl.groups * blocks;
  // With row phases (dilation) and NCHW output on several threads, a unit is instead part h of fh
  // of an image's output rows, all row phases of them (rows [h, h + 1) * oh2 / fh of each phase),
  // copying for each phase only the padded rows those read (plus the taps' halo: 2 rows in 16 for
  // the dilated 56^2 layer). A unit per phase wrote every other output row, and an NCHW row (224
  // bytes at 56 wide) shares its last cache line with the next row's first: the two threads wrote
  // 28 shared lines a plane, at the same time, so those lines went back and forth between the
  // cores. Now the threads' rows meet at one line a plane. (On one thread the parts would only add
  // their halo rows; the tiles and their sums are the same either way.) Tiles along the wide rows
  // (AVX2's MR = 6 on the 56^2 layer) keep the phase units: parts of them measured 7% slower in
  // float64 on one thread, and two threads were not measurable; so do its compact tiles.
  const bool dilated_parts = by_rows && !compact && pl.fh > 1 && sh == 1 &&
                             pl.p.layout == Layout::nchw && available_threads() > 1;
  // Without row phases (fh == 1: strides, no dilation, or column phases only), the image's output
  // rows are cut into `parts` parts where whole images do not split evenly over the threads
  // (row_split: the stride-2 layer's 8 images on 16 threads are 16 parts of 14 rows; one image on
  // 2 threads, 2 parts), each copying only the padded rows its tiles read (1 halo row in 28 for
  // the stride-2 layer's halves); otherwise every image was copied and then computed by all
  // threads in turn, 2 jobs an image, 4 channel blocks to copy (docs/conv.md, s2conv).
  // (At the microkernel's own rate, uk.flops_per_ns, against the copy's ~0.5 ns an element:
  // the two as measured, so that a part's halo copy is weighed fairly. item_ns above, for
  // grain_for, keeps every conv path's kNsPerFlop: at the microkernel's 100-150 flops/ns it
  // would give the phase units and the batches' items other chunk counts, plans this review
  // did not measure. Row parts no longer meet it: they run one a chunk.)
  const double row_ns =
      pixel_flops * static_cast<double>(pl.fw * (by_rows ? cpitch : pl.wpad)) / uk.flops_per_ns;
  const double copy_row_ns = 0.5 * static_cast<double>(pl.fw * pl.wrow * C);
  const int64_t parts =
      dilated_parts ? pl.fh
      : pl.fh == 1  ? row_split(pl.n, pl.oh2, sh, (pl.kh - 1) * pl.edh + 1, row_ns, copy_row_ns,
                                pixel_flops * static_cast<double>(pl.fw * pl.ow2), pl.fw * pl.ow2)
                    : 1;
  const bool row_parts = dilated_parts || parts > 1;
  // Units: (image, row phase), or (image, row part) with row parts.
  const int64_t units = pl.n * (row_parts ? parts : pl.fh);
  // (Row parts chosen by row_split are copied whole whatever their split: row_split has already
  // weighed the threads' shares, one part a chunk (below); the dilated ones only where
  // even_split says so, as before.)
  const bool whole =
      parts > 1 && !dilated_parts ? unit_bytes <= kUnitCopyBytes : even_split(units, unit_bytes);
  if (!whole)
    parallel_for(npanels, grain_for(npanels, 0.5 * static_cast<double>(K * NR)), pack_panels);
  if (whole) {
    const double unit_ns = (item_ns * static_cast<double>(unit_items) +
                            0.5 * static_cast<double>(sh * pl.hq * pl.wrow * C)) *
                           static_cast<double>(pl.fh) /
                           static_cast<double>(row_parts ? parts : pl.fh);
    // Plane rows [lo, hi) the tiles of output rows [i0, i1) read (row parts): to the last A row
    // of the last tile (a plane row is wrow = sw * wpad pixels, output pixel p reads plane pixel
    // sw * p) plus the farthest tap.
    const int64_t max_tap_px = (pl.kh - 1) * pl.edh / sh * pl.wrow + (pl.kw - 1) * pl.edw;
    // The packing a panel a part, so that threads arriving together share it.
    PartsInJob packed(npanels);
    // Row_split's parts one a chunk: its shares assume the threads take the parts one at a time
    // (chunks of 3 parts split 8 images' 32 parts 12:12:8 on 3 threads; grain_for gave 2 for 8
    // images at 5 threads), and each part is at least a work item already.
    const int64_t grain =
        parts > 1 && !dilated_parts ? 1 : grain_for(units, unit_ns, row_parts ? 16 : 4);
    parallel_for(units, grain, [&](int64_t b, int64_t e) {
      packed.run([&](int64_t q) { pack_panels(q, q + 1); });
      Buffer<T> xi(static_cast<size_t>(image_elems));
      Scratch sc = scratch();
      for (int64_t u = b; u < e; ++u) {
        zero_slack(xi.get());
        if (!row_parts) {
          const int64_t n = u / pl.fh, a = u % pl.fh;
          for (int64_t c0 = 0; c0 < C; c0 += copy_channels)
            copy_rows(x + n * image_in, xi.get(), a, prows, pl.fh, c0,
                      std::min(C, c0 + copy_channels));
          for (int64_t it = a * unit_items; it < (a + 1) * unit_items; ++it)
            run_item(it, n, xi.get(), sc);
          continue;
        }
        const int64_t n = u / parts, h = u % parts;
        const int64_t i0 = h * pl.oh2 / parts, i1 = (h + 1) * pl.oh2 / parts;
        if (i0 >= i1) continue;
        // The last wide pixel a tile reads: compact, the part's last pixel (slack rows repeat
        // it); by rows, the last row's last tile; along the wide rows, at most MR - 1 past the
        // part's last pixel.
        const int64_t last_px = compact   ? (i1 - 1) * pl.wpad + pl.ow2 - 1
                                : by_rows ? (i1 - 1) * pl.wpad + row_tiles * MR - 1
                                          : i1 * pl.wpad + MR - 2;
        const int64_t lo = i0, hi = std::min(pl.hq, (sw * last_px + max_tap_px) / pl.wrow + 1);
        for (int64_t a = 0; a < pl.fh; ++a) {
          for (int64_t c0 = 0; c0 < C; c0 += copy_channels)
            copy_rows(x + n * image_in, xi.get(), a + pl.fh * sh * lo,
                      std::min(prows, a + pl.fh * sh * hi), pl.fh, c0,
                      std::min(C, c0 + copy_channels));
          for (int64_t g = 0; g < pl.groups; ++g) {
            if (!by_rows) {
              // Blocks of at most cap pixels along the part's wide rows.
              const int64_t q0 = i0 * pl.wpad, q1 = std::min(total, i1 * pl.wpad);
              for (int64_t p0 = q0; p0 < q1; p0 += cap)
                run_block(a, g, 0, 0, p0, std::min(q1, p0 + cap), n, xi.get(), sc);
              continue;
            }
            // Blocks of at most rows_per_item rows, as even as the part allows.
            const int64_t nblk = (i1 - i0 + rows_per_item - 1) / rows_per_item;
            for (int64_t k = 0; k < nblk; ++k) {
              const int64_t r0 = i0 + k * (i1 - i0) / nblk, r1 = i0 + (k + 1) * (i1 - i0) / nblk;
              run_block(a, g, r0, r1, r0 * cpitch, r1 * cpitch, n, xi.get(), sc);
            }
          }
        }
      }
    });
    return;
  }

  // Otherwise batches of images, each copied and then computed by all threads.
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  Buffer<T> xin(static_cast<size_t>(checked_mul(
      checked_mul(bimg, pl.image_px, "channels-last input"), C, "channels-last input")));
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0);
    auto img_copy = [&](int64_t img) { return xin.get() + img * pl.image_px * C; };
    // Units: (image, row) for NHWC, (image, channel block) for NCHW.
    const int64_t per_img = cblocks == 1 ? prows : cblocks, copies = nimg * per_img;
    const double copy_ns = 0.5 * static_cast<double>(prows * pl.wrow * copy_channels) /
                           static_cast<double>(per_img / cblocks);
    parallel_for(copies, grain_for(copies, copy_ns), [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u) {
        const int64_t img = u / per_img, v = u % per_img;
        const T* xi = x + (n0 + img) * image_in;
        if (cblocks == 1)
          copy_rows(xi, img_copy(img), v, v + 1, 1, 0, C);
        else
          copy_rows(xi, img_copy(img), 0, prows, 1, v * copy_channels,
                    std::min(C, (v + 1) * copy_channels));
      }
    });
    for (int64_t img = 0; img < nimg; ++img) zero_slack(img_copy(img));
    // One chunk an item where the grain allows (16 a thread): a batch is often one image of
    // 10-14 items, and chunks of two split them 3:2.
    const int64_t items = nimg * per_image;
    parallel_for(items, grain_for(items, item_ns, 16), [&](int64_t b, int64_t e) {
      Scratch sc = scratch();
      for (int64_t it = b; it < e; ++it)
        run_item(it % per_image, n0 + it / per_image, img_copy(it / per_image), sc);
    });
  }
}

// grad_weight on the forward's channels-last copy, for one group and no output phases
// (fh == fw == 1, edh == edw == 1): gW^T[k][o] = sum_p A[p][k] gY[p][o], k = (ky, kx, c), with
// A the same in-place rows as the forward (a kernel row's kw*C taps contiguous at pixel
// sw*p + the tap's constant) and gY the wide grad_output transposed to [pixel][o]. The
// microkernel takes A transposed in place (rs_a = 1, cs_a = sw*C) and the pixels as its depth,
// so nothing is packed and a 16-channel layer runs full 14 x 16 tiles: the shifted path's
// GEMMs were 16 x 48 x ~1000 products that packed both operands every call (2-4x torch's
// time on the ResNet's 16- and 32-channel layers). Images go to fixed slots (weight_slots),
// each accumulating its images in order into its own partial; the partials are added in slot
// order, so the bits do not depend on the thread count. NCHW and NHWC operands give the same
// copies, so the same bits.
template <class T>
void grad_weight_implicit(const ImplicitPlan& pl, const T* x, const T* gy, T* gw) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  const int MR = uk.mr;
  const bool narrow = uk.fn_narrow && pl.og <= uk.nr / 2;
  const gemm_kernels::UkernelFn<T> fn = narrow ? uk.fn_narrow : uk.fn;
  const int NR = narrow ? uk.nr / 2 : uk.nr;
  const int64_t C = pl.c, og = pl.og, K = pl.K, taps = pl.kh * pl.kw;
  const int64_t ogp = round_up(og, NR), sh = pl.p.stride_h, rs = pl.p.stride_w * C;
  const int64_t rowk = pl.kw * C, total = pl.oh * pl.wpad;
  // NHWC x and grad_output: the same channels-last copy and [pixel][o] rows, by memcpy.
  const bool nhwc = pl.p.layout == Layout::nhwc;
  const int64_t chunk = std::max<int64_t>(16384 / (NR * static_cast<int64_t>(sizeof(T))), 16);
  const int64_t S = pl.wslots, per_slot = pl.n / S;
  Buffer<T> part(static_cast<size_t>(checked_mul(S * K, ogp, "partials")));
  const double slot_ns = 2.0 * static_cast<double>(K * ogp) * static_cast<double>(total) *
                         static_cast<double>(per_slot) * kNsPerFlop;
  parallel_for(S, grain_for(S, slot_ns), [&](int64_t b, int64_t e) {
    Buffer<T> xin(static_cast<size_t>(checked_mul(pl.image_px, C, "channels-last input")));
    Buffer<T> gyt(static_cast<size_t>(checked_mul(total, ogp, "grad_output")));
    const int64_t image_in = C * pl.h * pl.w;
    // What the per-image copies below never write is zeroed once a chunk, not once an image:
    // the planes' slack rows, and grad_output's dropped columns and columns past og. Filling
    // all of gyt per image was 23 MB of stores a ResNet training step.
    for (int64_t q = 0; q < std::min(sh, pl.kh); ++q)
      std::fill(xin.get() + (q * pl.plane_px + pl.hq * pl.wrow) * C,
                xin.get() + (q + 1) * pl.plane_px * C, T(0));
    std::fill(gyt.get(), gyt.get() + total * ogp, T(0));
    bool first = true;
    for (int64_t s = b; s < e; ++s) {
      T* dst = part.get() + s * K * ogp;
      for (int64_t n = s * per_slot; n < (s + 1) * per_slot; ++n) {
        // The image's row-phase planes (padded row r = i*sh + q is row i of plane q), by
        // blocks of a cache line of channels as the forward (NHWC: whole rows, a memcpy each).
        // Only the planes a tap reads (q < kh): a strided 1x1 layer reads one of sh. The
        // all-padding rows are the same zeros for every image: written for the first only.
        const int64_t copy_channels = nhwc ? C : 64 / static_cast<int64_t>(sizeof(T));
        const int64_t r0 = first ? 0 : std::max<int64_t>(pl.p.pad_top, 0);
        const int64_t r1 = first ? sh * pl.hq : std::min(sh * pl.hq, pl.p.pad_top + pl.h);
        first = false;
        for (int64_t c0 = 0; c0 < C; c0 += copy_channels)
          for (int64_t r = r0; r < r1; ++r)
            if (r % sh < pl.kh)
              channels_last_block(pl, x + n * image_in, r, pl.wrow,
                                  xin.get() + ((r % sh) * pl.plane_px + r / sh * pl.wrow) * C, 0, 1,
                                  c0, std::min(C, c0 + copy_channels));
        // grad_output [pixel][o] over the wide rows (the zeros are in place, above).
        const T* gyn = gy + n * pl.o * pl.P;
        for (int64_t i = 0; i < pl.oh; ++i) {
          T* d = gyt.get() + i * pl.wpad * ogp;
          if (!nhwc)
            transpose_by_lines(gyn + i * pl.ow, pl.P, d, ogp, og, pl.ow);
          else if (ogp == og)
            std::memcpy(d, gyn + i * pl.ow * og, pl.ow * og * sizeof(T));
          else
            for (int64_t j = 0; j < pl.ow; ++j)
              std::memcpy(d + j * ogp, gyn + (i * pl.ow + j) * og, og * sizeof(T));
        }
        // Pixels in chunks whose B panel slice (chunk x NR) stays in L1 while the row tiles
        // of A stream past it.
        for (int64_t p0 = 0; p0 < total; p0 += chunk) {
          const int64_t np = std::min(chunk, total - p0);
          const T beta = n == s * per_slot && p0 == 0 ? T(0) : T(1);
          for (int64_t ky = 0; ky < pl.kh; ++ky) {
            const T* ab = xin.get() + ((ky % sh) * pl.plane_px + (ky / sh) * pl.wrow) * C + p0 * rs;
            for (int64_t t = 0; t < ogp; t += NR)
              for (int64_t i0 = 0; i0 < rowk; i0 += MR)
                fn(np, ab + i0, 1, rs, gyt.get() + p0 * ogp + t, ogp,
                   dst + (ky * rowk + i0) * ogp + t, ogp, std::min<int64_t>(MR, rowk - i0), NR,
                   T(1), beta);
          }
        }
      }
    }
  });
  // Sum the partials in slot order into (o, c, ky, kx), a partial's row of og at a time
  // (vectorized over o; element by element down the columns it was 5% of the ResNet
  // example's weight gradients). The taps of a channel share output lines but are partial rows
  // far apart: a chunk is a block of kSumChannels channels, every tap of them in turn, so each
  // output line is written by one thread.
  constexpr int64_t kSumChannels = 8;
  const int64_t cblk = (C + kSumChannels - 1) / kSumChannels;
  parallel_for(cblk, grain_for(cblk, 0.5 * static_cast<double>(S * og * taps * kSumChannels)),
               [&](int64_t b, int64_t e) {
                 Buffer<T> acc(static_cast<size_t>(og));
                 for (int64_t q = b; q < e; ++q)
                   for (int64_t tap = 0; tap < taps; ++tap)
                     for (int64_t c = q * kSumChannels; c < std::min(C, (q + 1) * kSumChannels);
                          ++c) {
                       const int64_t k = tap * C + c;  // k = (ky, kx, c)
                       const T* src = part.get() + k * ogp;
                       std::copy(src, src + og, acc.get());
                       for (int64_t s = 1; s < S; ++s)
                         for (int64_t o = 0; o < og; ++o) acc[o] += src[s * K * ogp + o];
                       T* out = gw + c * taps + tap;
                       for (int64_t o = 0; o < og; ++o) out[o * K] = acc[o];
                     }
               });
}

bool implicit_grad_weight_fits(const ImplicitPlan& pl) {
  // Kernels up to 3x3: a 4x4 stride-2 128-channel layer measured slower than the shifted path
  // (17.3 against 13.6 ms, one thread): its A rows (a 1 KiB kernel row a pixel, 512 bytes
  // apart) are streamed from L2 once per 32-column panel.
  return pl.kh <= 3 && pl.kw <= 3 && pl.groups == 1 && pl.fh == 1 && pl.fw == 1 && pl.edh == 1 &&
         pl.edw == 1 && pl.n > 0 && pl.P > 0 && pl.K > 0 && pl.o > 0 && pl.wslots >= 4;
}

template void forward_implicit<float>(const ImplicitPlan&, const float*, const float*, const float*,
                                      bool, float*);
template void forward_implicit<double>(const ImplicitPlan&, const double*, const double*,
                                       const double*, bool, double*);
template void grad_weight_implicit<float>(const ImplicitPlan&, const float*, const float*, float*);
template void grad_weight_implicit<double>(const ImplicitPlan&, const double*, const double*,
                                           double*);

}  // namespace conv_ops
}  // namespace npfast
