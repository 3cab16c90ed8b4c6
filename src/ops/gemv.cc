// Matrix x vector: the gemv kernels' operator (contract in src/ops/gemv.h).
//
// Serial meaning, rows of a contiguous (dot), in pieces of kDotPiece along k:
//     for b, i: y[b, i] = gemv_dot(piece 0 of row a[b, i], x[b]);
//               for each later piece q: y[b, i] += gemv_dot(piece q of row a[b, i], x[b])
// and with its columns contiguous (axpy), in G groups of consecutive K blocks (G from k alone:
// axpy_groups), each group summed block by block:
//     for b, column j: for group q: g = 0; for ps in q's rows by kAxpySumRows:
//         t = 0; for pc in [ps, ps + kAxpySumRows) by kAxpyRows:
//           t += x[b, pc:pc+kAxpyRows] a[b, pc:pc+kAxpyRows, j]
//         g = ps is q's first ? t : g + t
//       y[b, j] = q == 0 ? g : y[b, j] + g
// The threads take chunks of the rows (dot), or of the columns (axpy; or, for a narrow axpy
// product with several groups, the groups, each into its own buffer, added in group order at the
// end: the same sums). Each output element is computed by one kernel call sequence whose
// arithmetic does not depend on the chunk, the batch or the other columns, so the bits do not
// depend on the thread count.
#include "src/ops/gemv.h"

#include <algorithm>

#include "npfast/dispatch.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/gemm/gemm.h"

