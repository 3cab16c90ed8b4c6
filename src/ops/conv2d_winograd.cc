// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped convolutions.
//
// Each 2x2 block of output pixels ("tile") is At [ (G g Gt) .* (Bt d Bt') ] A, with d the
// tile's 4x4 input window: 16 products per tile and channel pair instead of 36, so 2.25x
// fewer multiply-adds than the direct or GEMM forms. The 16 elementwise products summed over
// input channels are 16 GEMMs, M[xi] (tiles x O) = V[xi] (tiles x C) U[xi] (C x O), run on
// npfast's GEMM microkernel. A work item is a block of tiles (of one or more images), sized so its
// V and M blocks stay in L2: transform its inputs (conv kernel family, vectorized over channels on
// a channels-last copy), 16 GEMMs, transform the outputs and transpose them into NCHW (NHWC:
// copy them; the channels-last copy of an NHWC input is a padded memcpy).
// Rounding differs from the direct sum (the transforms add and subtract inputs and halve the
// weights); docs/conv.md gives the measured error.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/conv/conv.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/kernels/gemm/gemm.h"
#include "src/kernels/pack/pack.h"
#include "src/ops/conv2d_epilogue.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {
namespace {

// The V and M blocks of a work item together stay under this many bytes (L2 is 512 KB here).
constexpr int64_t kItemBytes = 256 << 10;

template <class T>
struct Transforms {
  conv::WinoInFn<T> in;
  conv::WinoInEdgeFn<T> in_edge;
  conv::WinoOutFn<T> out;
};
template <class T>
Transforms<T> transforms() {
  const conv::Table& k = kernels<conv::Table>();
  return {of<T>(k.f32_conv_wino_in, k.f64_conv_wino_in),
          of<T>(k.f32_conv_wino_in_edge, k.f64_conv_wino_in_edge),
          of<T>(k.f32_conv_wino_out, k.f64_conv_wino_out)};
}

// U = G g Gt of one 3x3 kernel, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]; u[xi * us].
// Returns whether every tap is within `limit` (false for a NaN).
template <class T>
bool weight_transform(const T* g, T* u, int64_t us, T limit) {
  bool in_range = true;
  for (int k = 0; k < 9; ++k) in_range &= std::fabs(g[k]) <= limit;
  T t[4][3];
  for (int k = 0; k < 3; ++k) {
    const T g0 = g[k], g1 = g[3 + k], g2 = g[6 + k];
    t[0][k] = g0;
    t[1][k] = T(0.5) * (g0 + g1 + g2);
    t[2][k] = T(0.5) * (g0 - g1 + g2);
    t[3][k] = g2;
  }
  for (int r = 0; r < 4; ++r) {
    const T a0 = t[r][0], a1 = t[r][1], a2 = t[r][2];
    u[(r * 4 + 0) * us] = a0;
    u[(r * 4 + 1) * us] = T(0.5) * (a0 + a1 + a2);
    u[(r * 4 + 2) * us] = T(0.5) * (a0 - a1 + a2);
    u[(r * 4 + 3) * us] = a2;
  }
  return in_range;
}

// Elements per block of max_abs (256 KiB of float32: a block's scan outweighs the hand-off).
constexpr int64_t kScanBlock = 65536;
// Elements of the channels-last copy scanned at a time (16 KiB of float32: in L1).
constexpr int64_t kScanGroup = 4096;

}  // namespace

double winograd_weight_limit(const WinogradGains& g, int64_t depth, double xmax, DType dtype) {
  const bool f32 = dtype == DType::f32;
  const double big = f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  const double eps =
      f32 ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
  const double slack = std::exp(static_cast<double>(depth + 16) * eps);
  if (!(xmax * g.in * slack <= big)) return -1.0;
  // The output's bound in two divisions (the product g.in * g.weight * ... * xmax * |w| could
  // overflow a double for float64).
  const double by_output = big / (g.in * g.weight * g.out * static_cast<double>(depth) * slack);
  return std::min(big / (g.weight_peak * slack), xmax > 0 ? by_output / xmax : big);
}

