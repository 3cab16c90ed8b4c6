// conv2d forward: argument checks, the public operator, and the forward algorithms
// (direct / depthwise kernels over a padded input, 1x1 as GEMM, im2col in blocks + GEMM).
#include <algorithm>
#include <atomic>
#include <new>
#include <string>

#include "npfast/conv.hpp"
#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/core/views.h"
#include "src/kernels/conv/conv.h"
#include "src/ops/conv2d_epilogue.h"
#include "src/ops/conv2d_implicit.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {

using conv_ops::pair_str;

void conv2d_same_padding(int64_t kh, int64_t kw, int64_t dh, int64_t dw, Conv2dParams* p) {
  const int64_t th = dh * (kh - 1), tw = dw * (kw - 1);
  p->pad_top = th / 2;
  p->pad_bottom = th - th / 2;
  p->pad_left = tw / 2;
  p->pad_right = tw - tw / 2;
}

namespace {

// conv2d_shape on an (N, C, H, W) input: the checks and the (N, O, OH, OW) shape.
Shape shape_nchw(const View& input, const View& weight, const View* bias, const Conv2dParams& p) {
  views::check_float(input, "input");
  if (weight.dtype != input.dtype)
    throw TypeError(std::string("weight: dtype ") + dtype_name(weight.dtype) +
                    " does not match input dtype " + dtype_name(input.dtype));
  if (bias && bias->dtype != input.dtype)
    throw TypeError(std::string("bias: dtype ") + dtype_name(bias->dtype) +
                    " does not match input dtype " + dtype_name(input.dtype));
  if (input.ndim != 4)
    throw ValueError("input: expected a 4-d (N, C, H, W) or 3-d (C, H, W) array, got shape " +
                     shape_str(input));
  if (weight.ndim != 4)
    throw ValueError("weight: expected a 4-d (O, C/groups, kH, kW) array, got shape " +
                     shape_str(weight));
  if (p.stride_h < 1 || p.stride_w < 1)
    throw ValueError("stride: must be >= 1, got " + pair_str(p.stride_h, p.stride_w));
  if (p.dilation_h < 1 || p.dilation_w < 1)
    throw ValueError("dilation: must be >= 1, got " + pair_str(p.dilation_h, p.dilation_w));
  if (p.pad_top < 0 || p.pad_bottom < 0 || p.pad_left < 0 || p.pad_right < 0)
    throw ValueError("padding: must be >= 0, got " + pair_str(std::min(p.pad_top, p.pad_bottom),
                                                              std::min(p.pad_left, p.pad_right)));
  if (p.groups < 1) throw ValueError("groups: must be >= 1, got " + std::to_string(p.groups));
  const int64_t c = input.shape[1], o = weight.shape[0];
  if (c % p.groups != 0)
    throw ValueError("groups: must divide the input channels " + std::to_string(c) + ", got " +
                     std::to_string(p.groups));
  if (o % p.groups != 0)
    throw ValueError("groups: must divide the output channels weight.shape[0] = " +
                     std::to_string(o) + ", got " + std::to_string(p.groups));
  if (weight.shape[1] != c / p.groups)
    throw ValueError("weight: expected C / groups = " + std::to_string(c / p.groups) +
                     " input channels per filter (input has C = " + std::to_string(c) +
                     ", groups = " + std::to_string(p.groups) + "), got weight shape " +
                     shape_str(weight));
  const int64_t kh = weight.shape[2], kw = weight.shape[3];
  if (kh < 1 || kw < 1)
    throw ValueError("weight: kernel size must be >= 1, got shape " + shape_str(weight));
  if (bias && (bias->ndim != 1 || bias->shape[0] != o))
    throw ValueError("bias: expected shape (" + std::to_string(o) + ",), got " + shape_str(*bias));
  // Large values must not overflow the extent arithmetic below.
  const int64_t big = int64_t{1} << 40;
  if (p.stride_h > big || p.stride_w > big || p.dilation_h > big || p.dilation_w > big ||
      p.pad_top > big || p.pad_bottom > big || p.pad_left > big || p.pad_right > big || kh > big ||
      kw > big)
    throw ValueError(
        "padding, stride, dilation: each at most 2^40, got padding " +
        pair_str(std::max(p.pad_top, p.pad_bottom), std::max(p.pad_left, p.pad_right)) +
        ", stride " + pair_str(p.stride_h, p.stride_w) + ", dilation " +
        pair_str(p.dilation_h, p.dilation_w) + ", kernel " + pair_str(kh, kw));
  const int64_t hp = input.shape[2] + p.pad_top + p.pad_bottom;
  const int64_t wp = input.shape[3] + p.pad_left + p.pad_right;
  const int64_t eh = p.dilation_h * (kh - 1) + 1, ew = p.dilation_w * (kw - 1) + 1;
  if (eh > hp || ew > wp)
    throw ValueError("weight: kernel size " + pair_str(kh, kw) + " (dilated to " +
                     pair_str(eh, ew) + ") is larger than the padded input " + pair_str(hp, wp));
  const int64_t oh = (hp - eh) / p.stride_h + 1, ow = (wp - ew) / p.stride_w + 1;
  // An output too large to count: only padding makes one (probe15: padding=2**40 reached the
  // plan's MemoryError "output size: size overflows int64", which names no argument).
  int64_t count = 0;
  if (__builtin_mul_overflow(oh, ow, &count) ||
      __builtin_mul_overflow(count, std::max<int64_t>(o, 1), &count) ||
      __builtin_mul_overflow(count, std::max<int64_t>(input.shape[0], 1), &count))
    throw ValueError(
        "padding: too large, got " +
        pair_str(std::max(p.pad_top, p.pad_bottom), std::max(p.pad_left, p.pad_right)) +
        " (an output of " + pair_str(oh, ow) + " per plane)");
  return Shape{4, {input.shape[0], o, oh, ow}};
}

}  // namespace

