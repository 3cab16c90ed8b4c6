// conv2d planner and its cache, im2col / col2im, and the strided copies.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/conv/conv.h"
#include "src/kernels/pack/pack.h"
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

namespace {

// Single-thread throughput assumed by the cost model (ns per flop): a direct kernel or GEMM
// at a few tens of GFLOP/s. Only decides how work is split, never what is computed.
constexpr double kNsPerFlop = 0.03;
// im2col column blocks aim at this many bytes so a block stays in L2 while GEMM reads it.
constexpr int64_t kColBlockBytes = 256 << 10;
// Padded-input workspaces of the direct and shifted paths stay under this many bytes.
std::atomic<int64_t> g_workspace_bytes{int64_t{32} << 20};
// Fewest channels per group for the channels-last implicit GEMM.
constexpr int64_t kImplicitMinChannels = 16;
// Fewest input and output channels for Winograd F(2x2, 3x3).
constexpr int64_t kWinogradMinChannels = 16;
// Direct-kernel work items aim at about this many flops (~60 us).
constexpr double kItemFlops = 2.0e6;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Partial sums for grad_weight: a divisor of the unit count (equal slots), at most 8, even
// where possible so two threads share the slots evenly; each partial costs a reduction pass.
int64_t weight_slots(int64_t units) {
  for (int64_t s = 8; s >= 2; s -= 2)
    if (units % s == 0) return s;
  for (int64_t s = 7; s >= 1; s -= 2)
    if (units % s == 0) return s;
  return 1;
}

Plan make_plan(const Problem& pr) {
  Plan pl{};
  const Conv2dParams& p = pr.p;
  pl.n = pr.n, pl.c = pr.c, pl.h = pr.h, pl.w = pr.w, pl.o = pr.o, pl.kh = pr.kh, pl.kw = pr.kw;
  pl.p = p;
  pl.groups = p.groups;
  pl.cg = pr.c / p.groups;
  pl.og = pr.o / p.groups;
  pl.oh = (pr.h + p.pad_top + p.pad_bottom - p.dilation_h * (pr.kh - 1) - 1) / p.stride_h + 1;
  pl.ow = (pr.w + p.pad_left + p.pad_right - p.dilation_w * (pr.kw - 1) - 1) / p.stride_w + 1;
  pl.P = checked_mul(pl.oh, pl.ow, "output size");
  pl.K = checked_mul(checked_mul(pl.cg, pr.kh, "weight size"), pr.kw, "weight size");
  const int64_t esize = static_cast<int64_t>(itemsize(pr.dtype));

  const bool pointwise = pr.kh == 1 && pr.kw == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                         p.pad_top == 0 && p.pad_bottom == 0 && p.pad_left == 0 && p.pad_right == 0;
  if (pl.cg == 1 && pl.og == 1)
    pl.algo = Algo::depthwise;
  else if (pointwise)
    pl.algo = Algo::gemm_1x1;
  else if (pl.cg <= 4)
    pl.algo = Algo::direct;
  else if (4 * (pr.kw - 1) * p.dilation_w / p.stride_w <= pl.ow)
    // at most 25% of the wide row discarded; channels-last pays off once a pixel's channels
    // fill the K loop of a tap
    pl.algo = p.stride_h == 1 && p.stride_w == 1 && pl.cg >= kImplicitMinChannels
                  ? Algo::implicit_gemm
                  : Algo::shifted_gemm;
  else
    pl.algo = Algo::im2col_gemm;
  // 3x3 stride 1: Winograd F(2x2, 3x3) does 2.25x fewer multiply-adds; its transforms cost
  // about 2 x 16 additions per tile and channel, small next to the 16 x O (or C) multiply-adds
  // once both channel counts reach kWinogradMinChannels.
  if (pl.algo == Algo::implicit_gemm && pr.kh == 3 && pr.kw == 3 && p.dilation_h == 1 &&
      p.dilation_w == 1 && p.groups == 1 && pl.og >= kWinogradMinChannels &&
      pl.cg >= kWinogradMinChannels)
    pl.algo = Algo::winograd;

  // Padded, phase-split input for the direct kernels: only the rows and columns taps read.
  pl.hp = (pl.oh - 1) * p.stride_h + (pr.kh - 1) * p.dilation_h + 1;
  pl.wq = pl.ow + ceil_div((pr.kw - 1) * p.dilation_w, p.stride_w) + conv::kColumnSlack;
  pl.xrow = checked_mul(p.stride_w, pl.wq, "padded row");
  pl.plane = checked_mul(pl.hp, pl.xrow, "padded plane");
  // Groups of at most 4 output channels take the 4-channel tile (direct4).
  pl.ocb = pl.algo == Algo::depthwise ? 1
           : pl.og <= 4              ? 4
                                     : conv::active_kernels().direct_ob;
  const int64_t ob = std::min<int64_t>(pl.og, pl.ocb);
  pl.nob = ceil_div(pl.og, pl.ocb);
  const double row_flops =
      2.0 * static_cast<double>(pl.ow) * static_cast<double>(pl.K) * static_cast<double>(ob);
  pl.rows_per_item = std::clamp<int64_t>(
      static_cast<int64_t>(kItemFlops / std::max(row_flops, 1.0)), 1, std::max<int64_t>(pl.oh, 1));
  pl.row_items = ceil_div(pl.oh, pl.rows_per_item);
  pl.item_ns = row_flops * static_cast<double>(pl.rows_per_item) * kNsPerFlop;

  // Column blocks: sized for L2 (im2col) or for GEMM's appetite (1x1), an even count so two
  // threads share them evenly. Depends on the shape only, never on the thread count.
  const int64_t depth = std::max<int64_t>(pl.K, 1);
  int64_t nb = std::clamp<int64_t>(kColBlockBytes / (depth * esize), 64, 4096);
  int64_t nblocks = ceil_div(std::max<int64_t>(pl.P, 1), nb);
  if (nblocks > 1 && nblocks % 2) ++nblocks;
  nb = (ceil_div(std::max<int64_t>(pl.P, 1), nblocks) + 7) / 8 * 8;
  pl.nb = nb;
  pl.nblocks = ceil_div(std::max<int64_t>(pl.P, 1), nb);

  // shifted_gemm: expanding the kw shifts (stride 1) trades a copy of kw x the input for
  // GEMM depth; worth it while the channels alone give a shallow GEMM.
  const int64_t reach_y = (pr.kh - 1) * p.dilation_h / p.stride_h;
  const int64_t reach_x = (pr.kw - 1) * p.dilation_w / p.stride_w;
  pl.wpad = pl.ow + reach_x;
  pl.hq = pl.oh + reach_y;
  const bool unit_stride = p.stride_h == 1 && p.stride_w == 1;
  pl.expand = unit_stride && pl.cg < 128 ? pr.kw : 1;
  // Strides far beyond the image (a fuzzer's 2^40) overflow here: a MemoryError, never UB.
  const int64_t phases = checked_mul(p.stride_h, p.stride_w, "stride phases");
  pl.lcopy =
      checked_add(checked_mul(checked_mul(phases, pl.hq, "padded plane"), pl.wpad, "padded plane"),
                  pl.expand == 1 ? reach_x : 0, "padded plane");
  pl.sK = pl.cg * pl.expand;
  pl.sP = checked_mul(pl.oh, pl.wpad, "output size");
  {
    int64_t snb =
        std::clamp<int64_t>(kColBlockBytes / (std::max<int64_t>(pl.sK, 1) * esize), 64, 4096);
    int64_t sblocks = ceil_div(std::max<int64_t>(pl.sP, 1), snb);
    if (sblocks > 1 && sblocks % 2) ++sblocks;
    pl.snb = (ceil_div(std::max<int64_t>(pl.sP, 1), sblocks) + 7) / 8 * 8;
    pl.snblocks = ceil_div(std::max<int64_t>(pl.sP, 1), pl.snb);
  }

  {
    const int64_t per_image = checked_mul(
        checked_mul(pr.c, esize, "workspace"),
        pl.algo == Algo::shifted_gemm    ? checked_mul(pl.expand, pl.lcopy, "workspace")
        : pl.algo == Algo::implicit_gemm ? checked_add(pl.hq * pl.wpad, 64 + pr.kw * p.dilation_w,
                                                       "workspace")
        : pl.algo == Algo::winograd ? checked_mul((pl.oh + 1) / 2 * 2 + 2, (pl.ow + 1) / 2 * 2 + 2,
                                                  "workspace")
                                    : pl.plane,
        "workspace");
    pl.batch_images =
        std::max<int64_t>(1, g_workspace_bytes.load() / std::max<int64_t>(per_image, 1));
  }

  // grad_weight partial sums: at most 8 per group, a fixed split of the (image, block) units.
  const int64_t units = std::max<int64_t>(pl.n * pl.nblocks, 1);
  pl.wslots = weight_slots(units);
  pl.units_per_slot = units / pl.wslots;
  const int64_t sunits = std::max<int64_t>(pl.n * pl.snblocks, 1);
  pl.swslots = weight_slots(sunits);
  pl.sunits_per_slot = sunits / pl.swslots;
  return pl;
}

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
  Cache& c = cache();
  std::lock_guard<std::mutex> lk(c.mu);
  for (Entry& e : c.entries) e.used = 0;
  return g_workspace_bytes.exchange(std::max<int64_t>(bytes, 1));
}

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
                                0};
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lk(c.mu);
    for (Entry& e : c.entries)
      if (e.used && std::memcmp(e.key, key, sizeof key) == 0) {
        e.used = ++c.clock;
        return e.plan;
      }
  }
  const Plan plan = make_plan(pr);
  std::lock_guard<std::mutex> lk(c.mu);
  Entry* victim = &c.entries[0];
  for (Entry& e : c.entries)
    if (e.used < victim->used) victim = &e;
  std::memcpy(victim->key, key, sizeof key);
  victim->plan = plan;
  victim->used = ++c.clock;
  return plan;
}

