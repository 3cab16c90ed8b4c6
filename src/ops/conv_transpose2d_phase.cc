// conv_transpose2d by output phases: see conv_transpose2d_phase.h.
//
// Along one axis (stride s, dilation d, padding p), output y = s*m + r receives input
// iy = m + (r + p - k*d) / s through kernel element k, for the k with k*d = r + p (mod s).
// So phase (rh, rw) is a stride-1 correlation over its output grid (m, l) whose taps read the
// input at fixed offsets. The input is copied once into a padded channels-last layout of wpad
// pixels a row; the phase's output is computed over wide rows of wpad pixels (pixel
// m*wpad + l; columns past the phase's width dropped), so every tap's A rows are the copy
// itself at a constant offset (rs_a = C), as conv2d's implicit GEMM: no im2col, no col2im, and
// none of the structural zeros a stride-s transposed convolution puts in its zero-stuffed
// input. A read past a row's right end lands on the next row's left padding, so one zero column
// serves both sides (wpad = W + 1 for the 4x4 stride-2 layer: 6% dropped pixels, not 12%).
// Within a phase the taps of a kernel row read adjacent pixels in reverse order (k up,
// offset down); the phase's taps are stored by ascending offset, so with one group a kernel
// row's taps are one contiguous K segment.
#include "src/ops/conv_transpose2d_phase.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/gemm/gemm.h"
#include "src/ops/conv2d_implicit.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace convt {
namespace {

using conv_ops::kNsPerFlop;
// Work items of the forward: as conv2d's implicit GEMM (kImplicitItem*, conv2d_plan.h).
// Images copied at a time: the copy stays in L2/L3 while the phases read it.
constexpr int64_t kBatchBytes = int64_t{4} << 20;
// Fixed weight-gradient slots (a split of the images that depends on the shape only).
constexpr int64_t kMaxSlots = 8;
// Weight-gradient partials larger than this (bytes, a slot's) take the images of a sub-batch
// tile by tile (see grad_weight).
constexpr int64_t kTilesOuterBytes = int64_t{1} << 20;
// Bound on all slots' weight-gradient partials together (bytes), where it leaves >= 1 slot.
constexpr int64_t kPartialBytes = int64_t{16} << 20;
// Strides with more output phases than this take conv2d's paths: the plan's per-phase tables
// grow with sh * sw, and most such phases hold one tap or none.
constexpr int64_t kMaxPhases = 64;

// Phase r's taps along one axis: kernel indices (descending, so the input offsets ascend) and
// offsets.
void axis_taps(int64_t r, int64_t s, int64_t d, int64_t p, int64_t kn, int64_t* ks, int64_t* offs,
               int64_t* count) {
  *count = 0;
  for (int64_t k = kn - 1; k >= 0; --k) {
    const int64_t v = r + p - k * d;
    if (((v % s) + s) % s != 0) continue;
    ks[*count] = k;
    offs[*count] = v / s;  // exact
    ++*count;
  }
}

int64_t phase_count(int64_t out, int64_t r, int64_t s) {
  return out > r ? (out - r + s - 1) / s : 0;
}

// Along one axis: each phase's taps (phase r's are ks/offs[r * kn ...], counts[r] of them),
// the padding before the data, pre = -(the smallest offset), and the extent (rows, or pixels a
// row) the reads need: >= pre + in, and >= every phase's outputs + its largest offset (+ pre,
// unless `wrap`: columns read past a row's end land in the next row's left padding).
void axis_extent(int64_t s, int64_t d, int64_t p, int64_t kn, int64_t in, int64_t out, bool wrap,
                 Buffer<int64_t>* ks, Buffer<int64_t>* offs, Buffer<int64_t>* counts, int64_t* pre,
                 int64_t* extent) {
  int64_t lo = 0, hi_need = 0, outs = 0;
  for (int64_t r = 0; r < s; ++r) {
    int64_t& cnt = (*counts)[r];
    axis_taps(r, s, d, p, kn, ks->get() + r * kn, offs->get() + r * kn, &cnt);
    const int64_t nr = phase_count(out, r, s);
    outs = std::max(outs, nr);
    if (cnt == 0 || nr == 0) continue;
    lo = std::min(lo, (*offs)[r * kn]);
    hi_need = std::max(hi_need, nr + (*offs)[r * kn + cnt - 1]);
  }
  *pre = -lo;
  *extent = std::max({*pre + in, outs, hi_need + (wrap ? 0 : *pre)});
}

template <class T>
const gemm_kernels::Ukernel<T>& ukernel() {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  return of<T>(gk.f32, gk.f64);
}

// The conv2d geometry channels_last_block reads: the input's sizes, the copy's padding.
conv_ops::Geometry copy_geometry(const PhasePlan& pl) {
  conv_ops::Geometry g{};
  g.n = pl.n, g.c = pl.c, g.h = pl.h, g.w = pl.w;
  g.p.pad_top = pl.pad_top;
  g.p.pad_left = pl.pad_left;
  g.p.layout = pl.layout;
  return g;
}

// Image `x` (one image of the input, the plan's layout) into its padded channels-last copy
// `d` (image_px pixels; the slack after the hq rows zeroed). NCHW by blocks of a cache line of
// channels, every plane read as one stream (conv2d_layout.h). Serial.
template <class T>
void copy_image(const PhasePlan& pl, const conv_ops::Geometry& g, const T* x, T* d) {
  constexpr int64_t kCopyChannels = 64 / sizeof(T);
  const int64_t step = pl.layout == Layout::nhwc ? pl.c : kCopyChannels;
  for (int64_t c0 = 0; c0 < pl.c; c0 += step)
    for (int64_t r = 0; r < pl.hq; ++r)
      conv_ops::channels_last_block(g, x, r, pl.wpad, d + r * pl.wpad * pl.c, 0, 1, c0,
                                    std::min(pl.c, c0 + step));
  std::fill(d + pl.hq * pl.wpad * pl.c, d + pl.image_px * pl.c, T(0));
}

}  // namespace