Shape conv2d_shape(const View& input, const View& weight, const View* bias, const Conv2dParams& p) {
  if (p.layout == Layout::nchw) return shape_nchw(input, weight, bias, p);
  if (p.layout != Layout::nhwc)
    throw ValueError("layout: expected NCHW or NHWC, got " +
                     std::to_string(static_cast<int>(p.layout)));
  if (input.ndim != 4)
    throw ValueError("input: expected a 4-d (N, H, W, C) or 3-d (H, W, C) array, got shape " +
                     shape_str(input));
  const Shape s = shape_nchw(conv_ops::nchw_of_nhwc(input), weight, bias, p);
  return Shape{4, {s[0], s[2], s[3], s[1]}};
}

namespace conv_ops {
namespace {

template <class T>
void epilogue(T* y, int64_t rows, int64_t cols, int64_t ld, const T* bias, bool relu) {
  if (!bias && !relu) return;
  for (int64_t r = 0; r < rows; ++r)
    bias_act(y + r * ld, y + r * ld, cols, bias ? bias + r : nullptr, relu);
}

// The kernel for a plan: depthwise, or the direct tile of pl.ocb channels.
template <class T>
conv::DirectFn<T> direct_kernel(const DirectPlan& pl) {
  const conv::Table& t = kernels<conv::Table>();
  const bool dw = pl.depthwise, four = pl.ocb != t.direct_ob;
  return dw     ? of<T>(t.f32_conv_depthwise, t.f64_conv_depthwise)
         : four ? of<T>(t.f32_conv_direct_4ch, t.f64_conv_direct_4ch)
                : of<T>(t.f32_conv_direct, t.f64_conv_direct);
}

// Depthwise with whole planes per item: each item pads its plane into a chunk-local buffer
// (kept in L2) and convolves it at once.
template <class T>
void forward_depthwise_planes(const DirectPlan& pl, const T* x, const T* w, const T* bias,
                              bool relu, T* y) {
  const conv::DirectFn<T> kernel = direct_kernel<T>(pl);
  const int64_t planes = pl.n * pl.c;
  Buffer<int64_t> taps(static_cast<size_t>(pl.K));
  const conv::DirectArgs<T> shared = direct_args(pl, bias, relu, taps.get());
  parallel_for(planes, grain_for(planes, pl.item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> xp(static_cast<size_t>(pl.plane));
    conv::DirectArgs<T> a = shared;
    for (int64_t i = b; i < e; ++i) {
      const int64_t ch = i % pl.c;
      pad_plane(pl, x + i * pl.h * pl.w, xp.get());
      a.x = xp.get();
      a.w = w + ch * pl.K;
      a.ob = 1;
      a.bias = bias ? bias + ch : nullptr;
      a.y = y + i * pl.P;
      a.oy0 = 0;
      a.oy1 = pl.oh;
      kernel(a);
    }
  });
}

// Block ob of group g of the direct weights, repacked tap-major for the kernel (conv.h): OB
// channels a tap, zeros past the group's last channel.
template <class T>
void pack_direct_block(const DirectPlan& pl, const T* w, int64_t g, int64_t ob, T* dst) {
  const int64_t OB = pl.ocb, K = pl.K;
  std::fill(dst, dst + K * OB, T(0));
  for (int64_t ol = ob * OB; ol < std::min(pl.og, (ob + 1) * OB); ++ol)
    for (int64_t t = 0; t < K; ++t) dst[t * OB + ol % OB] = w[(g * pl.og + ol) * K + t];
}

// One image and one group (the stem) on several threads: the output rows in `bands` bands of
// row items, each padding its input rows (with its halo) into a buffer of its own and claiming
// its items (row item outer, channel block inner) from a counter of its own; a thread that has
// run out takes the other bands' items (their padding first where no one has done it). Each
// thread then mostly reads rows it padded itself, from its own L2: with one padded image
// padded by all threads, half of each thread's rows came from the other core, every chunk was
// claimed from one shared counter, and the wait for the last chunk (4 items, ~70 us on AVX2)
// could outlast the pool's 20 us spin (the caller then sleeps, and wakes 20-45 us late). The
// stem on two threads, AVX2, beside torch in quiet rounds: 1135 us against 1176-1200 us
// (docs/conv.md, stem2). The pool gets 2 chunks a thread, so a helper that arrives late still
// finds a chunk and shares the items left. The same items as forward_direct, each by the same
// kernel call on the same values: the same bits at any thread count. (Bands are row items, so
// there may be fewer bands than `threads`: the chunks, 2 a thread, start at band c % bands and
// all threads take part.)
template <class T>
void forward_direct_bands(const DirectPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                          T* y, int64_t bands, int64_t threads) {
  const conv::DirectFn<T> kernel = direct_kernel<T>(pl);
  const int64_t OB = pl.ocb, nob = pl.nob, K = pl.K, rpi = pl.rows_per_item;
  Buffer<T> wpk(static_cast<size_t>(nob * K * OB));
  auto pack_block = [&](int64_t ob) { pack_direct_block(pl, w, 0, ob, wpk.get() + ob * K * OB); };
  // Band b: row items [item0(b), item0(b + 1)), padded rows [row0(b), row1(b)).
  const int64_t sh = pl.p.stride_h, reach = (pl.kh - 1) * pl.p.dilation_h + 1;
  auto item0 = [&](int64_t b) { return b * pl.row_items / bands; };
  auto row0 = [&](int64_t b) { return item0(b) * rpi * sh; };
  auto row1 = [&](int64_t b) {
    return std::min(pl.hp, (std::min(pl.oh, item0(b + 1) * rpi) - 1) * sh + reach);
  };
  int64_t hb = 0;  // padded rows a band's plane holds
  for (int64_t b = 0; b < bands; ++b) hb = std::max(hb, row1(b) - row0(b));
  DirectPlan bp = pl;
  bp.hp = hb;
  bp.plane = hb * pl.xrow;
  Buffer<int64_t> taps(static_cast<size_t>(K));
  const conv::DirectArgs<T> shared = direct_args(bp, bias, relu, taps.get());
  Buffer<T> xp(static_cast<size_t>(checked_mul(bands * pl.c, bp.plane, "padded input")));
  // Per band: its padding in parts of kPadRows rows of a plane, and its items' counter.
  constexpr int64_t kPadRows = 16;
  struct alignas(64) Band {
    explicit Band(int64_t parts) : pad(parts) {}
    PartsInJob pad;
    std::atomic<int64_t> next{0};
  };
  const int64_t pad_blocks = ceil_div(hb, kPadRows);
  Buffer<Band> band(static_cast<size_t>(bands));
  for (int64_t b = 0; b < bands; ++b) new (&band[b]) Band(pl.c * pad_blocks);
  PartsInJob packed(nob);
  // Runs band b's items until none is left (its padding first, shared with whoever is there).
  auto run_band = [&](int64_t b) {
    T* xb = xp.get() + b * pl.c * bp.plane;
    const int64_t r0 = row0(b), r1 = row1(b);
    band[b].pad.run([&](int64_t i) {
      const int64_t ci = i / pad_blocks, rb = r0 + i % pad_blocks * kPadRows;
      if (rb < r1)
        pad_rows(pl, x + ci * pl.h * pl.w, xb + ci * bp.plane, rb, std::min(r1, rb + kPadRows), r0);
    });
    packed.run(pack_block);
    const int64_t first = item0(b), n = (item0(b + 1) - first) * nob;
    for (int64_t i = band[b].next.fetch_add(1, std::memory_order_relaxed); i < n;
         i = band[b].next.fetch_add(1, std::memory_order_relaxed)) {
      const int64_t ri = first + i / nob, ob = i % nob, oc0 = ob * OB;
      conv::DirectArgs<T> a = shared;
      // Rows relative to the band's first padded row (output row ri * rpi - o0 there).
      const int64_t o0 = first * rpi;
      a.x = xb;
      a.w = wpk.get() + ob * K * OB;
      a.ob = std::min<int64_t>(OB, pl.o - oc0);
      a.bias = bias ? bias + oc0 : nullptr;
      a.y = y + oc0 * pl.P + o0 * pl.ow;
      a.oy0 = ri * rpi - o0;
      a.oy1 = std::min(pl.oh, (ri + 1) * rpi) - o0;
      kernel(a);
    }
  };
  parallel_for(2 * threads, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t k = 0; k < bands; ++k) run_band((c + k) % bands);
  });
}

