// GEMM operator: BLIS-style blocking, packing and threading around the microkernels.
//
// Two schedules with the same arithmetic (serial meaning):
//   shared (B panels reused by several row groups of about MC rows):
//     for jc in [0, n) by NC                              column blocks
//       for pc in [0, k) by KC (in order)                 K blocks
//         phase 1: pack op(B)[pc, jc]                     parallel over chunks of 8 panels
//         phase 2: for each item (row group, column part) parallel over items
//           pack op(A)[rows, pc] into MR-tall panels      (thread-local workspace)
//           for jr in the item's B panels: for ir in its A panels: microkernel
//   fused (one row group, or B read in place): each item runs the same K loop itself and
//     packs each chunk of 8 B panels right before using it (thread-local, L2-resident), so
//     there is a single hand-off per call.
// Every C tile is updated once per K block, in K order, by one microkernel call whose
// arithmetic does not depend on where the tile sits or who runs it, so any partition (and
// any thread count) gives bitwise identical results. Small products skip packing where the
// microkernel can read the operand in place (same arithmetic, so same bits).
#include <algorithm>
#include <cstring>

#include "npfast/gemm.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/pack/pack.h"
#include "src/ops/gemm_impl.h"

namespace npfast {
namespace gemm_detail {
namespace {

using gemm_kernels::Ukernel;
using gemm_kernels::UkernelFn;

// A per-thread packing workspace from the pool, grown on demand and kept for the next call
// (pool threads live as long as the process).
class Workspace {
 public:
  ~Workspace() { memory::deallocate(p_); }
  void* get(size_t bytes) {
    if (bytes > bytes_) {
      memory::deallocate(p_);
      p_ = nullptr;
      bytes_ = 0;
      p_ = memory::allocate(bytes);
      bytes_ = bytes;
    }
    return p_;
  }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};
thread_local Workspace t_workspace_a;
thread_local Workspace t_workspace_b;

// op(X)(r, c) = x[r * rs + c * cs].
template <class T>
struct Mat {
  const T* p;
  int64_t rs, cs;
};

// Packing: a panel of width W (MR rows of A or NR columns of B) by kc steps of K goes to
// dst[p * W + i] = x[i * across + p * along] for i < w, zero for w <= i < W. W is a template
// constant so the copies unroll and vectorize (memcpy of 24-64 bytes per step cost 8% at 256^2).
template <class T, int W>
void pack_panel_w(const T* x, int64_t along, int64_t across, int64_t w, int64_t kc, T* dst) {
  if constexpr (W == 6) {
    // The AVX2 MR: its own SSE2 transpose (src/kernels/pack).
    if (along == 1 && w == W) return pack::pack_rows6(x, across, kc, dst);
  }
  if (across == 1 && w == W) {
    for (int64_t p = 0; p < kc; ++p) {
      const T* s = x + p * along;
      T* d = dst + p * W;
      for (int i = 0; i < W; ++i) d[i] = s[i];
    }
  } else if (along == 1 && w == W) {
    // Transposing: W source rows of kc contiguous elements, by 4x4 (2x2) register blocks.
    // Copied an element at a time, AVX-512's 32-wide transposed B panels took a quarter of a
    // ResNet 3x3 layer's grad_weight.
    pack::transpose(x, across, dst, W, W, kc);
  } else if (along == 1) {
    // A partial panel (the last rows of A) the same way, then its padding: element by element
    // it cost as much as a full panel row of a 96^3 f64 product (14 x 16, 12 edge rows).
    pack::transpose(x, across, dst, W, w, kc);
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t i = w; i < W; ++i) dst[p * W + i] = T(0);
  } else {
    for (int64_t p = 0; p < kc; ++p) {
      const T* s = x + p * along;
      T* d = dst + p * W;
      for (int64_t i = 0; i < w; ++i) d[i] = s[i * across];
      for (int64_t i = w; i < W; ++i) d[i] = T(0);
    }
  }
}

template <class T>
void pack_panel(const T* x, int64_t along, int64_t across, int64_t w, int64_t kc, int W, T* dst) {
  switch (W) {
    case 4:
      return pack_panel_w<T, 4>(x, along, across, w, kc, dst);
    case 6:
      return pack_panel_w<T, 6>(x, along, across, w, kc, dst);
    case 8:
      return pack_panel_w<T, 8>(x, along, across, w, kc, dst);
    case 14:
      return pack_panel_w<T, 14>(x, along, across, w, kc, dst);
    case 16:
      return pack_panel_w<T, 16>(x, along, across, w, kc, dst);
    case 32:
      return pack_panel_w<T, 32>(x, along, across, w, kc, dst);
    default:
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t i = 0; i < W; ++i) dst[p * W + i] = i < w ? x[i * across + p * along] : T(0);
  }
}

// op(A)[0:mr, 0:kc] -> dst[p * MR + i], rows mr..MR-1 zero.
template <class T>
void pack_a(Mat<T> a, int64_t mr, int64_t kc, int MR, T* dst) {
  pack_panel(a.p, a.cs, a.rs, mr, kc, MR, dst);
}

// op(B)[0:kc, 0:nr] -> dst[p * NR + j], columns nr..NR-1 zero.
template <class T>
void pack_b(Mat<T> b, int64_t kc, int64_t nr, int NR, T* dst) {
  pack_panel(b.p, b.rs, b.cs, nr, kc, NR, dst);
}

// op(B)[0:kc, 0:ncols] -> consecutive NR-wide panels (panel t at dst + t * kc * NR), the last
// one zero padded. A row-major B is copied row by row across all the panels: reading one panel
// at a time would touch kc rows (kc pages once ldb spans a page) for 64 bytes each, which cost
// a third of the time of a 64 x 3136 x 576 product.
template <class T>
void pack_b_multi(Mat<T> b, int64_t kc, int64_t ncols, int NR, T* dst) {
  const int64_t panels = ceil_div(ncols, NR);
  if (b.cs != 1 || panels == 1) {
    for (int64_t t = 0; t < panels; ++t)
      pack_b(Mat<T>{b.p + t * NR * b.cs, b.rs, b.cs}, kc, std::min<int64_t>(NR, ncols - t * NR), NR,
             dst + t * kc * NR);
    return;
  }
  const int64_t full = ncols / NR, rest = ncols - full * NR;
  // Rows far apart defeat the hardware prefetchers: ask for the row kAhead steps ahead.
  constexpr int64_t kAhead = 8;
  const int64_t line = 64 / static_cast<int64_t>(sizeof(T));
  for (int64_t p = 0; p < kc; ++p) {
    const T* s = b.p + p * b.rs;
    T* d = dst + p * NR;
    if (p + kAhead < kc)
      for (int64_t j = 0; j < ncols; j += line) __builtin_prefetch(s + kAhead * b.rs + j);
    for (int64_t t = 0; t < full; ++t) {
      const T* st = s + t * NR;
      T* dt = d + t * kc * NR;
      for (int j = 0; j < NR; ++j) dt[j] = st[j];
    }
    if (rest) {
      T* dt = d + full * kc * NR;
      for (int64_t j = 0; j < rest; ++j) dt[j] = s[full * NR + j];
      for (int64_t j = rest; j < NR; ++j) dt[j] = T(0);
    }
  }
}

// C[0:m, 0:n] = beta * C (alpha == 0 or k == 0: A and B are not read, as BLAS).
template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + n, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// C touched between two passes over the same tile (m rows by a column block) that stays in
// L2 on the machines measured (2 MB per core on the Xeon); beyond it K blocks are grouped.
constexpr double kCResidentBytes = 1 << 20;
// Packed B block (K group x column block) read by every row group from L3. The tables' NC with
// one K block stays within it (2-3 MB); with a K group of 768 f32 at 4000^2, 12 MB of B ran at
// 116 GFLOP/s on one thread and 3 MB (NC 1024) at 144-152. Every column block repacks all of
// A, so the block is as wide as that allows: 6 MB instead of 4 MB (one column block instead of
// two at 1500^2 f32, two instead of three at 3000^2 f64) measured 1-7% faster at 1500^2-4000^2
// on two threads and no slower on one (Xeon, 2 MB L2 per core).
constexpr size_t kBBlockBytes = size_t{6} << 20;

// One K group (consecutive K blocks packed together) of one column block: where phase 2 reads
// B and how C is updated.
struct Block {
  int64_t jc, nb;  // columns [jc, jc + nb)
  int64_t pc, kc;  // K range [pc, pc + kc): whole K blocks of kcb, the last one may be shorter
};

template <class T>
struct Engine {
  const Ukernel<T>& uk;
  Mat<T> a, b;
  T* c;
  int64_t ldc;
  int64_t m, n, k;
  T alpha, beta;
  bool pack_a_all, pack_b_all;
  int threads;

