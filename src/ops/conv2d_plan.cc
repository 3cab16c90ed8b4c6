// conv2d planner: the geometry, the algorithm choice and its cache, and each algorithm's plan.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/conv/conv.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {

const char* algo_name(Algo a) {
  switch (a) {
    case Algo::depthwise:
      return "depthwise";
    case Algo::direct:
      return "direct";
    case Algo::gemm_1x1:
      return "gemm_1x1";
    case Algo::im2col_gemm:
      return "im2col_gemm";
    case Algo::shifted_gemm:
      return "shifted_gemm";
    case Algo::implicit_gemm:
      return "implicit_gemm";
    case Algo::winograd:
      return "winograd";
  }
  return "?";
}

bool winograd_dilated_fits(const Geometry& g) {
  const Conv2dParams& p = g.p;
  return g.kh == 3 && g.kw == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 2 &&
         p.dilation_w == 2 && p.groups == 1 && p.layout == Layout::nchw && p.pad_top == 2 &&
         p.pad_bottom == 2 && p.pad_left == 2 && p.pad_right == 2 && g.h % 2 == 0 && g.w % 2 == 0 &&
         g.h > 0 && g.w > 0;
}

namespace {

// im2col column blocks aim at this many bytes so a block stays in L2 while GEMM reads it.
constexpr int64_t kColBlockBytes = 256 << 10;
// Padded-input workspaces of the direct and shifted paths stay under this many bytes.
std::atomic<int64_t> g_workspace_bytes{int64_t{32} << 20};
// The implicit GEMM's channels-last copy is made an image at a time (or a few small ones), so
// the GEMM reads it from L2 right after it is written. Stride 2 64->128 @56 N=8, one thread:
// float64 23.5 ms with 32 MiB batches, 20.0 ms with 4 MiB, 19.7 ms with 1 MiB; float32 9.5-9.9,
// 9.1-9.2 (2 MiB), 8.4-8.7 ms (1 MiB: one 0.86 MB image).
constexpr int64_t kImplicitBatchBytes = int64_t{1} << 20;
// Fewest channels per group for the channels-last implicit GEMM.
constexpr int64_t kImplicitMinChannels = 16;
// Fewest input and output channels for Winograd F(2x2, 3x3).
constexpr int64_t kWinogradMinChannels = 16;
// Direct-kernel work items aim at about this many flops (~60 us).
constexpr double kItemFlops = 2.0e6;
// The x86-64 user address space (128 TiB): no workspace past it can ever be mapped.
constexpr int64_t kMappableBytes = int64_t{1} << 47;

// Partial sums for grad_weight: a divisor of the unit count (equal slots), at most 8, even
// where possible so two threads share the slots evenly; each partial costs a reduction pass.
int64_t weight_slots(int64_t units) {
  for (int64_t s = 8; s >= 2; s -= 2)
    if (units % s == 0) return s;
  for (int64_t s = 7; s >= 1; s -= 2)
    if (units % s == 0) return s;
  return 1;
}

bool is_pointwise(const Geometry& g) {
  const Conv2dParams& p = g.p;
  return g.kh == 1 && g.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
         p.pad_bottom == 0 && p.pad_left == 0 && p.pad_right == 0;
}

Algo choose(const Geometry& g) {
  const Conv2dParams& p = g.p;
  const bool nhwc = p.layout == Layout::nhwc;
  if (g.cg == 1 && g.og == 1) return Algo::depthwise;
  if (is_pointwise(g)) return Algo::gemm_1x1;
  if (g.cg <= 4) return Algo::direct;
  if (4 * (g.kw - 1) * p.dilation_w / p.stride_w > g.ow) return Algo::im2col_gemm;
  // 3x3 stride 1: Winograd F(2x2, 3x3) does 2.25x fewer multiply-adds; its transforms cost
  // about 2 x 16 additions per tile and channel, small next to the 16 x O (or C) multiply-adds
  // once both channel counts reach kWinogradMinChannels.
  if (g.kh == 3 && g.kw == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dilation_h == 1 &&
      p.dilation_w == 1 && p.groups == 1 && g.og >= kWinogradMinChannels &&
      g.cg >= kWinogradMinChannels)
    return Algo::winograd;
  // Dilation 2 (NCHW): the same on the input's 2 x 2 phases (winograd_dilated_fits).
  if (winograd_dilated_fits(g) && g.og >= kWinogradMinChannels && g.cg >= kWinogradMinChannels)
    return Algo::winograd;
  // At most 25% of the wide row discarded. The implicit GEMM reads its A rows in place from a
  // channels-last copy, which pays off once a pixel's channels fill the K loop of a tap (and
  // always for NHWC input, which is that copy already); strides read row-phase planes and
  // dilations output phases (conv2d_implicit.cc). The shifted GEMM keeps the rest.
  if (nhwc || g.cg >= kImplicitMinChannels) return Algo::implicit_gemm;
  return Algo::shifted_gemm;
}

int64_t esize(const Geometry& g) { return static_cast<int64_t>(itemsize(g.dtype)); }

// Images per batch of a workspace of `per_channel` elements per input channel, so a large
// batch does not need a padded copy of all of it at once.
int64_t batch_images(const Geometry& g, int64_t per_channel) {
  const int64_t per_image =
      checked_mul(checked_mul(g.c, esize(g), "workspace"), per_channel, "workspace");
  return std::max<int64_t>(1, g_workspace_bytes.load() / std::max<int64_t>(per_image, 1));
}

// Column blocks of `pixels` output pixels for a GEMM of depth `depth`: sized for L2, an even
// count so two threads share them evenly, a multiple of 8 pixels. Depends on the shape only,
// never on the thread count.
void column_blocks(const Geometry& g, int64_t depth, int64_t pixels, int64_t* nb,
                   int64_t* nblocks) {
  int64_t b =
      std::clamp<int64_t>(kColBlockBytes / (std::max<int64_t>(depth, 1) * esize(g)), 64, 4096);
  int64_t blocks = ceil_div(std::max<int64_t>(pixels, 1), b);
  if (blocks > 1 && blocks % 2) ++blocks;
  *nb = (ceil_div(std::max<int64_t>(pixels, 1), blocks) + 7) / 8 * 8;
  *nblocks = ceil_div(std::max<int64_t>(pixels, 1), *nb);
}

WideRows wide_rows(const Geometry& g) {
  WideRows r{};
  static_cast<Geometry&>(r) = g;
  r.wpad = g.ow + (g.kw - 1) * g.p.dilation_w / g.p.stride_w;
  r.hq = g.oh + (g.kh - 1) * g.p.dilation_h / g.p.stride_h;
  return r;
}

}  // namespace

