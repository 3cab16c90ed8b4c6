// The stride-1 implicit GEMM over a channels-last copy of the input.
//
// The input is copied once into padded NHWC (hq x wpad pixels, the channels of a pixel
// contiguous). With the output computed over the padded width wpad (columns >= ow dropped,
// as in conv2d_shifted.cc), output pixel p and tap (ky, kx) read padded pixel
// p + ky*dh*wpad + kx*dw: a GEMM C[p][o] = sum_k A[p][k] B[k][o] whose A rows are read in place
// (row p at pixel p, k = (ky, kx, c)). For dw == 1 and one group, the kw taps of a kernel row
// are kw*C contiguous elements, so a kernel row is one K segment; otherwise each tap is one.
// The weights are packed once per call into NR-wide panels; no operand is packed per tile, and
// the microkernel runs on full tiles only (the workspaces carry slack rows and columns).
// Compared with the shifted path this drops the kw input copies and the per-block B packing,
// which took about a quarter of a ResNet 3x3 layer's time (docs/conv.md).
#include <algorithm>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/gemm/gemm.h"
#include "src/kernels/pack/pack.h"
#include "src/ops/conv2d_epilogue.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {
namespace {

using pack::transpose;

constexpr double kNsPerFlop = 0.03;
// A work item is a few output rows of one image and group: at least this many flops (~100 us,
// enough to hide the hand-off) and this many pixels (so each slice of a weight panel, pulled
// from L2 or L3, is reused by that many tiles), small enough that two threads split a 56^2
// layer evenly.
constexpr double kItemFlops = 4.0e6;
constexpr int64_t kItemPixels = 96;

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Pixels of one image's padded NHWC copy, with the slack the last tile's rows and taps read.
int64_t nhwc_pixels(const ImplicitPlan& pl, int mr) {
  return pl.hq * pl.wpad + mr + (pl.kw - 1) * pl.p.dilation_w;
}

// A K segment: `len` steps of A starting `a_off` elements from a pixel's row, paired with
// the weight rows starting at `k0`.
struct Segment {
  int64_t a_off, k0, len;
};

}  // namespace