template <class T>
void forward_direct(const DirectPlan& pl, const T* x, const T* w, const T* bias, bool relu, T* y) {
  const bool dw = pl.depthwise;
  if (dw && pl.row_items == 1) return forward_depthwise_planes(pl, x, w, bias, relu, y);
  if (!dw && pl.n == 1 && pl.groups == 1) {
    const int64_t threads = threads_for(pl.item_ns * static_cast<double>(pl.nob * pl.row_items));
    if (std::min(threads, pl.row_items) > 1)
      return forward_direct_bands(pl, x, w, bias, relu, y, std::min(threads, pl.row_items),
                                  threads);
  }
  const conv::DirectFn<T> kernel = direct_kernel<T>(pl);
  // Direct weights repacked by blocks of pl.ocb channels, tap-major (conv.h).
  const int64_t OB = pl.ocb, blocks = pl.groups * pl.nob;
  Buffer<T> wpk = dw ? Buffer<T>() : Buffer<T>(static_cast<size_t>(blocks * pl.K * OB));
  auto pack_weights = [&] {
    for (int64_t b = 0; b < blocks; ++b)
      pack_direct_block(pl, w, b / pl.nob, b % pl.nob, wpk.get() + b * pl.K * OB);
  };
  Buffer<int64_t> taps(static_cast<size_t>(pl.K));
  const conv::DirectArgs<T> shared = direct_args(pl, bias, relu, taps.get());
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  Buffer<T> xp(static_cast<size_t>(checked_mul(bimg * pl.c, pl.plane, "padded input")));
  Buffer<int64_t> chunk_at(static_cast<size_t>(bimg * pl.groups * pl.nob * pl.row_items + 1));
  constexpr int64_t kPadRows = 16;  // padded rows a part of the padding
  const int64_t row_blocks = ceil_div(pl.hp, kPadRows);
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0), planes = nimg * pl.c;
    const T* xb = x + n0 * pl.c * pl.h * pl.w;
    // The batch's padding (and, with the first, the weight packing) in parts run inside the
    // items' job (PartsInJob), which the threads take as they arrive: as a job of its own, the
    // helpers woke for the padding and then again for the items (the stem: 2 hand-offs for
    // ~0.2 ms a thread at 8 threads).
    const int64_t packs = dw || n0 > 0 ? 0 : 1;
    PartsInJob prep(packs + planes * row_blocks);
    auto prepare = [&](int64_t i) {
      if (i < packs) return pack_weights();
      const int64_t plane = (i - packs) / row_blocks, r0 = (i - packs) % row_blocks * kPadRows;
      pad_rows(pl, xb + plane * pl.h * pl.w, xp.get() + plane * pl.plane, r0,
               std::min(pl.hp, r0 + kPadRows));
    };
    const int64_t items = nimg * pl.groups * pl.nob * pl.row_items;
    // Items only read shared inputs and write their own tile: 16 chunks a thread cost nothing
    // to claim and cut the wait for the last one (the stem: ~3% at 2 threads); tapered to
    // single items at the end, so the threads finish together.
    const int64_t chunks = tapered_chunks(items, grain_for(items, pl.item_ns, 16), chunk_at.get());
    parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
      prep.run(prepare);
      for (int64_t it = chunk_at[c0]; it < chunk_at[c1]; ++it) {
        const int64_t ri = it % pl.row_items;
        int64_t t = it / pl.row_items;
        const int64_t ob = t % pl.nob;
        t /= pl.nob;
        const int64_t g = t % pl.groups, n = t / pl.groups;
        const int64_t oc0 = g * pl.og + ob * OB;
        conv::DirectArgs<T> a = shared;
        a.x = xp.get() + (n * pl.c + g * pl.cg) * pl.plane;
        a.w = dw ? w + g * pl.K : wpk.get() + (g * pl.nob + ob) * pl.K * OB;
        a.ob = dw ? 1 : std::min<int64_t>(OB, pl.og - ob * OB);
        a.bias = bias ? bias + oc0 : nullptr;
        a.y = y + ((n0 + n) * pl.o + oc0) * pl.P;
        a.oy0 = ri * pl.rows_per_item;
        a.oy1 = std::min(pl.oh, a.oy0 + pl.rows_per_item);
        kernel(a);
      }
    });
  }
}