  int64_t kcb = 0;    // K block (k_block): fixes the reduction order
  int64_t kpack = 0;  // K group: the depth packed and passed over C at once, a multiple of kcb
  int64_t mp = 0;     // row panels
  int64_t groups = 1, col_parts = 1;
  int64_t items_per_thread = 4;  // what column_parts aims at

  // A panels [p0, p1) of block `bk`: packed into the thread's workspace, or read in place
  // with a partial last panel packed. Returns the workspace.
  T* prepare_a(const Block& bk, int64_t p0, int64_t p1) const {
    const int MR = uk.mr;
    const int64_t panel = static_cast<int64_t>(MR) * bk.kc;
    if (pack_a_all) {
      T* abuf =
          static_cast<T*>(t_workspace_a.get(static_cast<size_t>((p1 - p0) * panel) * sizeof(T)));
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t i = p * MR;
        pack_a(Mat<T>{a.p + i * a.rs + bk.pc * a.cs, a.rs, a.cs}, std::min<int64_t>(MR, m - i),
               bk.kc, MR, abuf + (p - p0) * panel);
      }
      return abuf;
    }
    T* abuf = static_cast<T*>(t_workspace_a.get(static_cast<size_t>(panel) * sizeof(T)));
    if (m % MR != 0 && p1 * MR > m) {
      const int64_t i = (p1 - 1) * MR;
      pack_a(Mat<T>{a.p + i * a.rs + bk.pc * a.cs, a.rs, a.cs}, m - i, bk.kc, MR, abuf);
    }
    return abuf;
  }