bool use_phases(int64_t cin_per_group, const Conv2dParams& p) {
  return p.stride_h * p.stride_w <= kMaxPhases && (p.layout == Layout::nhwc || cin_per_group >= 16);
}

PhasePlan plan_phases(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                      const Conv2dParams& p, int64_t oh, int64_t ow, DType t) {
  PhasePlan pl;
  pl.n = n, pl.c = c, pl.h = h, pl.w = w, pl.o = o, pl.kh = kh, pl.kw = kw;
  pl.groups = p.groups, pl.cg = c / p.groups, pl.og = o / p.groups, pl.oh = oh, pl.ow = ow;
  pl.sh = p.stride_h, pl.sw = p.stride_w, pl.layout = p.layout;
  int kc = 0;
  const auto take = [&](const auto& uk) {
    pl.narrow = uk.fn_narrow && pl.og <= uk.nr / 2;
    pl.mr = uk.mr, pl.nr = pl.narrow ? uk.nr / 2 : uk.nr, kc = uk.kc;
  };
  if (t == DType::f32)
    take(ukernel<float>());
  else
    take(ukernel<double>());

  Buffer<int64_t> kys(static_cast<size_t>(pl.sh * kh)), oys(static_cast<size_t>(pl.sh * kh));
  Buffer<int64_t> kxs(static_cast<size_t>(pl.sw * kw)), oxs(static_cast<size_t>(pl.sw * kw));
  Buffer<int64_t> cys(static_cast<size_t>(pl.sh)), cxs(static_cast<size_t>(pl.sw));
  axis_extent(pl.sh, p.dilation_h, p.pad_top, kh, h, oh, false, &kys, &oys, &cys, &pl.pad_top,
              &pl.hq);
  axis_extent(pl.sw, p.dilation_w, p.pad_left, kw, w, ow, true, &kxs, &oxs, &cxs, &pl.pad_left,
              &pl.wpad);
  // Reads reach at most: the last row's wrap into row hq, a tile's MR - 1 pixels past the
  // last output and a channel tile's MR - 1 elements past a segment (the weight gradient).
  pl.image_px = (pl.hq + 2) * pl.wpad + pl.mr + 1;

  const int64_t nph = pl.sh * pl.sw;
  pl.ph_oh = Buffer<int64_t>(static_cast<size_t>(nph));
  pl.ph_ow = Buffer<int64_t>(static_cast<size_t>(nph));
  pl.tap0 = Buffer<int64_t>(static_cast<size_t>(nph + 1));
  pl.run0 = Buffer<int64_t>(static_cast<size_t>(nph + 1));
  pl.seg0 = Buffer<int64_t>(static_cast<size_t>(nph + 1));
  pl.taps = Buffer<Tap>(static_cast<size_t>(kh * kw));
  pl.runs = Buffer<Segment>(static_cast<size_t>(kh * kw));
  const int64_t max_seg = kh * kw * ((pl.cg + kc - 1) / kc + 1);
  pl.segs = Buffer<Segment>(static_cast<size_t>(max_seg));
  int64_t nt = 0, nr = 0, ns = 0;
  for (int64_t rh = 0; rh < pl.sh; ++rh) {
    const int64_t cy = cys[rh];
    for (int64_t rw = 0; rw < pl.sw; ++rw) {
      const int64_t cx = cxs[rw];
      const int64_t ph = rh * pl.sw + rw;
      pl.ph_oh[ph] = phase_count(oh, rh, pl.sh);
      pl.ph_ow[ph] = phase_count(ow, rw, pl.sw);
      pl.tap0[ph] = nt;
      pl.run0[ph] = nr;
      pl.seg0[ph] = ns;
      const int64_t t0 = nt;
      for (int64_t i = 0; i < cy; ++i)
        for (int64_t j = 0; j < cx; ++j)
          pl.taps[nt++] =
              Tap{kys[rh * kh + i], kxs[rw * kw + j],
                  (oys[rh * kh + i] + pl.pad_top) * pl.wpad + oxs[rw * kw + j] + pl.pad_left};
      // Runs of taps on adjacent pixels (one group: a pixel's channels are the group's), each
      // cut to the microkernel's K block.
      for (int64_t i = t0; i < nt;) {
        int64_t e = i + 1;
        while (pl.groups == 1 && e < nt && pl.taps[e].pix == pl.taps[e - 1].pix + 1) ++e;
        const int64_t len = (e - i) * pl.cg, pieces = (len + kc - 1) / kc;
        pl.runs[nr++] = Segment{pl.taps[i].pix * c, (i - t0) * pl.cg, len};
        for (int64_t q = 0; q < pieces; ++q) {
          const int64_t k0 = q * len / pieces, k1 = (q + 1) * len / pieces;
          pl.segs[ns++] = Segment{pl.taps[i].pix * c + k0, (i - t0) * pl.cg + k0, k1 - k0};
        }
        i = e;
      }
    }
  }
  pl.tap0[nph] = nt;
  pl.run0[nph] = nr;
  pl.seg0[nph] = ns;
  return pl;
}