// The direct algorithm (ungrouped, not depthwise) writing an NHWC output: the padded NCHW
// input as forward_direct's, all output channels of a pixel per kernel call (conv_direct_nhwc,
// the same bits as conv_direct), so an NHWC stem (3 input channels, an NCHW-only algorithm)
// needs neither the NCHW result nor its transpose (0.5 of a 1.0 ms stem, batch 64 of
// 32x32x3 -> 16 channels, one thread). Where an image's padded planes are small, each item
// pads the input rows its output rows read into a chunk-local buffer (cache-hot, one
// parallel loop instead of two: the stem 0.49 -> 0.46 ms); else a padded batch first.
template <class T>
void forward_direct_nhwc(const DirectPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                         T* y) {
  const conv::Table& t = kernels<conv::Table>();
  const conv::DirectFn<T> kernel = of<T>(t.f32_conv_direct_nhwc, t.f64_conv_direct_nhwc);
  const int64_t O = pl.o, K = pl.K;
  Buffer<T> wpk(static_cast<size_t>(checked_mul(O, K, "weights")));  // tap-major
  for (int64_t oc = 0; oc < O; ++oc)
    for (int64_t k = 0; k < K; ++k) wpk.get()[k * O + oc] = w[oc * K + k];
  Buffer<int64_t> taps(static_cast<size_t>(K));
  conv::DirectArgs<T> shared = direct_args(pl, bias, relu, taps.get());
  shared.w = wpk.get();
  shared.ob = O;
  shared.ys = O;
  // Items of output rows [oy0, oy1) of image n0 + n, reading padded planes at xp (n = 0 for
  // the chunk-local planes of one image, which the item pads first).
  const int64_t sh = pl.p.stride_h, reach = (pl.kh - 1) * pl.p.dilation_h + 1;
  const bool local = pl.c * pl.plane * static_cast<int64_t>(sizeof(T)) <= (256 << 10);
  const auto run = [&](int64_t n0, int64_t nimg, const T* xb) {
    const int64_t items = nimg * pl.row_items;
    parallel_for(items, grain_for(items, pl.item_ns * static_cast<double>(pl.nob), 16),
                 [&](int64_t b, int64_t e) {
                   Buffer<T> own(local ? static_cast<size_t>(pl.c * pl.plane) : 0);
                   conv::DirectArgs<T> a = shared;
                   for (int64_t it = b; it < e; ++it) {
                     const int64_t ri = it % pl.row_items, n = it / pl.row_items;
                     a.oy0 = ri * pl.rows_per_item;
                     a.oy1 = std::min(pl.oh, a.oy0 + pl.rows_per_item);
                     a.y = y + (n0 + n) * pl.P * O;
                     if (local) {
                       const int64_t r1 = std::min(pl.hp, (a.oy1 - 1) * sh + reach);
                       for (int64_t ci = 0; ci < pl.c; ++ci)
                         pad_rows(pl, x + ((n0 + n) * pl.c + ci) * pl.h * pl.w,
                                  own.get() + ci * pl.plane, a.oy0 * sh, r1);
                       a.x = own.get();
                     } else {
                       a.x = xb + n * pl.c * pl.plane;
                     }
                     kernel(a);
                   }
                 });
  };
  if (local) return run(0, pl.n, nullptr);
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  Buffer<T> xp(static_cast<size_t>(checked_mul(bimg * pl.c, pl.plane, "padded input")));
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0);
    pad_planes(pl, x + n0 * pl.c * pl.h * pl.w, nimg * pl.c, xp.get());
    run(n0, nimg, xp.get());
  }
}