  // Multiplies A panels [p0, p1) by one B panel (columns from j) into C. A K group is taken
  // K block by K block, each over all the A panels: every C tile still gets its K blocks in
  // K order, each the call a one-block pass would make (same kc, same beta, so the same bits),
  // and the B sub-panel (kcb x NR, 16-24 KB) stays in L1 across the A panels while the
  // column of C tiles (MC x NR) stays in L1 between K blocks. Tile by tile instead, the whole
  // group's B panel (64-96 KB, more than L1) came back from L2 for every A panel: f64 3000^3
  // on one thread ran 77 GFLOP/s that way and 80-85 this way (Xeon, 48 KB L1).
  //
  // With K groups (C mostly not in L2) the first K block finds each C tile in memory, and the
  // kernel's own prefetch at its start left part of that wait in the tile (f32 2000^2 on one
  // thread: 5.5% of the kernel's samples before its K loop). The next tile's C is asked for
  // one call ahead, into L2, so it arrives during this call: f32 2000^2-4000^2 3-6% faster on
  // one thread on the Xeon, f64 unchanged within the noise. AVX2 has no K groups (unchanged).
  void multiply_column(const Block& bk, const T* abuf, int64_t p0, int64_t p1, int64_t j,
                       const T* bp, int64_t rs_b) const {
    const int MR = uk.mr, NR = uk.nr;
    const int64_t panel = static_cast<int64_t>(MR) * bk.kc;
    const int64_t nr = std::min<int64_t>(NR, bk.jc + bk.nb - j);
    const bool c_ahead = kpack > kcb;
    for (int64_t s = 0; s < bk.kc; s += kcb) {
      const int64_t kc = std::min(kcb, bk.kc - s);
      const T beta_s = bk.pc + s == 0 ? beta : T(1);
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t i = p * MR;
        const int64_t mr = std::min<int64_t>(MR, m - i);
        if (c_ahead && s == 0 && p + 1 < p1) {
          const T* cn = c + (i + MR) * ldc + j;
          for (int64_t r = 0; r < std::min<int64_t>(MR, m - i - MR); ++r) {
            __builtin_prefetch(cn + r * ldc, 1, 2);
            __builtin_prefetch(cn + r * ldc + nr - 1, 1, 2);
          }
        }
        const T* ap;
        int64_t rs_a, cs_a;
        if (pack_a_all) {
          ap = abuf + (p - p0) * panel;
          rs_a = 1;
          cs_a = MR;
        } else if (mr < MR) {
          ap = abuf;
          rs_a = 1;
          cs_a = MR;
        } else {
          ap = a.p + i * a.rs + bk.pc * a.cs;
          rs_a = a.rs;
          cs_a = a.cs;
        }
        // Edge panels use the edge kernels (same bits, less wasted work): half width, or
        // exactly the panel's height, whichever multiplies less (a corner of at most MR/2 rows
        // takes the height).
        UkernelFn<T> fn = uk.fn;
        if (nr <= NR / 2 && uk.fn_narrow && 2 * mr > MR)
          fn = uk.fn_narrow;
        else if (mr < MR)
          fn = uk.for_rows(mr);
        fn(kc, ap + s * cs_a, rs_a, cs_a, bp + s * rs_b, rs_b, c + i * ldc + j, ldc, mr, nr, alpha,
           beta_s);
      }
    }
  }

  void pack_b_panels(const Block& bk, int64_t q0, int64_t q1, T* bbuf) const {
    const int NR = uk.nr;
    const int64_t j0 = q0 * NR;
    const Mat<T> src{b.p + bk.pc * b.rs + (bk.jc + j0) * b.cs, b.rs, b.cs};
    pack_b_multi(src, bk.kc, std::min(bk.nb, q1 * NR) - j0, NR, bbuf + q0 * bk.kc * NR);
  }

  // Column parts per row group for `npb` B panels: about 4 items per thread, claimed
  // dynamically, so a thread that the OS (or a shared host) slows down takes fewer; a 2-way
  // static split ran at the slower thread's pace. Each part repacks its row group's A, which
  // is cheap while a part spans at least 4 B panels (1 / (2 * columns) of the part's flops).
  // Every thread still gets an item where the row groups alone are fewer than the threads:
  // AVX-512's 32-wide panels left a 128-column product (4 panels) on one thread. Counting 64
  // columns instead of 4 panels there repacked A so often that 256 x 1152 x 196 ran 1.9x
  // slower on two threads.
  // Where A is read in place nothing is repacked, so a part may be a single panel (192^3 f32
  // on two threads: 8 items instead of 2, so a slowed thread no longer sets the pace).
  int64_t column_parts(int64_t npb) const {
    const int64_t want = items_per_thread * threads;
    if (threads <= 1 || groups >= want) return 1;
    int64_t parts = std::min(pack_a_all ? npb / 4 : npb, ceil_div(want, groups));
    if (groups < threads) parts = std::max(parts, std::min(npb, ceil_div(threads, groups)));
    return std::max<int64_t>(1, parts);
  }

  // The shared schedule's column parts on several threads: `parts`, or one more where the
  // items then end 3% sooner. Items are claimed in order by whichever thread is free, so with
  // parts of unequal width (9 or 11 B panels in 2 parts) the last items are the biggest and one
  // thread finishes alone: 288^2 and 350^2 f32 on two threads ran 1.25-1.34x the time per
  // element of 256^2, and 3 parts took 350^2 from 5.5 to 4.8-4.9 ps per multiply-add, while at
  // 320^2 and 384^2 (10 and 12 panels) they cost 3-8% (docs/threads.md, cliff20). The claim
  // order is simulated with an item costing its row panels x (its B panels + 0.2 for packing
  // its A again, the share that separates those cases).
  int64_t balanced_parts(int64_t npb, int64_t parts) const {
    if (threads <= 1 || !pack_a_all) return parts;
    auto end = [&](int64_t pc) {
      double busy[kMaxSimThreads] = {};
      const int nt = static_cast<int>(std::min<int64_t>(threads, kMaxSimThreads));
      for (int64_t it = 0; it < groups * pc; ++it) {
        const int64_t g = it / pc, h = it % pc;
        const double rows = static_cast<double>((g + 1) * mp / groups - g * mp / groups);
        const double cols = static_cast<double>((h + 1) * npb / pc - h * npb / pc);
        double* first = std::min_element(busy, busy + nt);
        *first += rows * (cols + 0.2);
      }
      return *std::max_element(busy, busy + nt);
    };
    const int64_t more = parts + 1;
    return more <= npb / 2 && end(more) < 0.97 * end(parts) ? more : parts;
  }
  static constexpr int kMaxSimThreads = 256;

  // Chunk size for `count` items: one item per chunk (claimed dynamically, so a thread that
  // is slowed down takes fewer) when all the pool's threads may join, else `threads` chunks.
  int64_t grain(int64_t count) const {
    return threads >= available_threads() ? 1 : ceil_div(count, threads);
  }

  // Fused mode: each item (row group g, column part h) runs the whole K loop itself and
  // prepares each B panel right before its use (packed into the thread's workspace while it
  // stays in L1, or read in place). Used when no B panel is shared by two row groups, so
  // nothing is packed twice and there is one hand-off per call.
  void run_fused_item(int64_t item) const {
    const int NR = uk.nr;
    const int64_t g = item / col_parts, h = item % col_parts;
    const int64_t npb = ceil_div(n, NR);
    const int64_t p0 = g * mp / groups, p1 = (g + 1) * mp / groups;
    const int64_t q0 = h * npb / col_parts, q1 = (h + 1) * npb / col_parts;
    if (p0 == p1 || q0 == q1) return;
    for (int64_t pc = 0; pc < k; pc += kpack) {
      const Block bk{0, n, pc, std::min(kpack, k - pc)};
      const T* abuf = prepare_a(bk, p0, p1);
      // B panels go through the workspace kChunk at a time (kc x 128 floats: L2-resident).
      constexpr int64_t kChunk = 8;
      T* bchunk =
          static_cast<T*>(t_workspace_b.get(static_cast<size_t>(bk.kc * NR * kChunk) * sizeof(T)));
      for (int64_t qc = q0; qc < q1; qc += kChunk) {
        const int64_t qe = std::min(q1, qc + kChunk);
        if (pack_b_all) {
          const int64_t j0 = qc * NR;
          pack_b_multi(Mat<T>{b.p + pc * b.rs + j0 * b.cs, b.rs, b.cs}, bk.kc,
                       std::min(n, qe * NR) - j0, NR, bchunk);
        }
        for (int64_t q = qc; q < qe; ++q) {
          const int64_t j = q * NR;
          const int64_t nr = std::min<int64_t>(NR, n - j);
          if (pack_b_all) {
            multiply_column(bk, abuf, p0, p1, j, bchunk + (q - qc) * bk.kc * NR, NR);
          } else if (nr < NR) {
            pack_b(Mat<T>{b.p + pc * b.rs + j * b.cs, b.rs, b.cs}, bk.kc, nr, NR, bchunk);
            multiply_column(bk, abuf, p0, p1, j, bchunk, NR);
          } else {
            multiply_column(bk, abuf, p0, p1, j, b.p + pc * b.rs + j, b.rs);
          }
        }
      }
    }
  }

  // Shared mode: per pass (column block, K group), B is packed once and read by every row
  // group. On one thread each pass packs its B, then multiplies. On several, the next pass's B
  // is packed into a second buffer within the current pass's job (its chunks claimed first),
  // so each pass is one hand-off, not two: the separate packing job was short (0.3-1 ms) and
  // a preemption there made the pool's back-off (judge) run the next 20-27 jobs, whole passes
  // of 10-20 ms, on the caller alone (3000^2, 2 threads, quiet machine).
  void run_shared() {
    const int NR = uk.nr;
    // At most uk.nc columns, and no more than kBBlockBytes of packed B (deeper K groups, fewer
    // columns).
    const int64_t nc_bytes = static_cast<int64_t>(kBBlockBytes / (kpack * sizeof(T)));
    const int64_t nc = std::max<int64_t>(NR, std::min<int64_t>(uk.nc, nc_bytes) / NR * NR);
    const int64_t bsize = kpack * ceil_div(std::min(n, nc), NR) * NR;
    const bool overlap = threads > 1;
    Buffer<T> shared;
    T* bufs[2];
    if (overlap) {
      shared = Buffer<T>(static_cast<size_t>(2 * bsize));
      bufs[0] = shared.get();
      bufs[1] = bufs[0] + bsize;
    } else {
      bufs[0] = bufs[1] =
          static_cast<T*>(t_workspace_b.get(static_cast<size_t>(bsize) * sizeof(T)));
    }
    const int64_t kpasses = ceil_div(k, kpack), passes = ceil_div(n, nc) * kpasses;
    auto block_of = [&](int64_t t) {
      const int64_t jc = t / kpasses * nc, pc = t % kpasses * kpack;
      return Block{jc, std::min(nc, n - jc), pc, std::min(kpack, k - pc)};
    };
    // Panels per packing chunk. The pool's cost model (about 0.5 ns per element copied,
    // measured at 2000^2): a small block is packed by one thread, a large one in chunks of at
    // least kMinChunkNs, and of at least 8 panels, which keep the row-wise copy streaming.
    auto pack_grain = [&](const Block& bk) {
      const int64_t npb = ceil_div(bk.nb, NR);
      const int64_t g = grain_for(npb, 0.5 * static_cast<double>(bk.kc * NR));
      return g < npb ? std::max<int64_t>(8, g) : npb;
    };
    if (overlap) {
      const Block b0 = block_of(0);
      parallel_for(ceil_div(b0.nb, NR), pack_grain(b0),
                   [&](int64_t q0, int64_t q1) { pack_b_panels(b0, q0, q1, bufs[0]); });
    }
    for (int64_t t = 0; t < passes; ++t) {
      const Block bk = block_of(t);
      const int64_t npb = ceil_div(bk.nb, NR);
      const int64_t parts = balanced_parts(npb, column_parts(npb));
      const int64_t items = groups * parts;
      T* const bbuf = bufs[t & 1];
      auto multiply_item = [&](int64_t it) {
        const int64_t g = it / parts, h = it % parts;
        const int64_t p0 = g * mp / groups, p1 = (g + 1) * mp / groups;
        const int64_t q0 = h * npb / parts, q1 = (h + 1) * npb / parts;
        if (p0 == p1 || q0 == q1) return;
        const T* abuf = prepare_a(bk, p0, p1);
        for (int64_t q = q0; q < q1; ++q)
          multiply_column(bk, abuf, p0, p1, bk.jc + q * NR, bbuf + q * bk.kc * NR, NR);
      };
      if (!overlap) {
        parallel_for(npb, pack_grain(bk),
                     [&](int64_t q0, int64_t q1) { pack_b_panels(bk, q0, q1, bbuf); });
        parallel_for(items, grain(items), [&](int64_t s, int64_t e) {
          for (int64_t it = s; it < e; ++it) multiply_item(it);
        });
        continue;
      }
      // Job: [0, chunks) pack the next pass's B, then [chunks, chunks + items) multiply.
      const Block next = t + 1 < passes ? block_of(t + 1) : Block{0, 0, 0, 0};
      const int64_t next_npb = ceil_div(next.nb, NR), pg = next_npb ? pack_grain(next) : 1;
      const int64_t chunks = ceil_div(next_npb, pg);
      T* const next_buf = bufs[(t + 1) & 1];
      parallel_for(chunks + items, grain(chunks + items), [&](int64_t s, int64_t e) {
        for (int64_t it = s; it < e; ++it) {
          if (it < chunks)
            pack_b_panels(next, it * pg, std::min(next_npb, (it + 1) * pg), next_buf);
          else
            multiply_item(it - chunks);
        }
      });
    }
  }

  void run() {
    const int MR = uk.mr, NR = uk.nr;
    kcb = k_block(k, uk.kc);
    mp = ceil_div(m, MR);
    // Row groups of about MC rows; with threads, a multiple of the thread count so the
    // groups balance.
    const int64_t mc_panels = std::max<int64_t>(1, uk.mc / MR);
    groups = std::min(mp, ceil_div(mp, mc_panels));
    const bool fused = !pack_b_all || groups == 1;
    // K blocks are grouped where C would otherwise come back from memory between them, and in
    // the shared schedule on several threads, whose two hand-offs per pass then come once per
    // group (on one thread with C in L2, grouping measured 0-3% slower at 256^3-512^3).
    const bool c_spills =
        static_cast<double>(m) * static_cast<double>(std::min<int64_t>(n, uk.nc)) * sizeof(T) >
        kCResidentBytes;
    const bool group = c_spills || (!fused && threads > 1);
    kpack = group ? kcb * std::max<int64_t>(1, uk.kc_pack / kcb) : kcb;
    // (A packed B block is never split by rows in fused mode: each group would pack it again.)
    if (threads > 1 && !(fused && pack_b_all))
      groups = std::min(mp, ceil_div(groups, threads) * threads);
    if (!fused) {
      run_shared();
      return;
    }
    const int64_t npb = ceil_div(n, NR);
    // A small product gets about one item per kMinChunkNs of a thread's share, down to one per
    // thread: each column part re-reads its row group's A and repacks its edge panel, and
    // each item is a claim, so at 128^2-160^2 f32 on two threads 8 items (2 row groups x 4
    // column parts) took 10.9 / 21.9 us and 2 row groups 10.0 / 18.1 us (docs/gemm.md, gemm2t).
    // A helper that starts late loses nothing: the caller claims its item.
    const double thread_ns = gemm_ns(m, n, k, uk.flops_per_ns) / threads;
    items_per_thread = std::clamp<int64_t>(static_cast<int64_t>(thread_ns / kMinChunkNs), 1, 4);
    col_parts = column_parts(npb);
    const int64_t items = groups * col_parts;
    parallel_for(items, grain(items), [&](int64_t s, int64_t e) {
      for (int64_t it = s; it < e; ++it) run_fused_item(it);
    });
  }
};

}  // namespace

