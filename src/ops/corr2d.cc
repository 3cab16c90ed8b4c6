// corr2d: the one operator every SciPy-style entry point reduces to (corr2d_scipy.cc), and its
// plan: border rows by pointer, border columns through small padded segments, the interior
// straight from the input, threads over bands of output rows. The kernels do the arithmetic.
#include "npfast/corr2d.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/kernels/corr2d/corr2d.h"
#include "src/kernels/elementwise/elementwise.h"
#include "src/ops/alias_rows.h"
#include "src/ops/corr2d.h"

namespace npfast {
namespace {

using corr2d::kMaxRows;

// Input rows the finite kernel checks a call where a plan reads the input in place (whole rows,
// gathered from a group's new rows): one reduction for several rows.
constexpr int64_t kScanRows = 8;

template <class T, class S>
void copy_span_as(T* dst, const char* src, int64_t stride, int64_t n) {
  if constexpr (std::is_same_v<T, S>) {
    if (stride == static_cast<int64_t>(sizeof(S))) {
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(S));
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    S v;
    std::memcpy(&v, src + i * stride, sizeof(S));  // strides need not be aligned
    dst[i] = static_cast<T>(v);
  }
}

// dst[i] = T(src[i * stride]) for a source of dtype s.
template <class T>
void copy_span(T* dst, const char* src, int64_t stride, int64_t n, DType s) {
  views::with_dtype(s, [&](auto e) { copy_span_as<T, decltype(e)>(dst, src, stride, n); });
}

// A range of output columns computed from one set of row pointers: either straight from the
// input (direct) or from rows padded into scratch.
struct Segment {
  int64_t c0, c1;
  bool direct;
};

template <class T>
struct Plan {
  // Input plane geometry (bytes).
  const char* in;
  DType in_t;
  int64_t H, W, rs, cs;
  // Output plane geometry (bytes).
  char* out;
  int64_t Ho, Wo, ors, ocs;
  bool out_direct;  // unit column stride: kernels write in place
  const View* vin;
  const View* vout;
  // The arithmetic.
  const T* taps;
  int kh, kw;
  int64_t top, left;
  Border border;
  T fill;
  corr2d::RowsFn<T> kern;
  corr2d::RowsFn<T> kern_direct;  // the in-place interior's: kern, or its streaming variant
  bool stream;                    // kern_direct stores non-temporally (caller fences)
  // The interior's right-to-left kernel, for planes whose rows meet in the 4 KiB alias going
  // forward (ops::interior_runs_reverse); null where no plane may use it.
  corr2d::RowsFn<T> kern_reverse;
  // Column segments, at most three; padded ones need `pad_width` scratch elements per row.
  Segment seg[3];
  int nseg;
  int64_t pad_width;
  const int64_t* colmap;  // [pad_width]: the column each padded element reads, -1 for fill
  int64_t fill_row;       // elements of the fill row direct segments read above/below the image
  int64_t band;           // output rows per sub-band (scratch holds band + kh - 1 rows)
  // Exactly rank-1 kernels: taps[a][b] = u[a] * v[b], run as a 1 x kw pass over the rows into
  // scratch and a kh x 1 pass down the columns.
  bool separable;
  const T* u;
  const T* v;
  corr2d::RowsFn<T> kern_h, kern_v;
  // Where set, raised when a row the kernels read (input or fill), or a rank-one plan's
  // along-row result, holds an inf or a NaN: checked with the finite kernel while in cache.
  std::atomic<bool>* nonfinite;
  elementwise::FiniteFn<T> finite;
  int seg_direct;  // the direct segment's index (rows of the input in place), or -1
};

// A padded row: dst[d] = ext(input)[row, c0 + d] for d < width. `cmap[d]` is the column that
// d reads (-1: the fill value), precomputed once per call since every row maps its columns the
// same way; `row` null means a row past the top or bottom under fill.
template <class T>
void build_row(const Plan<T>& P, const char* row, int64_t c0, int64_t width, const int64_t* cmap,
               T* dst) {
  if (!row) {
    std::fill(dst, dst + width, P.fill);
    return;
  }
  if (P.in_t == dtype_of<T>() && width <= 16) {
    // Short padded rows (the edges beside an in-place interior): one gather through the map.
    for (int64_t d = 0; d < width; ++d) {
      if (cmap[d] < 0)
        dst[d] = P.fill;
      else
        std::memcpy(dst + d, row + cmap[d] * P.cs, sizeof(T));
    }
    return;
  }
  const int64_t lo = std::clamp<int64_t>(-c0, 0, width);
  const int64_t hi = std::clamp<int64_t>(P.W - c0, lo, width);
  if (P.in_t == dtype_of<T>()) {
    for (int64_t d = 0; d < lo; ++d) {
      if (cmap[d] < 0)
        dst[d] = P.fill;
      else
        std::memcpy(dst + d, row + cmap[d] * P.cs, sizeof(T));
    }
    copy_span_as<T, T>(dst + lo, row + (c0 + lo) * P.cs, P.cs, hi - lo);
    for (int64_t d = hi; d < width; ++d) {
      if (cmap[d] < 0)
        dst[d] = P.fill;
      else
        std::memcpy(dst + d, row + cmap[d] * P.cs, sizeof(T));
    }
    return;
  }
  for (int64_t d = 0; d < lo; ++d) {
    if (cmap[d] < 0)
      dst[d] = P.fill;
    else
      copy_span(dst + d, row + cmap[d] * P.cs, P.cs, 1, P.in_t);
  }
  copy_span(dst + lo, row + (c0 + lo) * P.cs, P.cs, hi - lo, P.in_t);
  for (int64_t d = hi; d < width; ++d) {
    if (cmap[d] < 0)
      dst[d] = P.fill;
    else
      copy_span(dst + d, row + cmap[d] * P.cs, P.cs, 1, P.in_t);
  }
}

// Scratch layout for one chunk of work.
template <class T>
struct Scratch {
  const T** ptrs;  // [nseg][band + kh - 1]
  T* pad;          // [band + kh - 1][pad_width]
  T* fill_row;     // [fill_row]
  T* obuf;         // [kMaxRows][Wo] when the output is strided
  T** tmp;         // separable: [band + kh - 1] rows of Wo, the horizontal pass
  char* alias;     // streamed: [AliasedRows::bytes(kMaxRows, Wo * sizeof(T))], run_rows
};

template <class T>
size_t scratch_bytes(const Plan<T>& P) {
  const int64_t rows = P.band + P.kh - 1;
  const int64_t item = static_cast<int64_t>(sizeof(T));
  int64_t b = checked_mul(3 * rows, static_cast<int64_t>(sizeof(T*)), "scratch bytes") + 64;
  const int64_t pad =
      checked_add(checked_mul(rows, P.pad_width, "scratch size"), P.fill_row, "scratch size");
  b = checked_add(b, checked_mul(pad, item, "scratch bytes") + 64, "scratch bytes");
  if (!P.out_direct)
    b = checked_add(b, checked_mul(kMaxRows * P.Wo, item, "scratch bytes") + 64, "scratch bytes");
  if (P.stream)
    b = checked_add(b, ops::AliasedRows::bytes(kMaxRows, P.Wo * item) + 64, "scratch bytes");
  if (P.separable) {
    b = checked_add(b, rows * static_cast<int64_t>(sizeof(T*)) + 64, "scratch bytes");
    b = checked_add(
        b, checked_mul(checked_mul(rows, P.Wo, "scratch size"), item, "scratch bytes") + 64,
        "scratch bytes");
  }
  return static_cast<size_t>(b);
}

template <class T>
Scratch<T> carve(const Plan<T>& P, char* mem) {
  auto align = [](char* p) {
    return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63});
  };
  const int64_t rows = P.band + P.kh - 1;
  Scratch<T> s;
  char* p = align(mem);
  s.ptrs = reinterpret_cast<const T**>(p);
  p = align(p + 3 * rows * sizeof(T*));
  s.pad = reinterpret_cast<T*>(p);
  s.fill_row = s.pad + rows * P.pad_width;
  p = align(reinterpret_cast<char*>(s.fill_row + P.fill_row));
  s.obuf = reinterpret_cast<T*>(p);
  if (!P.out_direct) p = align(p + kMaxRows * P.Wo * sizeof(T));
  s.alias = p;
  if (P.stream) p = align(p + ops::AliasedRows::bytes(kMaxRows, P.Wo * sizeof(T)));
  s.tmp = nullptr;
  if (P.separable) {
    s.tmp = reinterpret_cast<T**>(p);
    T* t = reinterpret_cast<T*>(align(p + rows * sizeof(T*)));
    for (int64_t r = 0; r < rows; ++r) s.tmp[r] = t + r * P.Wo;
  }
  if (P.fill_row) std::fill(s.fill_row, s.fill_row + P.fill_row, P.fill);
  return s;
}