template <class T>
void forward_implicit(const ImplicitPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                      T* y) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  const int MR = uk.mr, NR = uk.nr;
  const int64_t C = pl.c, cg = pl.cg, og = pl.og, K = pl.K, taps = pl.kh * pl.kw;
  const int64_t ogp = round_up(og, NR), panels = ogp / NR;
  const int64_t dh = pl.p.dilation_h, dw = pl.p.dilation_w;

  // K segments in (ky, kx, c) order, each cut to the kernel's K block so a weight panel's
  // slice stays in L1 while the tiles of an item stream past it.
  const bool rows_contiguous = dw == 1 && pl.groups == 1;
  const int64_t per_tap = rows_contiguous ? pl.kw : 1;
  const int64_t seg_len = per_tap * cg, nseg_k = (seg_len + uk.kc - 1) / uk.kc;
  Buffer<Segment> sg(static_cast<size_t>((taps / per_tap) * nseg_k));
  int64_t nseg = 0;
  for (int64_t t = 0; t < taps; t += per_tap) {
    const int64_t ky = t / pl.kw, kx = t % pl.kw;
    const int64_t base = (ky * dh * pl.wpad + kx * dw) * C;
    for (int64_t q = 0; q < nseg_k; ++q) {
      const int64_t k0 = q * seg_len / nseg_k, k1 = (q + 1) * seg_len / nseg_k;
      sg[nseg++] = Segment{base + k0, t * cg + k0, k1 - k0};
    }
  }

  // Weights as [group][panel][k][NR], k = (ky, kx, c), zero columns past og; written in
  // order, one panel per work item (a serial pack was 4% of a 2-thread ResNet 3x3 layer).
  Buffer<T> wp(static_cast<size_t>(checked_mul(pl.groups * ogp, K, "packed weights")));
  const int64_t npanels = pl.groups * panels;
  parallel_for(npanels, grain_for(npanels, 1.0 * static_cast<double>(K * NR)),
               [&](int64_t b, int64_t e) {
                 for (int64_t q = b; q < e; ++q) {
                   const int64_t g = q / panels, o0 = (q % panels) * NR;
                   const int64_t cols = std::min<int64_t>(NR, og - o0);
                   const T* src = w + (g * og + o0) * K;  // rows o, columns (ci, ky, kx)
                   T* dst = wp.get() + q * K * NR;
                   for (int64_t t = 0; t < taps; ++t)
                     for (int64_t ci = 0; ci < cg; ++ci, dst += NR) {
                       const T* sc = src + ci * taps + t;
                       for (int64_t j = 0; j < cols; ++j) dst[j] = sc[j * K];
                       for (int64_t j = cols; j < NR; ++j) dst[j] = T(0);
                     }
                 }
               });

  const int64_t npix = nhwc_pixels(pl, MR);
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  Buffer<T> xin(static_cast<size_t>(
      checked_mul(checked_mul(bimg, npix, "channels-last input"), C, "channels-last input")));
  const double row_flops = 2.0 * static_cast<double>(og) * static_cast<double>(K) *
                           static_cast<double>(pl.wpad);
  const int64_t rows = std::clamp<int64_t>(
      std::max<int64_t>(static_cast<int64_t>(kItemFlops / row_flops),
                        (kItemPixels + pl.wpad - 1) / pl.wpad),
      1, std::max<int64_t>(pl.oh, 1));
  const int64_t blocks = (pl.oh + rows - 1) / rows;
  const int64_t cap = round_up(rows * pl.wpad, MR);  // pixels per item's C block
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0);
    const T* xb = x + n0 * C * pl.h * pl.w;
    const int64_t all_rows = nimg * pl.hq;
    parallel_for(all_rows, grain_for(all_rows, 0.5 * static_cast<double>(pl.wpad * C)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r = b; r < e; ++r) {
                     const int64_t i = r / pl.hq, rr = r % pl.hq;
                     T* dst = xin.get() + i * npix * C;
                     channels_last_row(pl, xb + i * C * pl.h * pl.w, rr, pl.wpad,
                                       dst + rr * pl.wpad * C);
                     if (rr == pl.hq - 1)
                       std::fill(dst + pl.hq * pl.wpad * C, dst + npix * C, T(0));
                   }
                 });
    const int64_t items = nimg * pl.groups * blocks;
    const double item_ns = row_flops * static_cast<double>(rows) * kNsPerFlop;
    parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
      Buffer<T> cbuf(static_cast<size_t>(cap * ogp));
      for (int64_t it = b; it < e; ++it) {
        const int64_t blk = it % blocks, rest = it / blocks;
        const int64_t g = rest % pl.groups, n = rest / pl.groups;
        const int64_t oy0 = blk * rows, oy1 = std::min(pl.oh, oy0 + rows);
        const int64_t p0 = oy0 * pl.wpad, np = round_up((oy1 - oy0) * pl.wpad, MR);
        const T* a0 = xin.get() + n * npix * C + p0 * C + g * cg;
        for (int64_t t = 0; t < panels; ++t) {
          const T* bp = wp.get() + (g * panels + t) * K * NR;
          for (int64_t s = 0; s < nseg; ++s) {
            const T* as = a0 + sg[s].a_off;
            const T* bs = bp + sg[s].k0 * NR;
            const T beta = s == 0 ? T(0) : T(1);
            for (int64_t i = 0; i < np; i += MR)
              uk.fn(sg[s].len, as + i * C, C, 1, bs, NR, cbuf.get() + i * ogp + t * NR, ogp, MR,
                    NR, T(1), beta);
          }
        }
        // The C block [pixel][o] into y's planes, dropping columns >= ow, with bias and ReLU.
        T* yg = y + ((n0 + n) * pl.o + g * og) * pl.P;
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          const T* crow = cbuf.get() + (oy - oy0) * pl.wpad * ogp;
          T* yr = yg + oy * pl.ow;
          transpose(crow, ogp, yr, pl.P, pl.ow, og);
          if (!bias && !relu) continue;
          for (int64_t o = 0; o < og; ++o)
            bias_act(yr + o * pl.P, yr + o * pl.P, pl.ow, bias ? bias + g * og + o : nullptr, relu);
        }
      }
    });
  }
}

template void forward_implicit<float>(const ImplicitPlan&, const float*, const float*, const float*,
                                      bool, float*);
template void forward_implicit<double>(const ImplicitPlan&, const double*, const double*,
                                       const double*, bool, double*);

}  // namespace conv_ops
}  // namespace npfast