template <class T>
void forward(const PhasePlan& pl, const T* x, const T* w, const T* bias, T* y) {
  const gemm_kernels::Ukernel<T>& uk = ukernel<T>();
  const gemm_kernels::UkernelFn<T> fn = pl.narrow ? uk.fn_narrow : uk.fn;
  // A last tile of rows < MR: the kernel of its height (same per-element arithmetic).
  const auto fn_of = [&](int64_t rows) { return pl.narrow ? fn : uk.for_rows(rows); };
  const int64_t MR = pl.mr, NR = pl.nr, C = pl.c, cg = pl.cg, og = pl.og, O = pl.o;
  const int64_t ogp = round_up(og, NR), panels = ogp / NR, nph = pl.sh * pl.sw;
  const int64_t taps = pl.kh * pl.kw, P = pl.oh * pl.ow;

  // Whole images per work item (below) where they split evenly over the threads; then the
  // weights are packed inside the images' job, once, as in conv2d's implicit GEMM (a short job
  // of its own right before the images' job can cost that job its helper; on the caller before
  // it, the call takes the packing and the helpers' wake-up in turn).
  const int64_t image_elems = checked_mul(pl.image_px, C, "channels-last input");
  const bool whole = conv_ops::even_split(pl.n, image_elems * static_cast<int64_t>(sizeof(T)));
  // Weights per phase as [group][panel][k][NR], k = (the phase's tap, channel), zero columns
  // past og; one (phase, group, panel) per work item.
  Buffer<int64_t> wofs(static_cast<size_t>(nph + 1));
  wofs[0] = 0;
  for (int64_t ph = 0; ph < nph; ++ph)
    wofs[ph + 1] = wofs[ph] + pl.groups * ogp * (pl.tap0[ph + 1] - pl.tap0[ph]) * cg;
  Buffer<T> wp(static_cast<size_t>(std::max<int64_t>(wofs[nph], 1)));
  const int64_t units = nph * pl.groups * panels;
  auto pack_units = [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t ph = u / (pl.groups * panels), g = u / panels % pl.groups;
      const int64_t o0 = u % panels * NR, cols = std::min(NR, og - o0);
      const int64_t nt = pl.tap0[ph + 1] - pl.tap0[ph];
      T* dst = wp.get() + wofs[ph] + (g * panels + u % panels) * nt * cg * NR;
      for (int64_t i = 0; i < nt; ++i) {
        const Tap& tp = pl.taps[pl.tap0[ph] + i];
        for (int64_t ci = 0; ci < cg; ++ci, dst += NR) {
          const T* src = w + ((g * cg + ci) * og + o0) * taps + tp.ky * pl.kw + tp.kx;
          for (int64_t j = 0; j < cols; ++j) dst[j] = src[j * taps];
          for (int64_t j = cols; j < NR; ++j) dst[j] = T(0);
        }
      }
    }
  };
  if (!whole)
    parallel_for(units, grain_for(units, static_cast<double>(taps * cg * NR) / nph), pack_units);

  // Items: (image, row phase, group, block of its rows), each over all column phases so that
  // an NCHW output row is stored by one transpose. Tiles along the wide rows, or row by row
  // where that computes fewer pixels (as conv2d's implicit GEMM).
  const int64_t ohm = pl.ph_oh[0], owm = pl.ph_ow[0], total = ohm * pl.wpad;
  const double pixel_flops = 2.0 * static_cast<double>(og * cg * taps) / static_cast<double>(pl.sh);
  const int64_t want_px = std::max<int64_t>(
      static_cast<int64_t>(conv_ops::kImplicitItemFlops / std::max(pixel_flops, 1.0)),
      conv_ops::kImplicitItemPixels);
  const int64_t row_tiles = (owm + MR - 1) / MR;
  const bool by_rows = ohm * row_tiles * MR < round_up(std::max<int64_t>(total, 1), MR);
  const int64_t cpitch = std::max(pl.wpad, row_tiles * MR);
  int64_t cap, blocks, rows_per_item = 0;
  if (by_rows) {
    rows_per_item = std::clamp<int64_t>((want_px + row_tiles * MR - 1) / (row_tiles * MR), 1,
                                        std::max<int64_t>(ohm, 1));
    blocks = (ohm + rows_per_item - 1) / rows_per_item;
    cap = rows_per_item * cpitch;
  } else {
    cap = std::min(round_up(want_px, MR), round_up(std::max<int64_t>(total, 1), MR));
    blocks = (total + cap - 1) / cap;
  }
  const int64_t image_in = C * pl.h * pl.w;
  const conv_ops::Geometry geo = copy_geometry(pl);
  const double item_ns = pixel_flops * static_cast<double>(cap) * kNsPerFlop;
  // C block rows [pixel][column phase][ogp] (row stride rsc for one phase's tiles), so that
  // the output columns of a row, ox = sw*l + rw, are consecutive rows: stored by one
  // transpose (NCHW) or copy (NHWC) with no interleaving pass. With a bias the rows start
  // as the bias and every product adds to them (no bias pass over the output afterwards:
  // with it, the stores took a fifth more).
  const int64_t rsc = pl.sw * ogp;
  // Item `it` of image n ((row phase, group, block) in row-major order) from the image's
  // channels-last copy xi, with cbuf (cap * rsc) the caller's scratch.
  const int64_t per_image = pl.sh * pl.groups * blocks;
  auto run_item = [&](int64_t it, int64_t n, const T* xi, T* cbuf) {
    const int64_t blk = it % blocks, g = it / blocks % pl.groups, rh = it / blocks / pl.groups;
    const int64_t ohr = pl.ph_oh[rh * pl.sw];
    int64_t r0 = 0, r1 = 0, p0 = 0, p1 = 0;
    if (by_rows) {
      r0 = blk * rows_per_item, r1 = std::min(ohr, r0 + rows_per_item);
      if (r0 >= r1) return;
    } else {
      p0 = blk * cap, p1 = std::min(ohr * pl.wpad, p0 + cap);
      if (p0 >= p1) return;
    }
    const T* ab = xi + g * cg;
    const T* bg = bias ? bias + g * og : nullptr;
    // Output rows oy = sh*m + rh, m in [m0, m1); NCHW lines asked for during the products
    // (conv_ops::LinesAhead).
    const int64_t m0 = by_rows ? r0 : p0 / pl.wpad;
    const int64_t m1 = by_rows ? r1 : std::min(ohr, (p1 + pl.wpad - 1) / pl.wpad);
    const int64_t esz = static_cast<int64_t>(sizeof(T));
    conv_ops::LinesAhead ahead(y + (n * O + g * og) * P + (pl.sh * m0 + rh) * pl.ow,
                               pl.layout == Layout::nchw ? og : 0, P * esz, m1 - m0,
                               pl.sh * pl.ow * esz, pl.ow * esz);
    int64_t calls = 0;
    for (int64_t rw = 0; rw < pl.sw; ++rw)
      calls += pl.seg0[rh * pl.sw + rw + 1] - pl.seg0[rh * pl.sw + rw];
    calls *= panels * (by_rows ? (r1 - r0) * row_tiles : (p1 - p0 + MR - 1) / MR);
    const int64_t per_call = (ahead.lines() + calls - 1) / std::max<int64_t>(calls, 1);
    for (int64_t rw = 0; rw < pl.sw; ++rw) {
      const int64_t ph = rh * pl.sw + rw, nt = pl.tap0[ph + 1] - pl.tap0[ph];
      T* cb = cbuf + rw * ogp;
      const bool no_taps = pl.seg0[ph] == pl.seg0[ph + 1];
      if (bg || no_taps)
        for (int64_t q = 0; q < cap; ++q) {
          if (bg)
            std::copy(bg, bg + og, cb + q * rsc);
          else
            std::fill(cb + q * rsc, cb + q * rsc + og, T(0));
        }
      if (no_taps) continue;
      for (int64_t t = 0; t < panels; ++t) {
        const T* bp = wp.get() + wofs[ph] + (g * panels + t) * nt * cg * NR;
        for (int64_t s = pl.seg0[ph]; s < pl.seg0[ph + 1]; ++s) {
          const Segment& sg = pl.segs[s];
          const T* as = ab + sg.a_off;
          const T* bs = bp + sg.k0 * NR;
          const T beta = s == pl.seg0[ph] && !bg ? T(0) : T(1);
          if (by_rows) {
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t q = 0; q < row_tiles; ++q) {
                ahead.ahead(per_call);
                fn(sg.len, as + (r * pl.wpad + q * MR) * C, C, 1, bs, NR,
                   cb + ((r - r0) * cpitch + q * MR) * rsc + t * NR, rsc, MR, NR, T(1), beta);
              }
          } else {
            for (int64_t i = 0; i < p1 - p0; i += MR) {
              ahead.ahead(per_call);
              const int64_t rows = std::min(MR, p1 - p0 - i);
              fn_of(rows)(sg.len, as + (p0 + i) * C, C, 1, bs, NR, cb + i * rsc + t * NR, rsc, rows,
                          NR, T(1), beta);
            }
          }
        }
      }
    }
    // Store output rows oy = sh*m + rh: column ox = sw*l + rw is C row
    // (base(m) + l) * sw + rw = base(m) * sw + ox.
    for (int64_t m = m0; m < m1; ++m) {
      const int64_t base = by_rows ? (m - r0) * cpitch : m * pl.wpad - p0;
      const int64_t j0 = by_rows ? 0 : std::max<int64_t>(p0 - m * pl.wpad, 0);
      const int64_t j1 = by_rows ? owm : std::min(p1 - m * pl.wpad, owm);
      const int64_t oy = pl.sh * m + rh, ox0 = pl.sw * j0, ox1 = std::min(pl.ow, pl.sw * j1);
      const int64_t nx = ox1 - ox0;
      if (nx <= 0) continue;
      const T* cr = cbuf + (base * pl.sw + ox0) * ogp;
      if (pl.layout == Layout::nhwc) {
        T* yp = y + ((n * pl.oh + oy) * pl.ow + ox0) * O + g * og;
        if (og == O && ogp == O)
          std::memcpy(yp, cr, nx * O * sizeof(T));
        else
          for (int64_t j = 0; j < nx; ++j) std::memcpy(yp + j * O, cr + j * ogp, og * sizeof(T));
      } else {
        conv_ops::transpose_by_lines(cr, ogp, y + (n * O + g * og) * P + oy * pl.ow + ox0, P, nx,
                                     og);
      }
    }
  };

  // Whole images per work item where the batch splits evenly over the threads (as conv2d's
  // implicit GEMM, even_split; every row phase reads all rows here): each thread copies its
  // image into its own buffer and computes all its items, one hand-off a call.
  if (whole) {
    const double image_ns =
        item_ns * static_cast<double>(per_image) + 0.5 * static_cast<double>(pl.image_px * C);
    conv_ops::OnceInJob packed;
    parallel_for(pl.n, grain_for(pl.n, image_ns), [&](int64_t b, int64_t e) {
      packed.run([&] { pack_units(0, units); });
      Buffer<T> xi(static_cast<size_t>(image_elems));
      Buffer<T> cbuf(static_cast<size_t>(cap * rsc));
      for (int64_t n = b; n < e; ++n) {
        copy_image(pl, geo, x + n * image_in, xi.get());
        for (int64_t it = 0; it < per_image; ++it) run_item(it, n, xi.get(), cbuf.get());
      }
    });
    return;
  }
  const int64_t bimg = std::clamp<int64_t>(
      kBatchBytes / std::max<int64_t>(pl.image_px * C * static_cast<int64_t>(sizeof(T)), 1), 1,
      std::max<int64_t>(pl.n, 1));
  Buffer<T> xin(static_cast<size_t>(checked_mul(
      checked_mul(bimg, pl.image_px, "channels-last input"), C, "channels-last input")));
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0);
    parallel_for(nimg, grain_for(nimg, 0.5 * static_cast<double>(pl.image_px * C)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i)
                     copy_image(pl, geo, x + (n0 + i) * image_in, xin.get() + i * pl.image_px * C);
                 });
    const int64_t items = nimg * per_image;
    parallel_for(items, grain_for(items, item_ns, 16), [&](int64_t b, int64_t e) {
      Buffer<T> cbuf(static_cast<size_t>(cap * rsc));
      for (int64_t it = b; it < e; ++it)
        run_item(it % per_image, n0 + it / per_image, xin.get() + it / per_image * pl.image_px * C,
                 cbuf.get());
    });
  }
}