// Output rows run right to left since the process started (ops::corr2d_reverse_rows).
std::atomic<int64_t> g_reverse_rows{0};

// Output rows [r0, r1) of plane pl.
template <class T>
void run_rows(const Plan<T>& P, const Scratch<T>& S, int64_t pl, int64_t r0, int64_t r1) {
  const char* in = P.in + views::plane_offset(*P.vin, pl);
  char* out = P.out + views::plane_offset(*P.vout, pl);
  const int kh = P.kh;
  corr2d::RowsFn<T> interior = P.kern_direct;
  // Streamed rows in the 4 KiB alias of the rows they read: made in a scratch with plain
  // stores, then streamed out (alias_rows.h).
  ops::AliasedRows alias;
  for (int s = 0; (P.kern_reverse || P.stream) && s < P.nseg; ++s) {
    const Segment& g = P.seg[s];
    if (!g.direct) continue;
    // The interior's first output element, and the middle of the input window it reads.
    const uintptr_t store = reinterpret_cast<uintptr_t>(out) + static_cast<uintptr_t>(g.c0 * P.ocs);
    const uintptr_t load =
        reinterpret_cast<uintptr_t>(in) + static_cast<uintptr_t>((g.c0 - P.left + P.kw / 2) * P.cs);
    if (P.kern_reverse && ops::interior_runs_reverse(load, store, P.rs, kh, P.top)) {
      interior = P.kern_reverse;
      g_reverse_rows.fetch_add(r1 - r0, std::memory_order_relaxed);
    }
    // The input element at the first output's own position: the window's middle row.
    const uintptr_t centre = load + static_cast<uintptr_t>((kh / 2 - P.top) * P.rs);
    if (P.stream &&
        ops::streamed_rows_alias(store, P.ors, centre, P.rs, kh / 2, kh - 1 - kh / 2, kMaxRows)) {
      interior = P.kern;
      alias = ops::AliasedRows(kMaxRows, P.Wo * static_cast<int64_t>(sizeof(T)),
                               centre - static_cast<uintptr_t>(g.c0 * P.ocs), S.alias);
    }
    break;  // one direct segment (the interior) per plan
  }
  for (int64_t b0 = r0; b0 < r1; b0 += P.band) {
    const int64_t nout = std::min(P.band, r1 - b0);
    const int64_t nin = nout + kh - 1;
    const int64_t stride = P.band + kh - 1;
    // Row pointers for every segment; padded rows are built once per sub-band.
    for (int64_t t = 0; t < nin; ++t) {
      const int64_t m = map_index(b0 - P.top + t, P.H, P.border);
      const char* row = m >= 0 ? in + m * P.rs : nullptr;
      T* pad = S.pad + t * P.pad_width;
      const int64_t* cmap = P.colmap;
      for (int s = 0; s < P.nseg; ++s) {
        const Segment& g = P.seg[s];
        if (g.direct) {
          S.ptrs[s * stride + t] =
              row ? reinterpret_cast<const T*>(row + (g.c0 - P.left) * P.cs) : S.fill_row;
        } else {
          const int64_t width = g.c1 - g.c0 + P.kw - 1;
          build_row(P, row, g.c0 - P.left, width, cmap, pad);
          S.ptrs[s * stride + t] = pad;
          pad += width;
          cmap += width;
        }
      }
    }
    // Rows the kernels read, scanned for P.nonfinite right after a kernel has read them, while
    // they are in cache (a sub-band can be a whole chunk of the image; before the kernel, the
    // scan would be their first read, from memory, without the kernel's prefetches).
    const auto scan = [&](const T* const* rows, int64_t n, int64_t width) {
      if (!P.finite(n, width, rows)) P.nonfinite->store(true, std::memory_order_relaxed);
    };
    const auto scanning = [&] {
      return P.nonfinite && !P.nonfinite->load(std::memory_order_relaxed);
    };
    if (P.separable) {
      for (int64_t t = 0; t < nin; t += kMaxRows) {
        const int R = static_cast<int>(std::min<int64_t>(kMaxRows, nin - t));
        for (int s = 0; s < P.nseg; ++s) {
          const Segment& g = P.seg[s];
          T* oseg[kMaxRows];
          for (int q = 0; q < R; ++q) oseg[q] = S.tmp[t + q] + g.c0;
          P.kern_h(S.ptrs + s * stride + t, oseg, R, g.c1 - g.c0, P.v, 1, P.kw);
        }
        // The along-row results, which the pass down the columns multiplies by u: a zero u[a]
        // times one that overflowed to inf from finite input is a NaN that SciPy's sums, which
        // skip that row, do not make. A non-finite input value shows here too.
        if (scanning()) scan(S.tmp + t, R, P.Wo);
      }
    }
    for (int64_t o = 0; o < nout; o += kMaxRows) {
      const int R = static_cast<int>(std::min<int64_t>(kMaxRows, nout - o));
      T* orow[kMaxRows];
      for (int q = 0; q < R; ++q)
        orow[q] = P.out_direct ? alias.row(q, reinterpret_cast<T*>(out + (b0 + o + q) * P.ors))
                               : S.obuf + q * P.Wo;
      if (P.separable) P.kern_v(S.tmp + o, orow, R, P.Wo, P.u, kh, 1);
      for (int s = 0; !P.separable && s < P.nseg; ++s) {
        const Segment& g = P.seg[s];
        T* oseg[kMaxRows];
        for (int q = 0; q < R; ++q) oseg[q] = orow[q] + g.c0;
        (g.direct ? interior : P.kern)(S.ptrs + s * stride + o, oseg, R, g.c1 - g.c0, P.taps, kh,
                                       P.kw);
      }
      if (!P.separable && scanning()) {
        const int64_t t0 = o == 0 ? 0 : o + kh - 1, t1 = o + R + kh - 1;  // rows new to this group
        if (P.seg_direct >= 0) {
          // Each input row whole (the fill was checked once by the caller), several rows a
          // call: the per-call reduction, not the data, was most of a scan's cost.
          const Segment& g = P.seg[P.seg_direct];
          const T* whole[kScanRows];
          int64_t count = 0;
          for (int64_t t = t0; t < t1; ++t) {
            const T* p = S.ptrs[P.seg_direct * stride + t];
            if (p == S.fill_row) continue;
            whole[count++] = p - (g.c0 - P.left);
            if (count == kScanRows) {
              scan(whole, count, P.W);
              count = 0;
            }
          }
          if (count > 0) scan(whole, count, P.W);
        } else {
          for (int s = 0; s < P.nseg; ++s)
            scan(S.ptrs + s * stride + t0, t1 - t0, P.seg[s].c1 - P.seg[s].c0 + P.kw - 1);
        }
      }
      if (alias.on()) alias.flush(out + (b0 + o) * P.ors, P.ors, R);
      if (!P.out_direct) {
        for (int q = 0; q < R; ++q) {
          char* dst = out + (b0 + o + q) * P.ors;
          for (int64_t j = 0; j < P.Wo; ++j) std::memcpy(dst + j * P.ocs, orow[q] + j, sizeof(T));
        }
      }
    }
  }
}