// 1x1 on NHWC (the planner picks gemm_1x1 only for pointwise problems): per image, group and
// block of pixels Y[pixels x og] = X[pixels x cg] * W_g^T, both operands read in place.
template <class T>
void forward_1x1_nhwc(const GemmPlan& pl, const T* x, const T* w, const T* bias, bool relu, T* y) {
  const int64_t items = pl.n * pl.groups * pl.nblocks;
  const double item_ns = 2.0 * static_cast<double>(pl.og) * static_cast<double>(pl.K) *
                         static_cast<double>(pl.nb) * kNsPerFlop;
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t blk = it % pl.nblocks, t = it / pl.nblocks;
      const int64_t g = t % pl.groups, n = t / pl.groups;
      const int64_t p0 = blk * pl.nb, p1 = std::min(pl.P, p0 + pl.nb);
      if (p1 <= p0) continue;
      T* yg = y + (n * pl.P + p0) * pl.o + g * pl.og;
      gemm(false, true, p1 - p0, pl.og, pl.cg, T(1), x + (n * pl.P + p0) * pl.c + g * pl.cg, pl.c,
           w + g * pl.og * pl.K, pl.K, T(0), yg, pl.o);
      if (!bias && !relu) continue;
      const T* bg = bias ? bias + g * pl.og : nullptr;
      for (int64_t q = 0; q < p1 - p0; ++q) {
        T* yp = yg + q * pl.o;
        for (int64_t o = 0; o < pl.og; ++o) {
          const T v = bg ? yp[o] + bg[o] : yp[o];
          yp[o] = relu && v < T(0) ? T(0) : v;
        }
      }
    }
  });
}