int64_t k_block(int64_t k, int kc_max) {
  if (k <= kc_max) return std::max<int64_t>(k, 1);
  const int64_t blocks = ceil_div(k, kc_max);
  return ceil_div(k, blocks);
}

double gemm_ns(int64_t m, int64_t n, int64_t k, double flops_per_ns) {
  return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) /
         flops_per_ns;
}

int gemm_threads(int64_t m, int64_t n, int64_t k, int available, double flops_per_ns) {
  const double ns = gemm_ns(m, n, k, flops_per_ns);
  // threads_for's rule, except that two threads pay from kPairNs (npfast/threads.hpp): a
  // product splits into items that are claimed dynamically. Measured on the 2-core Zen 5
  // (docs/gemm.md, gemm2t): 64^3 f64 (4.9 us on one) 3.5 us on two, 96^3 f32 7.2 -> 4.6 us,
  // 128^3 f32 17 -> 9-10 us, where OpenBLAS on two threads took 12.4-16 us at 128^3 f32.
  return threads_for(ns, available, kPairNs);
}

template <class T>
void gemm_run(const Ukernel<T>& uk, const Options& opt, bool ta, bool tb, int64_t m, int64_t n,
              int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c,
              int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  const Mat<T> ma = ta ? Mat<T>{a, 1, lda} : Mat<T>{a, lda, 1};
  const Mat<T> mb = tb ? Mat<T>{b, 1, ldb} : Mat<T>{b, ldb, 1};
  // Inside a parallel_for (a convolution's images, a batch) the product runs on this thread
  // alone: planned for more, it would only be cut into more items (2 at 96^3-128^3 since the
  // pair rule), each re-reading its A.
  int threads = opt.threads > 0     ? opt.threads
                : in_parallel_for() ? 1
                                    : gemm_threads(m, n, k, available_threads(), uk.flops_per_ns);
  // Split no finer than the row and column panels allow.
  threads = static_cast<int>(
      std::max<int64_t>(1, std::min<int64_t>(threads, ceil_div(m, uk.mr) * ceil_div(n, uk.nr))));
  // Packing pays when a panel is reused enough: A across the B panels (n / NR), B across the
  // A panels (m / MR); reading B in place needs contiguous columns.
  // In place, the KC rows of a B panel sit ldb apart and fall into few L1 sets once ldb spans
  // more than 4 cache lines (n = 128 f32 measured 30% slower in place), so B is packed unless
  // it is that narrow or hardly reused (m <= 4 MR).
  // A row-major A is also read in place up to n = 256 when its rows are closer than a page
  // (packing costs about a cycle per element, 10% of a 128^3 product).
  // (At 8 lines apart the rows still hit 8 sets x 8 ways: fine for up to 64 rows.)
  // Where the ISA's table says so (inplace_b_bytes), a B whose K block spans little memory is
  // read in place at any width: it stays in L1/L2 as it is, and a packed copy would only evict it.
  const int64_t row_bytes_b = ldb * static_cast<int64_t>(sizeof(T));
  // Up to twice that span, B is still read in place when few A panels reuse it (m <= 16 MR):
  // 192^3 f32 ran 6-8% faster on one thread (packing B cost more than its L2 re-reads), and on
  // several threads the caller no longer packs the shared B alone before the others start;
  // at m = 896 or a wider B (2000 x 256 x 2000) the re-reads cost 1-12% more than packing.
  const int64_t span_b = k_block(k, uk.kc) * row_bytes_b;
  const bool narrow_b = row_bytes_b <= 256 || (row_bytes_b <= 512 && k <= 64) ||
                        span_b <= uk.inplace_b_bytes ||
                        (m <= 16 * uk.mr && span_b <= 2 * uk.inplace_b_bytes);
  const bool wide_a = ta || n > 256 || lda * static_cast<int64_t>(sizeof(T)) >= 4096;
  const bool pack_a = opt.pack_a >= 0 ? opt.pack_a == 1 : (n > 4 * uk.nr && wide_a);
  const bool pack_b = tb || (opt.pack_b >= 0 ? opt.pack_b == 1 : (m > 4 * uk.mr && !narrow_b));
  Engine<T> e{uk, ma, mb, c, ldc, m, n, k, alpha, beta, pack_a, pack_b, threads};
  e.run();
}