template <class T>
void run_plan(Plan<T>& P, int64_t planes) {
  const int64_t groups = (P.Ho + kMaxRows - 1) / kMaxRows;
  const int64_t items = planes * groups;
  // Cost model (ns per output row group), measured single-threaded on the Zen 5 AVX2 VM: a
  // per-pixel part for loads, stores and padding plus one FMA per tap (3x3 float32 ~0.35
  // ns/px, 7x7 ~1.6 ns/px); f64 has half the lanes.
  const double taps = static_cast<double>(P.kh) * static_cast<double>(P.kw);
  const double fmas = P.separable ? P.kh + P.kw + 2.0 : taps;
  const double per_px = 0.08 + fmas * (sizeof(T) == 8 ? 0.06 : 0.03);
  const double per_item = kMaxRows * (static_cast<double>(P.Wo) * per_px + 20.0);
  const int64_t grain = grain_for(items, per_item);
  // Sub-band: enough rows that kh - 1 halo rows are a small share, few enough that padded rows
  // stay in L2.
  const int64_t chunk_rows = std::min<int64_t>(grain * kMaxRows, P.Ho);
  int64_t band = kMaxRows * 4;
  const int64_t scratch_width = P.pad_width + (P.separable ? P.Wo : 0);
  if (scratch_width > 0) {
    const int64_t fit = (int64_t{192} << 10) / static_cast<int64_t>(scratch_width * sizeof(T));
    band = std::max<int64_t>(band, std::max<int64_t>(fit - (P.kh - 1), 4 * (P.kh - 1)));
  } else {
    band = std::max<int64_t>(band, chunk_rows);
  }
  band = std::min<int64_t>(band, std::max<int64_t>(chunk_rows, 1));
  band = (band + kMaxRows - 1) / kMaxRows * kMaxRows;
  P.band = band;
  const size_t bytes = (scratch_bytes(P) + 63) & ~size_t{63};

  // Scratch is taken before any output is written (a MemoryError leaves `out` untouched): one
  // slot per chunk that can run at once, claimed by whichever thread runs the chunk.
  const int64_t chunks = (items + grain - 1) / grain;
  const int slots = static_cast<int>(std::min<int64_t>({chunks, available_threads(), 64}));
  alignas(64) char local[16384];
  Buffer<char> heap;
  char* mem = local;
  const size_t total =
      static_cast<size_t>(checked_mul(static_cast<int64_t>(bytes), slots, "scratch bytes"));
  if (total > sizeof(local)) {
    heap = Buffer<char>(total);
    mem = heap.get();
  }
  std::atomic<bool> busy[64];
  for (int i = 0; i < slots; ++i) busy[i].store(false, std::memory_order_relaxed);

  auto work = [&](int64_t b, int64_t e) {
    int slot = 0;
    for (;; slot = (slot + 1) % slots) {
      bool expected = false;
      if (busy[slot].compare_exchange_weak(expected, true, std::memory_order_acquire)) break;
    }
    const Scratch<T> S = carve(P, mem + static_cast<size_t>(slot) * bytes);
    // Items are (plane, row group) in plane-major order; consecutive items of one plane form
    // one run of rows.
    while (b < e) {
      const int64_t pl = b / groups, g0 = b % groups;
      const int64_t g1 = std::min(groups, g0 + (e - b));
      run_rows(P, S, pl, g0 * kMaxRows, std::min(P.Ho, g1 * kMaxRows));
      b += g1 - g0;
    }
    if (P.stream) elementwise::stream_fence();  // before the chunk is reported done
    busy[slot].store(false, std::memory_order_release);
  };
  parallel_for(items, grain, work);
}