Geometry geometry_of(const Problem& pr) {
  Geometry g{};
  const Conv2dParams& p = pr.p;
  g.n = pr.n, g.c = pr.c, g.h = pr.h, g.w = pr.w, g.o = pr.o, g.kh = pr.kh, g.kw = pr.kw;
  g.p = p;
  g.dtype = pr.dtype;
  g.groups = p.groups;
  g.cg = pr.c / p.groups;
  g.og = pr.o / p.groups;
  const int64_t span_h = pr.h + p.pad_top + p.pad_bottom - p.dilation_h * (pr.kh - 1) - 1;
  const int64_t span_w = pr.w + p.pad_left + p.pad_right - p.dilation_w * (pr.kw - 1) - 1;
  g.oh = span_h / p.stride_h + 1;
  g.ow = span_w / p.stride_w + 1;
  // One output along an axis reads the same input whatever the stride: the stride is taken as
  // the smallest that keeps it one (span + 1), so that no algorithm sizes its work by a stride
  // past the image (probe18c: stride=10**6 on an 8x8 image took 860 MB and 7.5 s).
  if (g.oh == 1 && span_h >= 0) g.p.stride_h = std::min(p.stride_h, span_h + 1);
  if (g.ow == 1 && span_w >= 0) g.p.stride_w = std::min(p.stride_w, span_w + 1);
  g.P = checked_mul(g.oh, g.ow, "output size");
  g.K = checked_mul(checked_mul(g.cg, pr.kh, "weight size"), pr.kw, "weight size");
  return g;
}