// Walks the output pixels [p0, p1) of tap (ky, kx) row by row: fn(dst_offset, run, iy, ix0)
// with iy the input row (may be out of range) and ix0 the input column of the first pixel.
template <class F>
inline void for_runs(const Plan& pl, int64_t ky, int64_t kx, int64_t p0, int64_t p1, F&& fn) {
  int64_t p = p0;
  int64_t oy = p0 / pl.ow, ox = p0 % pl.ow;
  while (p < p1) {
    const int64_t run = std::min(pl.ow - ox, p1 - p);
    const int64_t iy = oy * pl.p.stride_h + ky * pl.p.dilation_h - pl.p.pad_top;
    const int64_t ix0 = ox * pl.p.stride_w + kx * pl.p.dilation_w - pl.p.pad_left;
    fn(p - p0, run, iy, ix0);
    p += run;
    ox = 0;
    ++oy;
  }
}

namespace {
template <class T>
void gather_stride(const T* __restrict s, int64_t stride, T* __restrict d, int64_t n) {
  if (stride == 2) {
    for (int64_t j = 0; j < n; ++j) d[j] = s[2 * j];
    return;
  }
  for (int64_t j = 0; j < n; ++j) d[j] = s[j * stride];
}

}  // namespace

template <class T>
void im2col(const Plan& pl, const T* x, int64_t p0, int64_t p1, T* col) {
  const int64_t cols = p1 - p0, s = pl.p.stride_w;
  for (int64_t ci = 0; ci < pl.cg; ++ci) {
    const T* src = x + ci * pl.h * pl.w;
    for (int64_t ky = 0; ky < pl.kh; ++ky)
      for (int64_t kx = 0; kx < pl.kw; ++kx) {
        T* dst = col + ((ci * pl.kh + ky) * pl.kw + kx) * cols;
        for_runs(pl, ky, kx, p0, p1, [&](int64_t off, int64_t run, int64_t iy, int64_t ix0) {
          T* d = dst + off;
          if (iy < 0 || iy >= pl.h) {
            std::fill(d, d + run, T(0));
            return;
          }
          const T* row = src + iy * pl.w;
          int64_t j0, j1;
          valid_range(ix0, s, run, pl.w, &j0, &j1);
          std::fill(d, d + j0, T(0));
          if (s == 1)
            std::memcpy(d + j0, row + ix0 + j0, (j1 - j0) * sizeof(T));
          else
            gather_stride(row + ix0 + j0 * s, s, d + j0, j1 - j0);
          std::fill(d + j1, d + run, T(0));
        });
      }
  }
}