// True when taps (kh x kw) equal u v^T to within rounding of T (4 ulps of the largest tap,
// below the rounding the direct sum makes anyway); fills u (kh) and v (kw).
template <class T>
bool rank_one(const T* taps, int kh, int kw, T* u, T* v) {
  int p = 0, q = 0;
  double big = 0;
  for (int a = 0; a < kh; ++a)
    for (int b = 0; b < kw; ++b)
      if (std::fabs(double(taps[a * kw + b])) > big) {
        big = std::fabs(double(taps[a * kw + b]));
        p = a;
        q = b;
      }
  if (!(big > 0) || !std::isfinite(big)) return false;
  const double pivot = taps[p * kw + q];
  for (int a = 0; a < kh; ++a) u[a] = taps[a * kw + q];
  for (int b = 0; b < kw; ++b) v[b] = static_cast<T>(double(taps[p * kw + b]) / pivot);
  const double eps = sizeof(T) == 4 ? 0x1p-24 : 0x1p-53;
  for (int a = 0; a < kh; ++a)
    for (int b = 0; b < kw; ++b)
      if (!(std::fabs(double(u[a]) * double(v[b]) - double(taps[a * kw + b])) <= 4 * eps * big))
        return false;
  return true;
}

// Narrower interiors are cheaper padded whole (one kernel call per row group, not three; one
// memcpy per row instead of two short gathers): measured crossover ~100-200 columns.
constexpr int64_t kDirectMinColumns = 128;

