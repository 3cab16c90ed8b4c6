// The stores of a kernel that makes M output rows a register at a time at shared columns
// j0, j0 + L, ..., non-temporal past the cache. Row r's vector-aligned addresses lie d[r] lanes
// after the frame's (a row pitch not a multiple of the vector: 3000 or 2999 float32 wide); such
// a row stores each register one step later joined with the next (shift_var) at its aligned
// address, its first d[r] outputs and the last register's rest plainly (store_lanes), so every
// row streams whole vectors. A row at the frame's alignment streams each register at once.
// Only where an output is stored changes, never its value. Shared by the filter1d (sep3_rows,
// uniform2d_rows), corr2d (the streamed KxK) and rank (the two-row fold) families. Included by a
// family's generic.h after the ISA header, with NPFAST_TARGET defined, as shift_lanes.h.
#ifndef NPFAST_KERNELS_ROW_STORES_H_
#define NPFAST_KERNELS_ROW_STORES_H_

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "src/kernels/shift_lanes.h"

namespace npfast {
namespace NPFAST_TARGET {

// One register of the ISA this file is compiled for, as a GCC vector (the ISA's __m512 as a
// class template argument loses its may_alias; a GCC vector converts to it and back in place).
#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#else
constexpr int kVecBytes = 32;
#endif
template <class T>
struct Reg {
  typedef T type __attribute__((vector_size(kVecBytes)));
};

// The first output of row p whose address is register-aligned (where its non-temporal stores
// may start), or -1 when none is (p not aligned to T).
template <class T>
inline int64_t first_aligned(const T* p) {
  constexpr int64_t B = kVecBytes;
  const int64_t skew = static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) % B);
  if (skew % static_cast<int64_t>(sizeof(T)) != 0) return -1;
  return (B - skew) % B / static_cast<int64_t>(sizeof(T));
}

// How the M rows' alignments may differ from the frame's (the columns j0, j0 + L, ...).
// kSame: every row at the frame's alignment (the caller checks): each register streams at once.
// kRow0: row 0 at it (the frame is row 0's first aligned output); another row streams at once
// where it is at the frame's alignment too (a branch on it per register), else shifted.
// kAny: every row shifted, branch-free: a row at the frame's alignment takes d = L, shift_var
// then picking the register itself, so that row stores its first register plainly and streams
// the others at once (corr2d's frame is its first block's column, not a row's alignment).
enum RowShift { kSame, kRow0, kAny };

// M rows' stores of registers of T at the columns j0, j0 + L, ... (put, then finish after
// the last). Not Stream, or not `nt`: plain stores. Stream: as Shift says, the shifted rows as
// the header says. The columns before j0 and after the last register put are the caller's.
// Every member is forced inline: through a call GCC held the callers' accumulators on the
// stack (corr2d's run).
template <class T, int M, bool Stream, RowShift Shift>
struct RowStores {
  using R = typename Reg<T>::type;  // put takes it or the ISA's own vector of T
  static constexpr int64_t L = kVecBytes / static_cast<int64_t>(sizeof(T));
  T* const* out;
  bool nt;
  int64_t j0;
  int64_t d[M] = {};  // the lanes from j0 to the row's first aligned output: [0, L), kAny (0, L]
  R idx[M] = {}, held[M] = {};

  // Frame j0; `nt`: stream (every row aligned to T).
  __attribute__((always_inline)) RowStores(T* const* o, bool stream, int64_t j) : out(o) {
    nt = Stream && stream;
    j0 = j;
    if constexpr (Stream && Shift != kSame) {
      if (nt)
        for (int r = 0; r < M; ++r) {
          d[r] = ((first_aligned<T>(out[r]) - j0) % L + L) % L;
          if (Shift == kAny && d[r] == 0) d[r] = L;
          idx[r] = shift_index<T, R>(d[r]);
        }
    }
  }
  // Framed at row 0's first aligned output (at most n), streaming when every row is aligned
  // to T; j0 0 with plain stores otherwise.
  static __attribute__((always_inline)) RowStores from_row0(T* const* o, int64_t n) {
    bool all = Stream;
    if constexpr (Stream)
      for (int r = 0; r < M; ++r) all = all && first_aligned<T>(o[r]) >= 0;
    const int64_t s0 = all ? first_aligned<T>(o[0]) : 0;
    return RowStores(o, all, s0 < n ? s0 : n);
  }

  // Row r's register of outputs at columns [j, j + L); `first`: j is j0.
  template <class X>
  __attribute__((always_inline)) void put(int r, int64_t j, X reg, bool first) {
    static_assert(sizeof(X) == sizeof(R));
    const R x = reinterpret_cast<R>(reg);
    if (!Stream || !nt) {
      store_at(out[r] + j, x);
    } else if (Shift == kSame || (Shift == kRow0 && (r == 0 || d[r] == 0))) {
      stream_at(out[r] + j, x);
    } else {
      if (first)
        store_lanes(out[r] + j, x, 0, d[r]);
      else
        stream_at(out[r] + j - L + d[r], shift_var(held[r], x, idx[r]));
      held[r] = x;
    }
  }
  // After the registers of columns [j0, j): the last one's outputs not yet stored.
  __attribute__((always_inline)) void finish(int64_t j) {
    if (Stream && Shift != kSame && nt && j > j0)
      for (int r = Shift == kRow0 ? 1 : 0; r < M; ++r)
        if (Shift != kRow0 || d[r] != 0) store_lanes(out[r] + j - L, held[r], d[r], L);
  }

 private:
  // A plain store through the ISA's unaligned store: a memcpy here left the callers' shift state
  // on the stack (may alias anything).
  static __attribute__((always_inline)) void store_at(T* p, R x) {
    if constexpr (std::is_floating_point_v<T>) {
      store(p, reinterpret_cast<V<T>>(x));
    } else {
#if defined(__AVX512F__)
      _mm512_storeu_si512(p, reinterpret_cast<__m512i>(x));
#else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), reinterpret_cast<__m256i>(x));
#endif
    }
  }
  // A non-temporal store to a register-aligned address (the ISA's typed one for float and
  // double).
  static __attribute__((always_inline)) void stream_at(T* p, R x) {
    if constexpr (std::is_floating_point_v<T>) {
      stream(p, reinterpret_cast<V<T>>(x));
    } else {
#if defined(__AVX512F__)
      _mm512_stream_si512(reinterpret_cast<__m512i*>(p), reinterpret_cast<__m512i>(x));
#else
      _mm256_stream_si256(reinterpret_cast<__m256i*>(p), reinterpret_cast<__m256i>(x));
#endif
    }
  }
};

}  // namespace NPFAST_TARGET
}  // namespace npfast

#endif  // NPFAST_KERNELS_ROW_STORES_H_