// GEMM per (image, group, column block): Y[og x cols] = W_g[og x K] * col[K x cols]. Blocks
// run in parallel, each GEMM on its own thread (gemm() inside parallel_for stays serial); a
// single block lets gemm() thread itself.
template <class T>
void forward_gemm(const GemmPlan& pl, const T* x, const T* w, const T* bias, bool relu, T* y) {
  const bool pointwise = pl.pointwise;
  if (pl.p.layout == Layout::nhwc) return forward_1x1_nhwc(pl, x, w, bias, relu, y);
  const int64_t items = pl.n * pl.groups * pl.nblocks;
  const double item_ns = 2.0 * static_cast<double>(pl.og) * static_cast<double>(pl.K) *
                         static_cast<double>(pl.nb) * kNsPerFlop;
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> col;
    if (!pointwise) col = Buffer<T>(static_cast<size_t>(pl.K * pl.nb));
    for (int64_t it = b; it < e; ++it) {
      const int64_t blk = it % pl.nblocks, t = it / pl.nblocks;
      const int64_t g = t % pl.groups, n = t / pl.groups;
      const int64_t p0 = blk * pl.nb, p1 = std::min(pl.P, p0 + pl.nb), cols = p1 - p0;
      if (cols <= 0) continue;
      int64_t ldb;
      const T* bm =
          gemm_operand(pl, x + (n * pl.c + g * pl.cg) * pl.h * pl.w, p0, p1, col.get(), &ldb);
      T* yg = y + (n * pl.o + g * pl.og) * pl.P + p0;
      gemm(false, false, pl.og, cols, pl.K, T(1), w + g * pl.og * pl.K, pl.K, bm, ldb, T(0), yg,
           pl.P);
      epilogue(yg, pl.og, cols, pl.P, bias ? bias + g * pl.og : nullptr, relu);
    }
  });
}

// y = act(y + r) over the whole output, in parallel blocks: the residual epilogue of the
// algorithms that do not fuse it.
template <class T>
void add_residual(T* y, const T* r, int64_t n, bool relu) {
  constexpr int64_t kBlock = 16384;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, grain_for(blocks, 0.5 * kBlock), [&](int64_t b, int64_t e) {
    const int64_t i0 = b * kBlock;
    residual_act(y + i0, r + i0, std::min(n, e * kBlock) - i0, relu);
  });
}

}  // namespace

template <class T>
void forward(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y, const T* res) {
  if (pl.n == 0 || pl.o == 0 || pl.P == 0) return;
  if (res && (pl.algo != Algo::winograd || pl.cg == 0)) {
    forward(pl, x, w, bias, false, y);
    return add_residual(y, res, pl.n * pl.o * pl.P, relu);
  }
  if (pl.cg == 0) {  // no input channels: the output is the bias
    for (int64_t i = 0; i < pl.n * pl.o; ++i) {
      T v = bias ? bias[i % pl.o] : T(0);
      if (relu && v < T(0)) v = T(0);
      std::fill(y + i * pl.P, y + (i + 1) * pl.P, v);
    }
    return;
  }
  switch (pl.algo) {
    case Algo::depthwise:
    case Algo::direct:
      return forward_direct(plan_direct(pl), x, w, bias, relu, y);
    case Algo::shifted_gemm:
      return forward_shifted(plan_shifted(pl), x, w, bias, relu, y);
    case Algo::implicit_gemm:
      return forward_implicit(plan_implicit(pl), x, w, bias, relu, y);
    case Algo::winograd:
      // Operands out of Winograd's range (conv2d_plan.h: non-finite or near the largest
      // value) run the implicit GEMM, the planner's next choice for these layers.
      if (pl.p.dilation_h > 1 ? forward_winograd_dilated(pl, x, w, bias, relu, y, res)
                              : forward_winograd(plan_winograd(pl), x, w, bias, relu, y, res))
        return;
      {
        Plan next = pl;
        next.algo = Algo::implicit_gemm;
        return forward(next, x, w, bias, relu, y, res);
      }
    case Algo::gemm_1x1:
    case Algo::im2col_gemm:
      return forward_gemm(plan_gemm(pl), x, w, bias, relu, y);
  }
}