template <class T>
T max_abs(const T* x, int64_t n) {
  const elementwise::AbsMaxFn<T> k =
      of<T>(kernels<elementwise::Table>().f32_absmax, kernels<elementwise::Table>().f64_absmax);
  const int64_t blocks = (n + kScanBlock - 1) / kScanBlock;
  if (blocks <= 1) return k(n, x);
  Buffer<T> part(static_cast<size_t>(blocks));
  parallel_for(blocks, grain_for(blocks, 0.02 * static_cast<double>(kScanBlock)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i)
                   part[i] = k(std::min(kScanBlock, n - i * kScanBlock), x + i * kScanBlock);
               });
  return k(blocks, part.get());
}

template <class T>
bool winograd_operands_fit(const WinogradGains& g, int64_t depth, const T* x, int64_t nx,
                           const T* w, int64_t nw) {
  const double limit = winograd_weight_limit(g, depth, double(max_abs(x, nx)), dtype_of<T>());
  return limit >= 0 && double(max_abs(w, nw)) <= limit;
}

template <class T>
bool forward_winograd(const WinogradPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                      T* y, const T* res, double xmax) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  const Transforms<T> tf = transforms<T>();
  // At most NR/2 output channels (16 in float32 on AVX-512): the half-width edge kernel, same
  // bits, instead of full tiles whose right half is zero columns.
  const bool narrow = uk.fn_narrow && pl.o <= uk.nr / 2;
  const gemm_kernels::UkernelFn<T> ukfn = narrow ? uk.fn_narrow : uk.fn;
  const int MR = uk.mr, NR = narrow ? uk.nr / 2 : uk.nr;
  const int64_t C = pl.c, O = pl.o, ogp = round_up(O, NR), panels = ogp / NR;
  const int64_t th = (pl.oh + 1) / 2, tw = (pl.ow + 1) / 2, tiles = th * tw;
  // Padded channels-last input: every tile's 4x4 window lies inside.
  const int64_t hw = 2 * th + 2, ww = 2 * tw + 2, npix = hw * ww;
  const int64_t esize = static_cast<int64_t>(sizeof(T));
  const bool nhwc = pl.p.layout == Layout::nhwc;

  // U as [xi][panel][c][NR]: for each xi a packed C x O GEMM operand, zero columns past O.
  // One (panel, c) at a time through a local block, so the 16 stores are runs of NR.
  const int64_t ustride = panels * C * NR;
  Buffer<T> u(static_cast<size_t>(checked_mul(16, ustride, "winograd weights")));
  // The weights' transform, each tap checked against wlimit (winograd_weight_limit) as it is
  // read; false when one fails. A limit past T's range is T's largest (which still fails inf
  // and NaN).
  const auto transform_weights = [&](double wlimit) {
    if (!(wlimit >= 0)) return false;
    const T wlim = static_cast<T>(std::min(wlimit, double(std::numeric_limits<T>::max())));
    std::atomic<bool> out_of_range{false};
    parallel_for(panels * C, grain_for(panels * C, 40.0 * static_cast<double>(NR)),
                 [&](int64_t b, int64_t e) {
                   alignas(64) T blk[16 * 32];  // NR <= 32
                   bool in_range = true;
                   for (int64_t qc = b; qc < e; ++qc) {
                     const int64_t q = qc / C, c = qc % C;
                     for (int64_t j = 0; j < NR; ++j) {
                       const int64_t o = q * NR + j;
                       if (o < O)
                         in_range &= weight_transform(w + (o * C + c) * 9, blk + j, NR, wlim);
                       else
                         for (int xi = 0; xi < 16; ++xi) blk[xi * NR + j] = T(0);
                     }
                     for (int xi = 0; xi < 16; ++xi)
                       std::memcpy(u.get() + xi * ustride + qc * NR, blk + xi * NR, NR * sizeof(T));
                   }
                   if (!in_range) out_of_range.store(true, std::memory_order_relaxed);
                 });
    return !out_of_range.load(std::memory_order_relaxed);
  };

  // Tiles per work item: V (C) and M (ogp) rows of 16 matrices within kItemBytes. Tiles are
  // numbered across the images of a batch chunk (image by image), so a block may span images:
  // an 8x8 output has 16 tiles, and blocks of one image each computed 28 rows (AVX-512's MR =
  // 14) for them. A tile's sums do not depend on its row in the block: same bits.
  const int64_t tb = std::max<int64_t>(MR, kItemBytes / (16 * (C + ogp) * esize) / MR * MR);
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  const int64_t tcap = std::min(tb, round_up(bimg * tiles, MR));
  // NCHW: a padded channels-last copy of a batch chunk, made before its items. NHWC: no copy;
  // the items read the tiles in place, those reaching into the padding through the edge
  // transform (zeros for the padding: the same values as a padded copy, so the same bits),
  // without writing and re-reading the whole input (and one parallel loop fewer per chunk).
  // A padded patch of each border run cost the small-image layers 4-6% (memcpy calls).
  Buffer<T> xin(
      nhwc ? 0
           : static_cast<size_t>(checked_mul(checked_mul(bimg, npix, "channels-last input"), C,
                                             "channels-last input")));
  const double item_ns = 2.0 * 16.0 * static_cast<double>(tcap * C * O) * kNsPerFlop;
  // Tiles tx in [tx_in0, tx_in1) of a tile row read only image columns; tile rows ty in
  // [ty_in0, ty_in1) only image rows (tile t reads padded pixels 2t .. 2t + 3).
  const int64_t pt = pl.p.pad_top, pleft = pl.p.pad_left;
  const auto inside = [](int64_t pad, int64_t len, int64_t ntiles, int64_t* t0, int64_t* t1) {
    *t0 = std::min(ntiles, (pad + 1) / 2);
    *t1 = len + pad < 4 ? *t0 : std::max(*t0, std::min(ntiles, (len + pad - 4) / 2 + 1));
  };
  int64_t ty_in0, ty_in1, tx_in0, tx_in1;
  inside(pt, pl.h, th, &ty_in0, &ty_in1);
  inside(pleft, pl.w, tw, &tx_in0, &tx_in1);
  // The channels-last copy of images [n0, n0 + nimg), and where rowmax is not null the absmax
  // of each group of rows just written (still in L1: groups of about kScanGroup elements; a
  // call a row cost a 16-channel layer 4%, the call's own reduction) into rowmax[first row],
  // zeros for the others. The copy's rows are contiguous.
  const elementwise::AbsMaxFn<T> absmax =
      of<T>(kernels<elementwise::Table>().f32_absmax, kernels<elementwise::Table>().f64_absmax);
  const int64_t group = std::max<int64_t>(1, kScanGroup / (ww * C));
  const auto copy_chunk = [&](int64_t n0, int64_t nimg, T* rowmax) {
    const T* xb = x + n0 * C * pl.h * pl.w;
    const int64_t all_rows = nimg * hw;
    parallel_for(all_rows, grain_for(all_rows, 0.5 * static_cast<double>(ww * C)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t r0 = b; r0 < e; r0 += group) {
                     const int64_t r1 = std::min(e, r0 + group);
                     for (int64_t r = r0; r < r1; ++r) {
                       const int64_t i = r / hw, rr = r % hw;
                       channels_last_row(pl, xb + i * C * pl.h * pl.w, rr, ww,
                                         xin.get() + (i * npix + rr * ww) * C);
                     }
                     if (!rowmax) continue;
                     rowmax[r0] = absmax((r1 - r0) * ww * C, xin.get() + r0 * ww * C);
                     std::fill(rowmax + r0 + 1, rowmax + r1, T(0));
                   }
                 });
  };
  // The input's range: where the batch is one chunk (NCHW), from its copy, which reads all of
  // x anyway (a pass of its own cost 2-3% of a 64-channel 56^2 layer: x is out of L2 by then);
  // otherwise (NHWC, several chunks) a pass over x, unless the caller knows it.
  const bool fold = !nhwc && bimg >= pl.n && xmax < 0;
  if (fold) {
    Buffer<T> rowmax(static_cast<size_t>(pl.n * hw));
    copy_chunk(0, pl.n, rowmax.get());
    xmax = double(absmax(pl.n * hw, rowmax.get()));
  } else if (xmax < 0) {
    xmax = double(max_abs(x, pl.n * C * pl.h * pl.w));
  }
  if (!transform_weights(winograd_weight_limit(kWinogradF23, C, xmax, pl.dtype))) return false;
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0);
    const T* xb = x + n0 * C * pl.h * pl.w;
    if (!nhwc && !fold) copy_chunk(n0, nimg, nullptr);
    const int64_t all_tiles = nimg * tiles;
    const int64_t items = (all_tiles + tcap - 1) / tcap;
    // 16 chunks a thread, not 4: a 56x56 image is 28 items, which 4 a thread cut into 7 chunks
    // of 4 (4:3 over two threads); the items share only read-only operands.
    parallel_for(items, grain_for(items, item_ns, 16), [&](int64_t b, int64_t e) {
      Buffer<T> vb(static_cast<size_t>(16 * tcap * C));
      Buffer<T> mb(static_cast<size_t>(16 * tcap * ogp));
      Buffer<T> stage(static_cast<size_t>(2 * 2 * tw * ogp));
      // NHWC: tiles [t0, t0 + k) of tile row ty of image n (of this chunk) into V's rows from
      // vrow, read in place (the edge transform where a window reaches into the padding).
      const auto in_nhwc = [&](int64_t n, int64_t ty, int64_t t0, int64_t k, int64_t vrow) {
        if (k <= 0) return;
        const T* xn = xb + n * C * pl.h * pl.w;
        T* v = vb.get() + vrow * C;
        if (ty >= ty_in0 && ty < ty_in1 && t0 >= tx_in0 && t0 + k <= tx_in1) {
          tf.in(xn + ((2 * ty - pt) * pl.w + 2 * t0 - pleft) * C, C, pl.w * C, C, k, v, C,
                tcap * C);
          return;
        }
        tf.in_edge(xn, C, pl.w * C, pl.h, pl.w, 2 * ty - pt, 2 * t0 - pleft, C, k, v, C, tcap * C);
      };
      for (int64_t it = b; it < e; ++it) {
        const int64_t q0 = it * tcap, q1 = std::min(all_tiles, q0 + tcap), nq = q1 - q0;
        // Inputs, one run of tiles along a tile row (of one image) at a time; the rows past
        // the last tile (the microkernel reads whole MR-row panels) are zero.
        for (int64_t q = q0; q < q1;) {
          const int64_t n = q / tiles, ty = q % tiles / tw, tx = q % tw;
          const int64_t run = std::min(tw - tx, q1 - q);
          if (nhwc) {  // the run cut into the tiles before, inside and after the image columns
            const int64_t a = std::clamp(tx_in0, tx, tx + run), z = std::clamp(tx_in1, a, tx + run);
            in_nhwc(n, ty, tx, a - tx, q - q0);
            in_nhwc(n, ty, a, z - a, q - q0 + a - tx);
            in_nhwc(n, ty, z, tx + run - z, q - q0 + z - tx);
          } else {
            tf.in(xin.get() + (n * npix + 2 * ty * ww + 2 * tx) * C, C, ww * C, C, run,
                  vb.get() + (q - q0) * C, C, tcap * C);
          }
          q += run;
        }
        const int64_t np = round_up(nq, MR);
        for (int xi = 0; xi < 16; ++xi)
          std::fill(vb.get() + (xi * tcap + nq) * C, vb.get() + (xi * tcap + np) * C, T(0));
        // M[xi] = V[xi] U[xi], K = C in the kernel's K blocks.
        const int64_t kblocks = (C + uk.kc - 1) / uk.kc;
        for (int xi = 0; xi < 16; ++xi)
          for (int64_t t = 0; t < panels; ++t)
            for (int64_t kb = 0; kb < kblocks; ++kb) {
              const int64_t k0 = kb * C / kblocks, k1 = (kb + 1) * C / kblocks;
              const T* a = vb.get() + xi * tcap * C + k0;
              const T* bp = u.get() + xi * ustride + (t * C + k0) * NR;
              T* c = mb.get() + xi * tcap * ogp + t * NR;
              for (int64_t i = 0; i < np; i += MR)
                ukfn(k1 - k0, a + i * C, C, 1, bp, NR, c + i * ogp, ogp, MR, NR, T(1),
                     kb == 0 ? T(0) : T(1));
            }
        // Outputs: each run of tiles gives two output rows of 2 * run pixels (channels last),
        // transposed into the NCHW planes without the padding row or column. A residual is
        // added to them there (after the bias, before the ReLU: tf.out's ReLU is then off).
        for (int64_t q = q0; q < q1;) {
          const int64_t n = q / tiles, ty = q % tiles / tw, tx = q % tw;
          const int64_t run = std::min(tw - tx, q1 - q);
          const int64_t yoff = (n0 + n) * O * pl.P;
          T* yn = y + yoff;
          const T* rn = res ? res + yoff : nullptr;
          const int64_t ox0 = 2 * tx, cols = std::min(2 * run, pl.ow - ox0);
          if (nhwc && cols == 2 * run && 2 * ty + 1 < pl.oh) {
            // Both output rows of the run whole: transformed straight into the output rows,
            // the residual added there (a separate pass over the rows cost a 16-channel
            // layer 0.15 ms of 2.3).
            const int64_t row = 2 * ty * pl.ow + ox0;
            tf.out(mb.get() + (q - q0) * ogp, ogp, tcap * ogp, O, run, bias,
                   rn ? rn + row * O : nullptr, relu, yn + row * O, O, pl.ow * O);
            q += run;
            continue;
          }
          tf.out(mb.get() + (q - q0) * ogp, ogp, tcap * ogp, O, run, bias, nullptr, relu && !res,
                 stage.get(), ogp, 2 * tw * ogp);
          for (int64_t r = 0; r < 2 && 2 * ty + r < pl.oh; ++r) {
            const T* sr = stage.get() + r * 2 * tw * ogp;
            const int64_t row = (2 * ty + r) * pl.ow + ox0;
            if (nhwc) {      // the staged rows are channels-last already
              if (ogp == O)  // one copy of the run (a copy a pixel took 14% of a 16-ch layer)
                std::memcpy(yn + row * O, sr, cols * O * sizeof(T));
              else
                for (int64_t c = 0; c < cols; ++c)
                  std::memcpy(yn + (row + c) * O, sr + c * ogp, O * sizeof(T));
              if (rn) residual_act(yn + row * O, rn + row * O, cols * O, relu);
            } else {
              transpose_to_planes(sr, ogp, yn + row, pl.P, cols, O);
              if (rn)
                for (int64_t o = 0; o < O; ++o)
                  residual_act(yn + o * pl.P + row, rn + o * pl.P + row, cols, relu);
            }
          }
          q += run;
        }
      }
    });
  }
  return true;
}

template bool forward_winograd<float>(const WinogradPlan&, const float*, const float*, const float*,
                                      bool, float*, const float*, double);
template bool forward_winograd<double>(const WinogradPlan&, const double*, const double*,
                                       const double*, bool, double*, const double*, double);
template float max_abs<float>(const float*, int64_t);
template double max_abs<double>(const double*, int64_t);
template bool winograd_operands_fit<float>(const WinogradGains&, int64_t, const float*, int64_t,
                                           const float*, int64_t);
template bool winograd_operands_fit<double>(const WinogradGains&, int64_t, const double*, int64_t,
                                            const double*, int64_t);

}  // namespace conv_ops
}  // namespace npfast