template <class T>
bool grad_weight(const PhasePlan& pl, const T* x, const T* gy, T* gw) {
  const gemm_kernels::Ukernel<T>& uk = ukernel<T>();
  const gemm_kernels::UkernelFn<T> fn = pl.narrow ? uk.fn_narrow : uk.fn;
  // A last tile of rows < MR: the kernel of its height (same per-element arithmetic).
  const auto fn_of = [&](int64_t rows) { return pl.narrow ? fn : uk.for_rows(rows); };
  const int64_t MR = pl.mr, NR = pl.nr, C = pl.c, cg = pl.cg, og = pl.og, O = pl.o;
  const int64_t ogp = round_up(og, NR), panels = ogp / NR, ldg = pl.groups * ogp;
  const int64_t taps = pl.kh * pl.kw, ktot = taps * cg, P = pl.oh * pl.ow;
  const int64_t ohm = pl.ph_oh[0], nph = pl.sh * pl.sw;
  // Fixed image slots, each with its own partial: at most 8, and fewer where the partials
  // would pass kPartialBytes (each slot's partial is streamed per pass over its images: 8 MiB
  // ones for 4x4/2 512->256 @4 made the weight gradient memory-bound).
  const int64_t slot_size = pl.groups * ktot * ogp;
  const int64_t S = std::min(
      {pl.n, kMaxSlots,
       std::max<int64_t>(
           1, kPartialBytes / std::max<int64_t>(slot_size * static_cast<int64_t>(sizeof(T)), 1))});
  if (S == 0 || ktot == 0 || og == 0) {
    std::fill(gw, gw + C * og * taps, T(0));
    return true;
  }
  // Work items: (slot, row-phase class j), j < split. Row phases write disjoint rows of a
  // slot's partial, so with fewer than 8 slots the row phases (rh = j mod split) are items of
  // their own, and a batch of one still runs on sh threads. Both splits depend on the shape
  // only.
  const int64_t split = S < kMaxSlots ? pl.sh : 1, items = S * split;
  // A phase with no outputs leaves its rows of the partials unwritten: zero them first.
  bool empty_phase = false;
  for (int64_t ph = 0; ph < nph; ++ph) empty_phase |= pl.ph_oh[ph] == 0 || pl.ph_ow[ph] == 0;
  // The B slice of a chunk of pixels (chunk x NR) stays in L1 while the tiles pass over it.
  const int64_t chunk = std::max<int64_t>(16384 / (NR * static_cast<int64_t>(sizeof(T))), 16);
  Buffer<T> part(static_cast<size_t>(checked_mul(S, slot_size, "partials")));
  if (empty_phase) std::fill(part.get(), part.get() + S * slot_size, T(0));
  const int64_t image_in = C * pl.h * pl.w;
  const conv_ops::Geometry geo = copy_geometry(pl);
  const double slot_ns = 2.0 * static_cast<double>(O * cg * taps) *
                         static_cast<double>(ohm * pl.wpad) * static_cast<double>(pl.sh) *
                         static_cast<double>((pl.n + S - 1) / S) * kNsPerFlop /
                         static_cast<double>(split);
  // The images of a slot go through in sub-batches whose copies and gathered rows stay in
  // L2. Where a slot's partial is large (big kernels and channel counts, small images) each
  // C tile takes all images of a sub-batch in turn while it is in L1: image by image, every
  // image re-streamed the whole partial from memory (4x4/2 512->256 @4: 0.5x torch). Either
  // order adds an element's terms image by image, chunk by chunk: the same bits.
  const int64_t phase_px = ohm * pl.wpad;
  const int64_t image_gy = nph * phase_px * ldg;  // gathered rows of one image, all phases
  const int64_t per_image = (pl.image_px * C + image_gy) * static_cast<int64_t>(sizeof(T));
  const int64_t nb =
      std::clamp<int64_t>(kBatchBytes / std::max<int64_t>(per_image, 1), 1, (pl.n + S - 1) / S);
  const bool tiles_outer = slot_size * static_cast<int64_t>(sizeof(T)) > kTilesOuterBytes;
  parallel_for(items, grain_for(items, slot_ns), [&](int64_t b, int64_t e) {
    Buffer<T> xin(static_cast<size_t>(checked_mul(nb * pl.image_px, C, "channels-last input")));
    // grad_output's rows as [wide pixel][group, o] per image and phase. Only the valid pixels'
    // og channels are ever written: the dropped columns, the rows past a phase's and the
    // columns past og are zeroed once here and stay zero (filling all of it, 0.56 MB a chunk
    // for the layer, cost a chunk as much as its gathers).
    Buffer<T> gyt(static_cast<size_t>(checked_mul(nb, image_gy, "grad_output rows")));
    for (int64_t j = 0; j < nb; ++j)
      for (int64_t ph = 0; ph < nph; ++ph) {
        const int64_t ohp = pl.ph_oh[ph], owp = pl.ph_ow[ph];
        for (int64_t m = 0; m < ohm; ++m) {
          T* r = gyt.get() + j * image_gy + (ph * phase_px + m * pl.wpad) * ldg;
          const int64_t valid = m < ohp ? owp : 0;
          std::fill(r + valid * ldg, r + pl.wpad * ldg, T(0));
          if (ogp > og)
            for (int64_t l = 0; l < valid; ++l)
              for (int64_t g = 0; g < pl.groups; ++g)
                std::fill(r + l * ldg + g * ogp + og, r + l * ldg + (g + 1) * ogp, T(0));
        }
      }
    Buffer<T> row(static_cast<size_t>(pl.ow * O));
    for (int64_t it = b; it < e; ++it) {
      const int64_t s = it / split;
      T* dst = part.get() + s * slot_size;
      const int64_t i0 = s * pl.n / S, i1 = (s + 1) * pl.n / S;
      // One product: image j of the sub-batch (image n), phase ph, pixels [p0, p0 + np), group
      // g, panel t, run q, row tile i.
      const auto product = [&](int64_t j, int64_t n, int64_t ph, int64_t p0, int64_t np, int64_t g,
                               int64_t t, const Segment& sg, int64_t i) {
        const T beta = !empty_phase && n == i0 && p0 == 0 ? T(0) : T(1);
        const int64_t rows = std::min(MR, sg.len - i);
        fn_of(rows)(np, xin.get() + (j * pl.image_px + p0) * C + sg.a_off + g * cg + i, 1, C,
                    gyt.get() + j * image_gy + (ph * phase_px + p0) * ldg + g * ogp + t * NR, ldg,
                    dst + (g * ktot + pl.tap0[ph] * cg + sg.k0 + i) * ogp + t * NR, ogp, rows, NR,
                    T(1), beta);
      };
      for (int64_t n0 = i0; n0 < i1; n0 += nb) {
        const int64_t nj = std::min(nb, i1 - n0);
        for (int64_t j = 0; j < nj; ++j) {
          const int64_t n = n0 + j;
          copy_image(pl, geo, x + n * image_in, xin.get() + j * pl.image_px * C);
          for (int64_t rh = it % split; rh < pl.sh; rh += split) {
            const int64_t ohr = pl.ph_oh[rh * pl.sw];
            T* gj = gyt.get() + j * image_gy + rh * pl.sw * phase_px * ldg;
            for (int64_t m = 0; m < ohr; ++m) {
              const int64_t oy = pl.sh * m + rh;
              const T* src;
              if (pl.layout == Layout::nhwc) {
                src = gy + (n * pl.oh + oy) * pl.ow * O;
              } else {
                conv_ops::transpose_by_lines(gy + n * O * P + oy * pl.ow, P, row.get(), O, O,
                                             pl.ow);
                src = row.get();
              }
              for (int64_t ox = 0; ox < pl.ow; ++ox) {
                T* d = gj + (ox % pl.sw * phase_px + m * pl.wpad + ox / pl.sw) * ldg;
                for (int64_t g = 0; g < pl.groups; ++g)
                  std::memcpy(d + g * ogp, src + ox * O + g * og, og * sizeof(T));
              }
            }
          }
        }
        for (int64_t rh = it % split; rh < pl.sh; rh += split)
          for (int64_t rw = 0; rw < pl.sw; ++rw) {
            const int64_t ph = rh * pl.sw + rw, total = pl.ph_oh[ph] * pl.wpad;
            if (pl.ph_ow[ph] == 0) continue;
            // The pixels in equal pieces of about `chunk`: 272 as 128 + 128 + 16 loaded and
            // stored every C tile a third time for 16 steps.
            const int64_t pieces = std::max<int64_t>(1, (total + chunk / 2) / chunk);
            if (tiles_outer) {
              for (int64_t g = 0; g < pl.groups; ++g)
                for (int64_t t = 0; t < panels; ++t)
                  for (int64_t q = pl.run0[ph]; q < pl.run0[ph + 1]; ++q)
                    for (int64_t i = 0; i < pl.runs[q].len; i += MR)
                      for (int64_t j = 0; j < nj; ++j)
                        for (int64_t c = 0; c < pieces; ++c)
                          product(j, n0 + j, ph, c * total / pieces,
                                  (c + 1) * total / pieces - c * total / pieces, g, t, pl.runs[q],
                                  i);
              continue;
            }
            for (int64_t j = 0; j < nj; ++j)
              for (int64_t c = 0; c < pieces; ++c) {
                const int64_t p0 = c * total / pieces, np = (c + 1) * total / pieces - p0;
                for (int64_t g = 0; g < pl.groups; ++g)
                  for (int64_t t = 0; t < panels; ++t)
                    for (int64_t q = pl.run0[ph]; q < pl.run0[ph + 1]; ++q)
                      for (int64_t i = 0; i < pl.runs[q].len; i += MR)
                        product(j, n0 + j, ph, p0, np, g, t, pl.runs[q], i);
              }
          }
      }
    }
  });
  // Partials added in slot order (a row of og at a time, vectorized over o) into
  // (c, og, kh, kw). An output line holds all taps of one (c, o), and a channel's taps are
  // partial rows far apart: a chunk is a block of kSumChannels channels, every tap of them in
  // turn, so each output line is written by one thread (chunks of consecutive rows, i.e. of
  // taps, had both threads writing every line of gw at once) and stays in L1 meanwhile.
  constexpr int64_t kSumChannels = 8;
  const int64_t cblk = (cg + kSumChannels - 1) / kSumChannels, nsum = pl.groups * cblk;
  // The slices' finiteness (see the header), per chunk: the rows are in L1 here, where a pass
  // over gw afterwards read gw[:, 0]'s C lines from L3 (4x4/2 512 -> 256 @4 N=8: +1%).
  Buffer<unsigned char> finite(static_cast<size_t>(nsum));
  parallel_for(nsum, grain_for(nsum, 0.5 * static_cast<double>(S * og * taps * kSumChannels)),
               [&](int64_t b, int64_t e) {
                 Buffer<T> acc(static_cast<size_t>(og));
                 for (int64_t q = b; q < e; ++q) {
                   const int64_t g = q / cblk, c0 = q % cblk * kSumChannels;
                   bool fin = true;
                   for (int64_t tap = 0; tap < taps; ++tap) {
                     const Tap& tp = pl.taps[tap];
                     for (int64_t ci = c0; ci < std::min(cg, c0 + kSumChannels); ++ci) {
                       const T* src = part.get() + (g * ktot + tap * cg + ci) * ogp;
                       std::copy(src, src + og, acc.get());
                       for (int64_t s = 1; s < S; ++s)
                         for (int64_t o = 0; o < og; ++o) acc[o] += src[s * slot_size + o];
                       T* out = gw + (g * cg + ci) * og * taps + tp.ky * pl.kw + tp.kx;
                       for (int64_t o = 0; o < og; ++o) out[o * taps] = acc[o];
                       fin &= std::isfinite(acc[0]);
                       if (ci == 0)
                         for (int64_t o = 1; o < og; ++o) fin &= std::isfinite(acc[o]);
                     }
                   }
                   finite[q] = fin;
                 }
               });
  return std::all_of(finite.get(), finite.get() + nsum, [](unsigned char f) { return f != 0; });
}

template void forward<float>(const PhasePlan&, const float*, const float*, const float*, float*);
template void forward<double>(const PhasePlan&, const double*, const double*, const double*,
                              double*);
template bool grad_weight<float>(const PhasePlan&, const float*, const float*, float*);
template bool grad_weight<double>(const PhasePlan&, const double*, const double*, double*);

}  // namespace convt
}  // namespace npfast