template <class T>
void col2im_add(const Plan& pl, const T* col, int64_t p0, int64_t p1, T* x) {
  const int64_t cols = p1 - p0, s = pl.p.stride_w;
  for (int64_t ci = 0; ci < pl.cg; ++ci) {
    T* dstp = x + ci * pl.h * pl.w;
    for (int64_t ky = 0; ky < pl.kh; ++ky)
      for (int64_t kx = 0; kx < pl.kw; ++kx) {
        const T* src = col + ((ci * pl.kh + ky) * pl.kw + kx) * cols;
        for_runs(pl, ky, kx, p0, p1, [&](int64_t off, int64_t run, int64_t iy, int64_t ix0) {
          if (iy < 0 || iy >= pl.h) return;
          T* row = dstp + iy * pl.w;
          int64_t j0, j1;
          valid_range(ix0, s, run, pl.w, &j0, &j1);
          for (int64_t j = j0; j < j1; ++j) row[ix0 + j * s] += src[off + j];
        });
      }
  }
}

// Rows [rb, re) of one padded, phase-split plane (conv.h): zeros outside the image. Row by
// row, all phases of a row at once, so each source row is read from L1 for its later phases.
template <class T>
void pad_rows(const Plan& pl, const T* src, T* dst, int64_t rb, int64_t re) {
  const int64_t sw = pl.p.stride_w;
  for (int64_t r = rb; r < re; ++r) {
    T* d = dst + r * pl.xrow;
    const int64_t iy = r - pl.p.pad_top;
    if (iy < 0 || iy >= pl.h) {
      std::fill(d, d + pl.xrow, T(0));
      continue;
    }
    const T* srow = src + iy * pl.w;
    for (int64_t q = 0; q < sw; ++q, d += pl.wq) {
      const int64_t ix0 = q - pl.p.pad_left;
      int64_t j0, j1;
      valid_range(ix0, sw, pl.wq, pl.w, &j0, &j1);
      std::fill(d, d + j0, T(0));
      if (sw == 1)
        std::memcpy(d + j0, srow + ix0 + j0, (j1 - j0) * sizeof(T));
      else
        gather_stride(srow + ix0 + j0 * sw, sw, d + j0, j1 - j0);
      std::fill(d + j1, d + pl.wq, T(0));
    }
  }
}