template void gemm_run<float>(const Ukernel<float>&, const Options&, bool, bool, int64_t, int64_t,
                              int64_t, float, const float*, int64_t, const float*, int64_t, float,
                              float*, int64_t);
template void gemm_run<double>(const Ukernel<double>&, const Options&, bool, bool, int64_t, int64_t,
                               int64_t, double, const double*, int64_t, const double*, int64_t,
                               double, double*, int64_t);

}  // namespace gemm_detail

namespace {

template <class T>
void gemm_batched_impl(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, T alpha,
                       const T* a, int64_t lda, int64_t sa, const T* b, int64_t ldb, int64_t sb,
                       T beta, T* c, int64_t ldc, int64_t sc) {
  if (batch <= 0) return;
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const auto& uk = of<T>(gk.f32, gk.f64);
  const int threads = available_threads();
  auto one = [&](int64_t i) {
    gemm_detail::gemm_run<T>(uk, gemm_detail::Options{}, ta, tb, m, n, k, alpha, a + i * sa, lda,
                             b + i * sb, ldb, beta, c + i * sc, ldc);
  };
  // A product big enough to thread by itself keeps the threads inside; otherwise the batch is
  // split (each product then runs on one thread: the same bits either way).
  // (threads_for, not gemm_threads: two products side by side beat each split in two.)
  if (batch == 1 || threads == 1 ||
      threads_for(gemm_detail::gemm_ns(m, n, k, uk.flops_per_ns), threads) > 1) {
    for (int64_t i = 0; i < batch; ++i) one(i);
    return;
  }
  // ~25 flops per ns on one AVX2 core for small products.
  const double ns =
      2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) / 25.0 + 50.0;
  parallel_for(batch, grain_for(batch, ns), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) one(i);
  });
}

}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_detail::gemm_run(kernels<gemm_kernels::Table>().f32, gemm_detail::Options{}, ta, tb, m, n, k,
                        alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
          int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_detail::gemm_run(kernels<gemm_kernels::Table>().f64, gemm_detail::Options{}, ta, tb, m, n, k,
                        alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_batched(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, int64_t sa, const float* b, int64_t ldb, int64_t sb,
                  float beta, float* c, int64_t ldc, int64_t sc) {
  gemm_batched_impl(ta, tb, batch, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc);
}
void gemm_batched(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, double alpha,
                  const double* a, int64_t lda, int64_t sa, const double* b, int64_t ldb,
                  int64_t sb, double beta, double* c, int64_t ldc, int64_t sc) {
  gemm_batched_impl(ta, tb, batch, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc);
}

}  // namespace npfast