DirectPlan plan_direct(const Geometry& g) {
  DirectPlan pl{};
  static_cast<Geometry&>(pl) = g;
  const Conv2dParams& p = g.p;
  pl.depthwise = g.cg == 1 && g.og == 1;
  // Padded, phase-split input for the direct kernels: only the rows and columns taps read.
  pl.hp = (g.oh - 1) * p.stride_h + (g.kh - 1) * p.dilation_h + 1;
  pl.wq = g.ow + ceil_div((g.kw - 1) * p.dilation_w, p.stride_w) + conv::kColumnSlack;
  pl.xrow = checked_mul(p.stride_w, pl.wq, "padded row");
  pl.plane = checked_mul(pl.hp, pl.xrow, "padded plane");
  // The phase-split rows grow with the stride (a fuzzer's 2^40 leaves them mostly empty): past
  // what can be mapped, name the argument that asked for it rather than the allocation.
  const int64_t image_bytes =
      checked_mul(checked_mul(g.c, pl.plane, "padded plane"), esize(g), "padded plane");
  if (image_bytes > kMappableBytes)
    throw MemoryError("stride: (" + std::to_string(p.stride_h) + ", " + std::to_string(p.stride_w) +
                      ") needs a padded input of " + std::to_string(image_bytes) +
                      " bytes per image, more than can be mapped");
  // Groups of at most 4 output channels take the 4-channel tile (conv_direct_4ch).
  pl.ocb = pl.depthwise ? 1 : g.og <= 4 ? 4 : kernels<conv::Table>().direct_ob;
  const int64_t ob = std::min<int64_t>(g.og, pl.ocb);
  pl.nob = ceil_div(g.og, pl.ocb);
  const double row_flops =
      2.0 * static_cast<double>(g.ow) * static_cast<double>(g.K) * static_cast<double>(ob);
  pl.rows_per_item = std::clamp<int64_t>(
      static_cast<int64_t>(kItemFlops / std::max(row_flops, 1.0)), 1, std::max<int64_t>(g.oh, 1));
  pl.row_items = ceil_div(g.oh, pl.rows_per_item);
  pl.item_ns = row_flops * static_cast<double>(pl.rows_per_item) * kNsPerFlop;
  pl.batch_images = batch_images(g, pl.plane);
  return pl;
}

GemmPlan plan_gemm(const Geometry& g) {
  GemmPlan pl{};
  static_cast<Geometry&>(pl) = g;
  pl.pointwise = is_pointwise(g);
  // Sized for L2 (im2col) or for GEMM's appetite (1x1).
  column_blocks(g, g.K, g.P, &pl.nb, &pl.nblocks);
  // grad_weight partial sums: at most 8 per group, a fixed split of the (image, block) units.
  const int64_t units = std::max<int64_t>(g.n * pl.nblocks, 1);
  pl.wslots = weight_slots(units);
  pl.units_per_slot = units / pl.wslots;
  return pl;
}