// The 4 KiB alias. A row group stores its output rows o..o+3 while the next column block loads
// input rows o - top .. o + 3 - top + kh - 1 a few hundred bytes further on. A load that
// matches one of those stores in its low 12 address bits waits for it: with D = out - in
// (mod 4096) and rows k apart, that is D + k * rs (mod 4096) within about 448 bytes above 0.
// Fit on the 2-core Zen 5, 3x3 float32, 1 thread, input at page offset 16 and `out=` at every
// D in steps of 256 (docs/threads.md "cliff20"): the offset clearest of [0, 448] ran within 4%
// of the best D at 768^2-1504^2, the worst D 1.1-1.5x slower. The slow distances themselves
// lie within about [64, 288] (`out=` at every D in steps of 64, 350^2-1500^2, docs/threads.md
// "outalias"). A kernel that visits its blocks right to left (`_reverse`) loads behind its
// stores: its alias is the mirror image (-d and -rs for d and rs below) when d is measured from
// the middle of a block's loads to its stores (ops::interior_runs_reverse), as D is for the
// centred 3x3 of those fits; an origin shift moves the loads by a column (docs/threads.md
// "aliaspick").
constexpr int64_t kAliasWindow = 448;
// Within it, the distances measured slow with a caller's `out=` (docs/threads.md "outalias").
constexpr int64_t kAliasSlowFrom = 64, kAliasSlowTo = 288;

// How far (bytes) an output lying d bytes past its input (mod 4096), rows rs bytes apart in
// both, keeps a kernel of kh rows from the alias: from every distance d + k * rs in
// [0, kAliasWindow] (mod 4096); 0 inside one.
int64_t alias_clearance(int64_t d, int64_t rs, int kh) {
  // Rows: 4 stored, 4 + kh - 1 loaded from o - top, so the distances that can collide are
  // -(kh + 2 - top) .. top + 3: within +-(kh + 1) for a centred kernel (top = kh / 2). An
  // origin that moves top to 0 or kh - 1 reaches one row further on one side, which this does
  // not check (only speed is at stake; +-(kh + 2) leaves no free offset at 4000 float32 wide).
  const int64_t reach = int64_t{kh} + 1;
  rs %= 4096;
  int64_t dist = 4096;
  for (int64_t k = -reach; k <= reach && dist > 0; ++k) {
    const int64_t x = (((d + k * rs) % 4096) + 4096) % 4096;
    dist = x <= kAliasWindow ? 0 : std::min({dist, x - kAliasWindow, 4096 - x});
  }
  return dist;
}

// How many row pairs of a group (output row o + q, q < kMaxRows, against input row o - top + r,
// r < kMaxRows + kh - 1: k = q - r + top rows apart) lie at a distance d + k * rs in [lo, hi]
// (mod 4096): the more, the slower (at 1000^2 float32, 11-12 pairs 1.3x the best distance, 1-3
// pairs 1.15-1.2x).
int alias_hits(int64_t d, int64_t rs, int kh, int64_t top, int64_t lo, int64_t hi) {
  int hits = 0;
  for (int64_t q = 0; q < kMaxRows; ++q)
    for (int64_t r = 0; r < kMaxRows + kh - 1; ++r) {
      const int64_t x = (((d + (q - r + top) * (rs % 4096)) % 4096) + 4096) % 4096;
      hits += x >= lo && x <= hi;
    }
  return hits;
}