template <class T>
void pad_plane(const Plan& pl, const T* src, T* dst) {
  pad_rows(pl, src, dst, 0, pl.hp);
}

template <class T>
void pad_planes(const Plan& pl, const T* src, int64_t planes, T* dst) {
  constexpr int64_t kPadRows = 16;
  const int64_t row_blocks = (pl.hp + kPadRows - 1) / kPadRows, items = planes * row_blocks;
  parallel_for(items, grain_for(items, 0.3 * static_cast<double>(kPadRows * pl.xrow), 16),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const int64_t plane = i / row_blocks, r0 = i % row_blocks * kPadRows;
                   pad_rows(pl, src + plane * pl.h * pl.w, dst + plane * pl.plane, r0,
                            std::min(pl.hp, r0 + kPadRows));
                 }
               });
}

template <class T>
conv::DirectArgs<T> direct_args(const Plan& pl, const T* bias, bool relu, int64_t* taps) {
  conv::DirectArgs<T> a{};
  a.c = pl.cg;
  a.hp = pl.hp;
  a.wq = pl.wq;
  a.sw = pl.p.stride_w;
  a.kh = pl.kh;
  a.kw = pl.kw;
  a.sh = pl.p.stride_h;
  a.dh = pl.p.dilation_h;
  a.dw = pl.p.dilation_w;
  a.bias = bias;
  a.relu = relu;
  a.ys = pl.P;
  a.ow = pl.ow;
  a.oy0 = 0;
  a.oy1 = pl.oh;
  conv::direct_taps(a, taps);
  a.taps = taps;
  return a;
}

template <class T>
void channels_last_row(const Plan& pl, const T* x, int64_t r, int64_t width, T* d) {
  const int64_t C = pl.c, left = std::min(width, pl.p.pad_left);
  const int64_t iy = r - pl.p.pad_top;
  if (iy < 0 || iy >= pl.h) {
    std::fill(d, d + width * C, T(0));
    return;
  }
  const int64_t end = std::min(width, pl.p.pad_left + pl.w);  // past the last image pixel
  std::fill(d, d + left * C, T(0));
  std::fill(d + std::max(end, left) * C, d + width * C, T(0));
  if (end > left)
    pack::transpose(x + iy * pl.w + (left - pl.p.pad_left), pl.h * pl.w, d + left * C, C, C,
                   end - left);
}

#define NPFAST_INSTANTIATE(T)                                               \
  template void im2col<T>(const Plan&, const T*, int64_t, int64_t, T*);     \
  template void col2im_add<T>(const Plan&, const T*, int64_t, int64_t, T*); \
  template void pad_plane<T>(const Plan&, const T*, T*);                    \
  template void pad_rows<T>(const Plan&, const T*, T*, int64_t, int64_t);   \
  template void pad_planes<T>(const Plan&, const T*, int64_t, T*);          \
  template conv::DirectArgs<T> direct_args<T>(const Plan&, const T*, bool, int64_t*); \
  template void channels_last_row<T>(const Plan&, const T*, int64_t, int64_t, T*);
NPFAST_INSTANTIATE(float)
NPFAST_INSTANTIATE(double)
#undef NPFAST_INSTANTIATE

}  // namespace conv_ops
}  // namespace npfast