ShiftedPlan plan_shifted(const Geometry& g) {
  ShiftedPlan pl{};
  static_cast<WideRows&>(pl) = wide_rows(g);
  const Conv2dParams& p = g.p;
  // Expanding the kw shifts (stride 1) trades a copy of kw x the input for GEMM depth; worth
  // it while the channels alone give a shallow GEMM.
  const bool unit_stride = p.stride_h == 1 && p.stride_w == 1;
  pl.expand = unit_stride && g.cg < 128 ? g.kw : 1;
  // Strides far beyond the image (a fuzzer's 2^40) overflow here: a MemoryError, never UB.
  const int64_t phases = checked_mul(p.stride_h, p.stride_w, "stride phases");
  const int64_t reach_x = (g.kw - 1) * p.dilation_w / p.stride_w;
  pl.lcopy =
      checked_add(checked_mul(checked_mul(phases, pl.hq, "padded plane"), pl.wpad, "padded plane"),
                  pl.expand == 1 ? reach_x : 0, "padded plane");
  pl.sK = g.cg * pl.expand;
  pl.sP = checked_mul(g.oh, pl.wpad, "output size");
  column_blocks(g, pl.sK, pl.sP, &pl.snb, &pl.snblocks);
  const int64_t sunits = std::max<int64_t>(g.n * pl.snblocks, 1);
  pl.swslots = weight_slots(sunits);
  pl.sunits_per_slot = sunits / pl.swslots;
  pl.batch_images = batch_images(g, checked_mul(pl.expand, pl.lcopy, "workspace"));
  return pl;
}

ImplicitPlan plan_implicit(const Geometry& g) {
  ImplicitPlan pl{};
  static_cast<WideRows&>(pl) = wide_rows(g);
  const Conv2dParams& p = g.p;
  pl.fh = p.stride_h == 1 ? p.dilation_h : 1;
  pl.fw = p.stride_w == 1 ? p.dilation_w : 1;
  pl.edh = p.dilation_h / pl.fh;
  pl.edw = p.dilation_w / pl.fw;
  pl.oh2 = ceil_div(g.oh, pl.fh);
  pl.ow2 = ceil_div(g.ow, pl.fw);
  pl.wpad = pl.ow2 + (g.kw - 1) * pl.edw / p.stride_w;
  pl.hq = pl.oh2 + (g.kh - 1) * pl.edh / p.stride_h;
  pl.wrow = checked_mul(p.stride_w, pl.wpad, "padded row");
  // Slack: the last tile's rows (a microkernel's MR <= 64) and taps read past the last row.
  pl.plane_px = checked_add(checked_mul(pl.hq, pl.wrow, "padded plane"),
                            p.stride_w * 64 + (g.kw - 1) * pl.edw, "padded plane");
  pl.image_px = checked_mul(checked_mul(pl.fh * pl.fw, p.stride_h, "phase planes"), pl.plane_px,
                            "phase planes");
  const int64_t image_bytes =
      checked_mul(checked_mul(pl.image_px, g.c, "workspace"), esize(g), "workspace");
  pl.batch_images = std::min(batch_images(g, pl.image_px),
                             std::max<int64_t>(1, kImplicitBatchBytes / image_bytes));
  pl.wslots = weight_slots(std::max<int64_t>(g.n, 1));
  return pl;
}

WinogradPlan plan_winograd(const Geometry& g) {
  WinogradPlan pl{};
  static_cast<Geometry&>(pl) = g;
  pl.batch_images =
      batch_images(g, checked_mul((g.oh + 1) / 2 * 2 + 2, (g.ow + 1) / 2 * 2 + 2, "workspace"));
  return pl;
}

bool even_split(int64_t units, int64_t copy_bytes) {
  const int64_t t = available_threads();
  return copy_bytes <= kUnitCopyBytes && (units + t - 1) / t * t * 8 <= units * 9;
}

int64_t row_split(int64_t images, int64_t rows, int64_t stride, int64_t reach, double row_ns,
                  double copy_row_ns, double row_flops, int64_t row_px) {
  const int64_t t = available_threads();
  if (t <= 1 || images <= 0 || rows <= 1 || !(row_flops > 0) || row_px <= 0) return 1;
  const int64_t min_rows =
      std::max({int64_t{1}, static_cast<int64_t>(std::ceil(kImplicitItemFlops / row_flops)),
                ceil_div(kImplicitItemPixels, row_px)});
  const int64_t max_parts = std::max<int64_t>(1, rows / min_rows);
  auto slowest = [&](int64_t parts) {
    const int64_t r = ceil_div(rows, parts);
    const double part_ns = static_cast<double>(r) * row_ns +
                           static_cast<double>(r * stride + reach - stride) * copy_row_ns;
    return static_cast<double>(ceil_div(images * parts, t)) * part_ns;
  };
  double best = slowest(1);
  for (int64_t parts = 2; parts <= max_parts; ++parts) best = std::min(best, slowest(parts));
  for (int64_t parts = 1;; ++parts)
    if (slowest(parts) <= 1.02 * best) return parts;
}