bool aligned_to(const void* p, size_t n) { return reinterpret_cast<uintptr_t>(p) % n == 0; }

template <class T>
void correlate_impl(const View& in, const View& k, const View& out, int64_t top, int64_t left,
                    Border border, double fill, bool scipy_sums, bool* nonfinite) {
  const int kh = static_cast<int>(k.shape[0]), kw = static_cast<int>(k.shape[1]);
  const int64_t ntaps = int64_t{kh} * kw;
  // Taps, contiguous in the compute type (any kernel dtype, strides or flip).
  alignas(64) T local_taps[1024];
  Buffer<T> heap_taps;
  T* taps = local_taps;
  if (ntaps > 1024) {
    heap_taps = Buffer<T>(static_cast<size_t>(ntaps));
    taps = heap_taps.get();
  }
  for (int a = 0; a < kh; ++a)
    copy_span(taps + int64_t{a} * kw, static_cast<const char*>(k.data) + a * k.strides[0],
              k.strides[1], kw, k.dtype);

  const int nd = in.ndim;
  Plan<T> P;
  P.separable = false;
  alignas(64) T uv_local[2 * 512];
  Buffer<T> uv_heap;
  // Two 1-D passes cost kh + kw (+ a store and a load) FMAs per pixel against kh * kw.
  if (!scipy_sums && kh > 1 && kw > 1 && ntaps > int64_t{kh} + kw + 3) {
    T* uv = uv_local;
    if (kh + kw > 1024) {
      uv_heap = Buffer<T>(static_cast<size_t>(kh + kw));
      uv = uv_heap.get();
    }
    if (rank_one(taps, kh, kw, uv, uv + kh)) {
      P.separable = true;
      P.u = uv;
      P.v = uv + kh;
      P.kern_h = corr2d::rows_kernel<T>(kernels<corr2d::Table>(), 1, kw);
      P.kern_v = corr2d::rows_kernel<T>(kernels<corr2d::Table>(), kh, 1);
    }
  }
  P.in = static_cast<const char*>(in.data);
  P.in_t = in.dtype;
  P.H = in.shape[nd - 2];
  P.W = in.shape[nd - 1];
  P.rs = in.strides[nd - 2];
  P.cs = in.strides[nd - 1];
  P.out = static_cast<char*>(out.data);
  P.Ho = out.shape[nd - 2];
  P.Wo = out.shape[nd - 1];
  P.ors = out.strides[nd - 2];
  P.ocs = out.strides[nd - 1];
  P.out_direct = P.ocs == static_cast<int64_t>(sizeof(T)) && aligned_to(out.data, sizeof(T)) &&
                 P.ors % static_cast<int64_t>(sizeof(T)) == 0;
  P.vin = &in;
  P.vout = &out;
  P.taps = taps;
  P.kh = kh;
  P.kw = kw;
  P.top = top;
  P.left = left;
  P.border = border;
  P.fill = static_cast<T>(fill);
  // SciPy's sums: its own order, one kernel for every shape, plain stores, left to right.
  const corr2d::Table& table = kernels<corr2d::Table>();
  P.kern =
      scipy_sums ? of<T>(nullptr, table.f64_corr2d_scipy) : corr2d::rows_kernel<T>(table, kh, kw);
  // Outputs past the cache go out with non-temporal stores where the kernel is bound by memory
  // (3x3): a plain store first reads the line, 12 bytes of traffic a float32 pixel instead of 8
  // (4000^2 float32, 1-thread CPU 0.61 -> 0.42 ns/px; docs/corr2d.md, session of 2026-12-05).
  // From the streaming threshold, or earlier where input and output (about as many bytes)
  // fill half the L3 the core shares: there plain-stored outputs push the input out between
  // calls. Zen 5 (a 32 MiB L3 per CCD): from 8 MiB, 2000^2 float32 1 thread 0.91-1.32 ms ->
  // 0.68-0.98 (1600^2-1920^2 alike; 1280^2-1408^2 plain stores still 5-10% faster); an Intel
  // host with a big shared L3 keeps 16 MiB (docs/corr2d.md "corr5").
  const size_t l3 = l3_cache_bytes();
  const size_t stream_from =
      l3 ? std::min(elementwise::kStreamOutputBytes, l3 / 4) : elementwise::kStreamOutputBytes;
  const corr2d::RowsFn<T> streaming =
      scipy_sums ? nullptr : corr2d::stream_kernel<T>(table, kh, kw);
  P.stream = streaming && !P.separable && P.out_direct &&
             static_cast<size_t>(views::plane_count(out) * P.Ho * P.Wo) * sizeof(T) >= stream_from;
  P.kern_direct = P.stream ? streaming : P.kern;

  // Interior columns [jl, jr): their whole kw-wide window lies inside the row.
  int64_t jl = std::clamp<int64_t>(left, 0, P.Wo);
  const int64_t jr = std::clamp<int64_t>(P.W - kw + 1 + left, jl, P.Wo);
  // Start the in-place interior where the output rows are aligned to a line (64 bytes), or to
  // 32 where the rows keep only that, when every plane and row keeps it: a misaligned store
  // splits a cache line every other vector (~10% at 3x3), and the streaming kernel streams
  // aligned rows with plain vector stores (3x3 4000^2 float32, 1-thread CPU: 0.41-0.43 ns/px
  // from a line-aligned start, 0.56-0.60 from one 32 bytes off streamed as 256-bit halves; rows
  // left off a line go through its shifted stores on AVX-512, docs/corr2d.md "corr3s"). The
  // few extra columns go through the padded left edge.
  int64_t align = 0;
  for (const int64_t a : {int64_t{64}, int64_t{32}}) {
    bool rows_aligned = P.out_direct && P.ors % a == 0;
    for (int i = 0; i < nd - 2; ++i) rows_aligned = rows_aligned && out.strides[i] % a == 0;
    if (rows_aligned) {
      align = a;
      break;
    }
  }
  if (align) {
    const uintptr_t a = static_cast<uintptr_t>(align);
    const uintptr_t at =
        reinterpret_cast<uintptr_t>(out.data) + static_cast<uintptr_t>(jl) * sizeof(T);
    jl = std::min(jr, jl + static_cast<int64_t>(((a - at % a) % a) / sizeof(T)));
  }
  const bool direct = in.dtype == dtype_of<T>() && P.cs == static_cast<int64_t>(sizeof(T)) &&
                      P.rs % static_cast<int64_t>(sizeof(T)) == 0 &&
                      aligned_to(in.data, sizeof(T)) && jr - jl >= kDirectMinColumns;
  P.nseg = 0;
  P.pad_width = 0;
  P.fill_row = 0;
  if (direct) {
    if (jl > 0) P.seg[P.nseg++] = {0, jl, false};
    P.seg[P.nseg++] = {jl, jr, true};
    if (jr < P.Wo) P.seg[P.nseg++] = {jr, P.Wo, false};
    if (border == Border::fill) P.fill_row = jr - jl + kw - 1;
  } else {
    P.seg[P.nseg++] = {0, P.Wo, false};
  }
  for (int s = 0; s < P.nseg; ++s)
    if (!P.seg[s].direct) P.pad_width += P.seg[s].c1 - P.seg[s].c0 + kw - 1;
  // A caller's output (a new one is placed clear of the alias: corr2d_output_page_offset) whose
  // row pairs meet in the alias of the in-place interior runs it right to left where fewer of
  // them meet in the mirror image, plane by plane (run_rows, ops::interior_runs_reverse). `out=`
  // at every 64-byte distance from the input, 1 thread CPU time, float32 3x3 (docs/threads.md
  // "outalias"): the slow distances 10-17% faster at 350^2-1200^2, none slower beyond the noise.
  P.kern_reverse = nullptr;
  if (direct && !scipy_sums && !P.stream && P.out_direct && P.ors == P.rs)
    P.kern_reverse = corr2d::reverse_kernel<T>(table, kh, kw);
  int64_t local_map[256];
  Buffer<int64_t> heap_map;
  int64_t* colmap = local_map;
  if (P.pad_width > 256) {
    heap_map = Buffer<int64_t>(static_cast<size_t>(P.pad_width));
    colmap = heap_map.get();
  }
  P.colmap = colmap;
  for (int s = 0; s < P.nseg; ++s) {
    if (P.seg[s].direct) continue;
    const int64_t width = P.seg[s].c1 - P.seg[s].c0 + kw - 1;
    for (int64_t d = 0; d < width; ++d) *colmap++ = map_index(P.seg[s].c0 - left + d, P.W, border);
  }
  // An infinite or NaN fill counts as read wherever 'constant' pads (conservative: SciPy's
  // sums, made then, are exact either way).
  std::atomic<bool> seen{nonfinite && border == Border::fill && !std::isfinite(fill)};
  P.nonfinite = nonfinite ? &seen : nullptr;
  P.seg_direct = -1;
  for (int s = 0; s < P.nseg; ++s)
    if (P.seg[s].direct) P.seg_direct = s;
  P.finite =
      of<T>(kernels<elementwise::Table>().f32_finite, kernels<elementwise::Table>().f64_finite);
  run_plan(P, views::plane_count(in));
  if (nonfinite) *nonfinite = seen.load();
}

}  // namespace