// An NCHW-only algorithm writing y channels-last itself (conv2d_t, for NHWC operands): the
// direct kernel (a stem). False where the algorithm cannot: the caller transposes.
template <class T>
bool forward_nhwc_out(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y) {
  if (pl.algo != Algo::direct || pl.groups != 1 || pl.n == 0 || pl.o == 0 || pl.P == 0 ||
      pl.cg == 0)
    return false;
  forward_direct_nhwc(plan_direct(pl), x, w, bias, relu, y);
  return true;
}

template void forward<float>(const Plan&, const float*, const float*, const float*, bool, float*,
                             const float*);
template void forward<double>(const Plan&, const double*, const double*, const double*, bool,
                              double*, const double*);

}  // namespace conv_ops

namespace {

using conv_ops::Plan;
using views::contiguous;

// A strided 1x1 kernel without padding on NHWC (a ResNet downsample's shortcut): blocks of
// output pixels gather the input pixels the stride reads into a compact (pixels x C) block,
// then Y = block * W^T, bias, residual and activation while the block's rows are in cache.
// The implicit GEMM copied row-phase planes of the whole input for it (0.9 against 0.35 ms,
// batch 64, 32x32x16 -> 16x16x32, one thread).
template <class T>
bool forward_1x1_strided_nhwc(const Plan& pl, const T* x, const T* w, const T* bias, bool relu,
                              const T* res, T* y) {
  const Conv2dParams& p = pl.p;
  if (p.layout != Layout::nhwc || pl.kh != 1 || pl.kw != 1 || pl.groups != 1 ||
      (p.stride_h == 1 && p.stride_w == 1) || p.pad_top || p.pad_bottom || p.pad_left ||
      p.pad_right)
    return false;
  constexpr int64_t kPixels = 256;  // output pixels per work item (a 16 KiB block at C = 16)
  const int64_t C = pl.c, O = pl.o, pixels = pl.n * pl.P;
  const int64_t items = (pixels + kPixels - 1) / kPixels;
  const double item_ns = 2.0 * static_cast<double>(kPixels * C * O) * conv_ops::kNsPerFlop;
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> blk(static_cast<size_t>(kPixels * C));
    for (int64_t it = b; it < e; ++it) {
      const int64_t q0 = it * kPixels, m = std::min(kPixels, pixels - q0);
      // Output pixel q0 + q is (image, row i, column j); j and i carried, not divided out.
      int64_t j = q0 % pl.ow, r = q0 / pl.ow;  // r: output rows of all images
      for (int64_t q = 0; q < m; ++q) {
        const int64_t n = r / pl.oh, i = r % pl.oh;
        const T* src = x + ((n * pl.h + i * p.stride_h) * pl.w + j * p.stride_w) * C;
        std::copy(src, src + C, blk.get() + q * C);
        if (++j == pl.ow) j = 0, ++r;
      }
      T* yb = y + q0 * O;
      gemm(false, true, m, O, C, T(1), blk.get(), C, w, C, T(0), yb, O);
      for (int64_t q = 0; q < m; ++q) {
        T* yp = yb + q * O;
        for (int64_t o = 0; o < O; ++o) {
          T v = bias ? yp[o] + bias[o] : yp[o];
          if (res) v += res[(q0 + q) * O + o];
          yp[o] = relu && v < T(0) ? T(0) : v;
        }
      }
    }
  });
  return true;
}