int64_t tapered_chunks(int64_t items, int64_t grain, int64_t* start) {
  const int64_t t = available_threads();
  int64_t chunks = 0;
  start[0] = 0;
  if (t == 1 || grain >= items) {
    start[1] = items;
    return 1;
  }
  for (int64_t b = 0; b < items;) {
    // A chunk of at most a quarter of what each thread has left: the first thread to run out
    // of chunks then waits for at most one small one.
    const int64_t left = items - b;
    b += std::clamp<int64_t>(ceil_div(left, 4 * t), 1, grain);
    start[++chunks] = std::min(b, items);
  }
  return chunks;
}

bool native_nhwc(Algo a) {
  return a == Algo::implicit_gemm || a == Algo::winograd || a == Algo::gemm_1x1;
}

namespace {

constexpr int kKeyLen = 19;
constexpr int kCacheSize = 16;

struct Entry {
  int64_t key[kKeyLen];
  uint64_t used = 0;  // 0: empty
  Plan plan;
};

struct Cache {
  std::mutex mu;
  uint64_t clock = 0;
  Entry entries[kCacheSize];
};

Cache& cache() {
  static Cache c;
  return c;
}

}  // namespace

int64_t set_workspace_limit(int64_t bytes) {
  return g_workspace_bytes.exchange(std::max<int64_t>(bytes, 1));
}

int64_t workspace_limit() { return g_workspace_bytes.load(); }

Plan get_plan(const Problem& pr) {
  const Conv2dParams& p = pr.p;
  const int64_t key[kKeyLen] = {pr.n,
                                pr.c,
                                pr.h,
                                pr.w,
                                pr.o,
                                pr.kh,
                                pr.kw,
                                p.stride_h,
                                p.stride_w,
                                p.pad_top,
                                p.pad_bottom,
                                p.pad_left,
                                p.pad_right,
                                p.dilation_h,
                                p.dilation_w,
                                p.groups,
                                static_cast<int64_t>(pr.dtype),
                                static_cast<int64_t>(active_isa()),
                                static_cast<int64_t>(p.layout)};
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lk(c.mu);
    for (Entry& e : c.entries)
      if (e.used && std::memcmp(e.key, key, sizeof key) == 0) {
        e.used = ++c.clock;
        return e.plan;
      }
  }
  Plan plan{};
  static_cast<Geometry&>(plan) = geometry_of(pr);
  plan.algo = choose(plan);
  std::lock_guard<std::mutex> lk(c.mu);
  Entry* victim = &c.entries[0];
  for (Entry& e : c.entries)
    if (e.used < victim->used) victim = &e;
  std::memcpy(victim->key, key, sizeof key);
  victim->plan = plan;
  victim->used = ++c.clock;
  return plan;
}

std::string pair_str(int64_t a, int64_t b) {
  return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

std::string workspace_message(const char* what, const char* op, const View& input,
                              const Conv2dParams& p) {
  // An inner convolution (conv_transpose2d's conv2d_backward) named it already: the caller's
  // operation and arguments replace its.
  std::string raw(what);
  const size_t named = raw.find(" workspace for input ");
  if (named != std::string::npos) raw.resize(raw.rfind(" (", named));
  return raw + " (" + op + " workspace for input " + shape_str(input) + ", padding " +
         pair_str(std::max(p.pad_top, p.pad_bottom), std::max(p.pad_left, p.pad_right)) +
         ", dilation " + pair_str(p.dilation_h, p.dilation_w) + ", stride " +
         pair_str(p.stride_h, p.stride_w) + ")";
}

}  // namespace conv_ops
}  // namespace npfast