namespace ops {

bool interior_runs_reverse(uintptr_t load, uintptr_t store, int64_t rs, int kh, int64_t top) {
  const int64_t d = static_cast<int64_t>((store - load) % 4096);
  const int fwd = alias_hits(d, rs, kh, top, kAliasSlowFrom, kAliasSlowTo);
  const int rev = alias_hits(-d, -rs, kh, top, kAliasSlowFrom, kAliasSlowTo);
  return fwd > 0 && 3 * rev < fwd;
}

int64_t corr2d_reverse_rows() { return g_reverse_rows.load(std::memory_order_relaxed); }

void check_kernel(const View& k, const char* name) {
  if (k.ndim != 2)
    throw ValueError(std::string(name) + ": must be 2-D, got " + std::to_string(k.ndim) +
                     "-D shape " + shape_str(k));
  if (k.shape[0] == 0 || k.shape[1] == 0)
    throw ValueError(std::string(name) + ": must not be empty, got shape " + shape_str(k));
  if (k.shape[0] > (1 << 30) || k.shape[1] > (1 << 30))
    throw MemoryError(std::string(name) + ": too large, shape " + shape_str(k));
  checked_mul(k.shape[0], k.shape[1], "kernel size");
}

void correlate(const View& in, const View& k, const View& out, int64_t top, int64_t left,
               Border border, double fill, bool scipy_sums, bool* nonfinite) {
  if (nonfinite) *nonfinite = false;
  if (out.empty()) return;
  if (scipy_sums && out.dtype != DType::f64)
    throw TypeError("correlate: SciPy's sums are made in float64, got out dtype " +
                    std::string(dtype_name(out.dtype)));
  if (out.dtype == DType::f32)
    correlate_impl<float>(in, k, out, top, left, border, fill, false, nonfinite);
  else
    correlate_impl<double>(in, k, out, top, left, border, fill, scipy_sums, nonfinite);
}

View flipped(const View& v) {
  View f = v;
  char* p = static_cast<char*>(v.data);
  for (int i = v.ndim - 2; i < v.ndim; ++i) {
    p += (v.shape[i] - 1) * v.strides[i];
    f.strides[i] = -v.strides[i];
  }
  f.data = p;
  return f;
}

}  // namespace ops