namespace npfast {
namespace ops {
namespace {

// What one core streams the matrix at, in bytes per ns, for the thread cost model: a product
// is memory-bound (one multiply-add per element read). One thread on the Zen 5 VM: 1000^2 f32
// (4 MB, from L3) in 40 us, 300^2 (L2) in 3.4 us.
constexpr double kBytesPerNs = 100.0;

// Chunks of `total` items of item_ns each: grain_for's rule from two kMinChunkNs (1000^2
// f32); below it, two threads from kPairNs (two chunks, one a thread, claimed as they arrive:
// a call after call keeps each half of the matrix in the L2 of the thread that reads it).
// 2 threads, Zen 5 VM, quiet, the other library's threads asleep: 512^2 f32 10 -> 6 us, 700^2
// 20 -> 9.4-9.8 us (NumPy 11-12); four chunks a thread 11-12 us at 700^2.
int64_t gemv_grain(int64_t total, double item_ns) {
  const int64_t grain = grain_for(total, item_ns);
  const double ns = static_cast<double>(total) * item_ns;
  // (From two kMinChunkNs grain_for has asked handoff_pays already: asked twice, a call would
  // count twice towards waking the helpers.)
  if (grain < total || ns >= 2 * kMinChunkNs) return grain;
  return threads_for(ns, available_threads(), kPairNs) > 1 ? ceil_div(total, int64_t{2}) : total;
}

// Rows of the matrix per axpy call: a call walks its rows side by side across the chunk's
// columns (the chunk's y, in L1, is reloaded once per call), so the rows are kAxpyRows
// sequential streams that the prefetchers follow. 128 rows (each its own page once a row spans
// 4 KB) ran 512^2 f64 at 27-29 us, 8-16 rows at 24-25 us (one thread, load 5; docs/gemm.md gemv).
constexpr int64_t kAxpyRows = 16;
// Rows summed from zero before their sum joins y: one running sum over all of k lost
// accuracy in proportion to k (probe19a: float32 x @ A with k = 10^6 was 1.7e-4 off, NumPy's
// OpenBLAS 4e-6); in two levels the error grows with kAxpySumRows + k / kAxpySumRows. The
// extra pass adds one y read and write per 256 rows of the matrix.
constexpr int64_t kAxpySumRows = 256;
static_assert(kAxpySumRows % kAxpyRows == 0);
// The dot kernel's lanes each keep one running sum over its k, so long rows are dotted in
// pieces of this many elements, each piece's sum added to the row's (the same two levels as
// kAxpySumRows; probe19a: float32 at k = 10^6 was 1.4e-4 off). Rows go four at a time through
// their pieces, the kernel's row group, so the matrix is still read row group by row group.
constexpr int64_t kDotPiece = 4096;
constexpr int64_t kDotRows = 4;
// Columns of an axpy chunk are a multiple of this (the AVX-512 kernel's 8-vector f32 block)
// where a product has at least four such blocks, else of a 64-byte line of y (matvec).
constexpr int64_t kAxpyColumns = 128;
// K blocks are summed in G groups (above), G = half the blocks, at most kAxpyMaxGroups, from k
// alone (it sets the order of the sums): groups let the threads split a narrow product's rows
// instead of its columns. Split by columns, such a product's chunks read pieces of a few lines
// of every row (256 float32 columns: 1 KiB), which one thread reads 1.6x slower than whole rows
// (2000^2 float32 x @ A, 1 thread: 251 us whole, 390-440 us in 256-column pieces). A call whose
// helper could not get a core then ran all the pieces on the caller: 1.4-1.5x its one-thread
// time beside a busy process (probe20e). Threaded by groups, every chunk reads whole rows.
constexpr int64_t kAxpyMaxGroups = 16;
int64_t axpy_groups(int64_t k) {
  const int64_t blocks = ceil_div(k, kAxpySumRows);
  return blocks < 4 ? 1 : std::min(kAxpyMaxGroups, blocks / 2);
}
// Group q's rows [first, end).
int64_t group_row(int64_t q, int64_t groups, int64_t k) {
  return std::min(k, q * ceil_div(k, kAxpySumRows) / groups * kAxpySumRows);
}
// Column chunks narrower than this many bytes of a row hand the threads groups instead, where
// there are at least as many groups as threads (a scheduling choice: the same sums).
constexpr int64_t kAxpyPieceBytes = 4096;

}  // namespace

template <class T>
bool matvec(const MatVec<T>& mv) {
  const gemm_kernels::Table& t = kernels<gemm_kernels::Table>();
  const gemm_kernels::Gemv<T>& g = of<T>(t.f32_gemv, t.f64_gemv);
  const int64_t rows = mv.rows, k = mv.k, total = mv.batch * rows;
  const bool dot = mv.ps == 1 || k == 1;
  // One row with strided elements goes by gather, as the dot path's bits: taken by axpy, x @ M
  // with M one column read differently for a strided x than a contiguous one (review24).
  const bool axpy = !dot && mv.rs == 1 && rows > 1;
  // A matrix in neither layout (its elements strided along k and its rows not side by side:
  // a[:, ::2], a broadcast row): the dot path on each piece of kDotRows rows gathered into a
  // buffer, the same kernel calls on the same values as for the matrix with contiguous rows
  // (so their bits), where a whole contiguous copy (the GEMM path's) doubled the memory
  // (probe21b: 512 MB more for a 2 x 2^26 float32 a[:, ::2] @ x, a MemoryError where NumPy
  // reads in place). Contiguous columns take axpy whatever y's stride (its sums go through a
  // buffer where y is strided): gathered, their rows were strided reads, 10-20x the GEMM path
  // (review21b), and the GEMM path sums in another order (probe24d: out=y[::-1] changed bits).
  const bool gather = !dot && !axpy;
  if (!g.dot) return false;
  // Time per row (dot) or column (axpy) of the matrix, with a small fixed cost for the call.
  const double item_ns = static_cast<double>(k) * sizeof(T) / kBytesPerNs + 2.0;
  if (!axpy) {  // dot products, of rows read in place (dot) or gathered
    const T* x = mv.x;
    int64_t sx = mv.sx;
    Buffer<T> xbuf;
    if (mv.incx != 1 && k > 1) {
      // A strided x is gathered once (each batch item's, where they differ): the kernels then
      // read it as a contiguous one, so the bits do not depend on x's stride (probe24d).
      const int64_t nx = sx != 0 ? mv.batch : 1;
      xbuf = Buffer<T>(static_cast<size_t>(nx * k));
      for (int64_t b = 0; b < nx; ++b)
        for (int64_t p = 0; p < k; ++p) xbuf.get()[b * k + p] = x[b * sx + p * mv.incx];
      x = xbuf.get();
      sx = nx > 1 ? k : 0;
    }
    const int64_t piece = std::min(k, kDotPiece);
    parallel_for(total, gemv_grain(total, item_ns), [&](int64_t s, int64_t e) {
      Buffer<T> rows_buf;  // (an empty Buffer takes nothing from the pool)
      if (gather) rows_buf = Buffer<T>(static_cast<size_t>(kDotRows * piece));
      // Piece p of rows ar (nr of them): where the kernel reads it, and its row stride.
      const auto rows_at = [&](const T* ar, int64_t nr, int64_t p, int64_t len) {
        if (!gather) return std::make_pair(ar + p, mv.rs);
        for (int64_t q = 0; q < nr; ++q)
          for (int64_t t = 0; t < len; ++t)
            rows_buf.get()[q * piece + t] = ar[q * mv.rs + (p + t) * mv.ps];
        return std::make_pair(static_cast<const T*>(rows_buf.get()), piece);
      };
      while (s < e) {
        const int64_t b = s / rows, i = s % rows, cnt = std::min(e - s, rows - i);
        const T* a = mv.a + b * mv.sa + i * mv.rs;
        const T* xb = x + b * sx;
        T* y = mv.y + b * mv.sy + i * mv.incy;
        if (k <= kDotPiece && !gather) {
          g.dot(cnt, k, a, mv.rs, xb, y, mv.incy);
        } else {
          for (int64_t r = 0; r < cnt; r += kDotRows) {
            const int64_t nr = std::min(kDotRows, cnt - r);
            const T* ar = a + r * mv.rs;
            T* yr = y + r * mv.incy;
            const auto [a0, lda0] = rows_at(ar, nr, 0, piece);
            g.dot(nr, piece, a0, lda0, xb, yr, mv.incy);
            for (int64_t p = kDotPiece; p < k; p += kDotPiece) {
              T part[kDotRows];
              const int64_t len = std::min(kDotPiece, k - p);
              const auto [ap, ldap] = rows_at(ar, nr, p, len);
              g.dot(nr, len, ap, ldap, xb + p, part, 1);
              for (int64_t q = 0; q < nr; ++q) yr[q * mv.incy] += part[q];
            }
          }
        }
        s += cnt;
      }
    });
    return true;
  }
  // Columns [j, j + cnt) of product b over the matrix rows [r0, r1), in K blocks: the first
  // into `y`, each later one into `part` and then added to `y`.
  const auto sweep = [&](int64_t b, int64_t j, int64_t cnt, int64_t r0, int64_t r1, T* y, T* part) {
    const T* a = mv.a + b * mv.sa + j * mv.rs;
    const T* x = mv.x + b * mv.sx;
    for (int64_t ps = r0; ps < r1; ps += kAxpySumRows) {
      T* t = ps == r0 ? y : part;
      const int64_t pe = std::min(r1, ps + kAxpySumRows);
      for (int64_t pc = ps; pc < pe; pc += kAxpyRows)
        g.axpy(std::min(kAxpyRows, pe - pc), cnt, a + pc * mv.ps, mv.ps, x + pc * mv.incx, mv.incx,
               t, pc > ps);
      if (ps > r0)
        for (int64_t c = 0; c < cnt; ++c) y[c] += t[c];
    }
  };
  const int64_t groups = axpy_groups(k);
  int64_t grain = gemv_grain(total, item_ns);
  // Whole 8-vector blocks where there are several per thread, else whole lines of y: a narrow
  // product (x @ A with 16 columns and a long k) then still splits (each column's sums are the
  // same wherever its chunk starts).
  const int64_t unit = total >= 4 * kAxpyColumns ? kAxpyColumns : 64 / int64_t{sizeof(T)};
  if (grain < total) grain = std::min(total, ceil_div(grain, unit) * unit);
  if (grain < total && grain * int64_t{sizeof(T)} < kAxpyPieceBytes &&
      groups >= available_threads()) {
    // Threads by groups: each group's sums into its own row of `sums` (the second half: its
    // later blocks), then the rows added in group order.
    Buffer<T> sums(static_cast<size_t>(2 * groups * total));
    T* const acc = sums.get();
    const double group_ns = static_cast<double>(total) * item_ns / static_cast<double>(groups);
    parallel_for(groups, gemv_grain(groups, group_ns), [&](int64_t q0, int64_t q1) {
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t r0 = group_row(q, groups, k), r1 = group_row(q + 1, groups, k);
        for (int64_t s = 0; s < total;) {
          const int64_t cnt = std::min(total - s, rows - s % rows);
          sweep(s / rows, s % rows, cnt, r0, r1, acc + q * total + s,
                acc + (groups + q) * total + s);
          s += cnt;
        }
      }
    });
    for (int64_t q = 1; q < groups; ++q)
      for (int64_t s = 0; s < total; ++s) acc[s] += acc[q * total + s];
    for (int64_t b = 0; b < mv.batch; ++b) {
      T* y = mv.y + b * mv.sy;
      const T* src = acc + b * rows;
      for (int64_t j = 0; j < rows; ++j) y[j * mv.incy] = src[j];
    }
    return true;
  }
  // Threads by columns: per output, the later blocks' sums of a group and (past the first)
  // the group's sum (taken here: a block a helper thread took would stay in its thread cache).
  // A strided y (several rows) is summed into `ybuf`, then stored.
  Buffer<T> part, gsum, ybuf;
  if (k > kAxpySumRows) part = Buffer<T>(static_cast<size_t>(total));
  if (groups > 1) gsum = Buffer<T>(static_cast<size_t>(total));
  if (mv.incy != 1 && rows > 1) ybuf = Buffer<T>(static_cast<size_t>(total));
  parallel_for(total, grain, [&](int64_t s, int64_t e) {
    while (s < e) {
      const int64_t b = s / rows, j = s % rows, cnt = std::min(e - s, rows - j);
      T* y = ybuf.get() ? ybuf.get() + s : mv.y + b * mv.sy + j * mv.incy;  // contiguous over cnt
      T* p = part.get() ? part.get() + s : nullptr;
      for (int64_t q = 0; q < groups; ++q) {
        T* t = q == 0 ? y : gsum.get() + s;
        sweep(b, j, cnt, group_row(q, groups, k), group_row(q + 1, groups, k), t, p);
        if (q > 0)
          for (int64_t c = 0; c < cnt; ++c) y[c] += t[c];
      }
      s += cnt;
    }
  });
  if (ybuf.get())
    for (int64_t b = 0; b < mv.batch; ++b)
      for (int64_t j = 0; j < rows; ++j) mv.y[b * mv.sy + j * mv.incy] = ybuf.get()[b * rows + j];
  return true;
}

template bool matvec<float>(const MatVec<float>&);
template bool matvec<double>(const MatVec<double>&);

}  // namespace ops
}  // namespace npfast