template <class T>
void conv2d_t(const View& input, const View& weight, const View* bias, const Conv2dParams& p,
              const View& out, Activation act, const View* residual) {
  // NHWC operands go to the algorithms that read and write them natively as they are; the
  // others get NCHW copies through the permuted views (a transpose each way).
  const View xl = conv_ops::logical_nchw(input, p.layout);
  const conv_ops::Problem pr{xl.shape[0],     xl.shape[1],     xl.shape[2],     xl.shape[3],
                             weight.shape[0], weight.shape[2], weight.shape[3], p,
                             input.dtype};
  Plan pl = conv_ops::get_plan(pr);
  const bool native = p.layout == Layout::nchw || conv_ops::native_nhwc(pl.algo);
  if (!native) pl.p.layout = Layout::nchw;
  // Transposed copies, image by image (the permuted views' element-by-element copies took
  // most of an NHWC stem's time: 2.0 ms against 0.57 ms for NCHW, batch 64 of 32x32x3).
  const bool transposed = !native && input.ndim == 4;
  Buffer<T> xt, rt;
  const View xv = native ? input : transposed ? conv_ops::nchw_operand<T>(input, &xt) : xl;
  const View yv = native ? out : conv_ops::logical_nchw(out, p.layout);
  Buffer<char> xk, wk, bk;
  Buffer<T> yk;
  const T* x = contiguous<T>(xv, &xk);
  const T* w = contiguous<T>(weight, &wk);
  const T* b = bias ? contiguous<T>(*bias, &bk) : nullptr;
  if (transposed && !residual && out.c_contiguous() &&
      conv_ops::forward_nhwc_out<T>(pl, x, w, b, act == Activation::relu, out.ptr<T>()))
    return;
  const bool direct_out = yv.c_contiguous();
  T* y = yv.ptr<T>();
  if (!direct_out) {
    yk = Buffer<T>(static_cast<size_t>(yv.size()));
    y = yk.get();
  }
  const bool relu = act == Activation::relu;
  if (native && direct_out && input.ndim == 4 && !transposed) {
    Buffer<char> rk;
    const T* r = residual ? contiguous<T>(*residual, &rk) : nullptr;
    if (forward_1x1_strided_nhwc(pl, x, w, b, relu, r, y)) return;
  }
  if (residual) {
    // The residual in the layout of y: NCHW (through the permuted view) when the algorithm
    // ran on NCHW copies of NHWC operands.
    const View rv = native       ? *residual
                    : transposed ? conv_ops::nchw_operand<T>(*residual, &rt)
                                 : conv_ops::logical_nchw(*residual, p.layout);
    Buffer<char> rk;
    const T* r = contiguous<T>(rv, &rk);
    conv_ops::forward<T>(pl, x, w, b, relu, y, r);
  } else {
    conv_ops::forward<T>(pl, x, w, b, relu, y);
  }
  if (direct_out) return;
  if (transposed && out.c_contiguous())
    conv_ops::transpose_images(y, yv.shape[0], yv.shape[2] * yv.shape[3], yv.shape[1], false,
                               out.ptr<T>());
  else
    views::copy_from_contiguous(y, yv);
}

}  // namespace

void conv2d(const View& input, const View& weight, const View* bias, const Conv2dParams& p,
            const View& out, Activation act, const View* residual) {
  const Shape s = conv2d_shape(input, weight, bias, p);
  views::check_out(out, input.dtype, s, "out");
  if (residual) views::check_out(*residual, input.dtype, s, "residual");
  if (out.empty()) return;
  conv_ops::naming_workspace("conv2d", input, p, [&] {
    if (input.dtype == DType::f32)
      conv2d_t<float>(input, weight, bias, p, out, act, residual);
    else
      conv2d_t<double>(input, weight, bias, p, out, act, residual);
  });
}

const char* conv2d_algorithm(const View& input, const View& weight, const Conv2dParams& p) {
  conv2d_shape(input, weight, nullptr, p);
  const View xl = conv_ops::logical_nchw(input, p.layout);
  const conv_ops::Problem pr{xl.shape[0],     xl.shape[1],     xl.shape[2],     xl.shape[3],
                             weight.shape[0], weight.shape[2], weight.shape[3], p,
                             input.dtype};
  return conv_ops::algo_name(conv_ops::get_plan(pr).algo);
}

void conv2d_reference(const View& input, const View& weight, const View* bias,
                      const Conv2dParams& p, const View& out) {
  if (p.layout != Layout::nchw) throw ValueError("conv2d_reference: NCHW only");
  const Shape s = conv2d_shape(input, weight, bias, p);
  views::check_out(out, input.dtype, s, "out");
  if (out.empty()) return;
  if (!input.c_contiguous() || !weight.c_contiguous() || !out.c_contiguous() ||
      (bias && !bias->c_contiguous()))
    throw ValueError("conv2d_reference: arrays must be C-contiguous");
  auto run = [&](auto tag) {
    using T = decltype(tag);
    conv::reference<T>(input.ptr<T>(), input.shape[0], input.shape[1], input.shape[2],
                       input.shape[3], weight.ptr<T>(), weight.shape[0], weight.shape[2],
                       weight.shape[3], bias ? bias->ptr<T>() : nullptr, p.stride_h, p.stride_w,
                       p.pad_top, p.pad_left, p.dilation_h, p.dilation_w, p.groups, out.ptr<T>(),
                       s[2], s[3]);
  };
  if (input.dtype == DType::f32)
    run(float{});
  else
    run(double{});
}

}  // namespace npfast