DType corr2d_result_dtype(DType input, DType kernel) {
  if (itemsize(input) == 0 || itemsize(kernel) == 0) throw TypeError("corr2d: unsupported dtype");
  return input == DType::f32 && kernel == DType::f32 ? DType::f32 : DType::f64;
}

DType signal_result_dtype(DType in1, DType in2) {
  const DType t = corr2d_result_dtype(in1, in2);
  // An image read from a file is uint8 (or uint16); with float32 weights SciPy returns float32,
  // and a float64 result doubled the output's bytes (probe17).
  auto small_int = [](DType d) {
    return d == DType::u8 || d == DType::i8 || d == DType::u16 || d == DType::i16;
  };
  if ((in1 == DType::f32 && small_int(in2)) || (in2 == DType::f32 && small_int(in1)))
    return DType::f32;
  return t;
}

int64_t corr2d_output_page_offset(const View& input, int kh, DType out_t, int64_t out_row_bytes) {
  const int nd = input.ndim;
  const int64_t item = static_cast<int64_t>(itemsize(out_t));
  // Only the in-place interior reads the input as it lies, and only rows the same distance
  // apart in input and output keep one alias distance for the whole call.
  if (nd < 2 || input.dtype != out_t || input.strides[nd - 1] != item ||
      input.strides[nd - 2] != out_row_bytes || out_row_bytes < kDirectMinColumns * item)
    return -1;
  const int64_t in_off = static_cast<int64_t>(reinterpret_cast<uintptr_t>(input.data) % 4096);
  int64_t best = -1, best_dist = 0;
  for (int64_t at = 0; at < 4096; at += 64) {
    const int64_t dist = alias_clearance(at - in_off, out_row_bytes, kh);
    if (dist > best_dist) {
      best = at;
      best_dist = dist;
    }
  }
  return best;
}

void correlate2d_general(const View& input, const View& kernel, const View& out, int64_t top,
                         int64_t left, Border border, double fill) {
  if (input.ndim < 2)
    throw ValueError("input: must have at least 2 dimensions, got shape " + shape_str(input));
  ops::check_kernel(kernel, "kernel");
  const DType t = corr2d_result_dtype(input.dtype, kernel.dtype);
  if (out.ndim != input.ndim)
    throw ValueError("out: must have " + std::to_string(input.ndim) + " dimensions, got shape " +
                     shape_str(out));
  views::check_out(
      out, t, views::with_plane(input, out.shape[out.ndim - 2], out.shape[out.ndim - 1]), "out");
  ops::correlate(input, kernel, out, top, left, border, fill);
}

}  // namespace npfast
