// The body of `<dtype>_rank_tile` (rank.h): rank filters over 2-D footprints of every kernel
// type (float32, float64, int32, uint16, uint8) through their places in the tile's sorted order.
// Shared by every ISA, like the histogram kernels: a radix sort and table updates, nothing
// across lanes.
//
// Why: the select kernel partitions each window afresh, O(window) an output with a
// mispredicted branch a value (a float32 9 x 9 median took 1.4 us an output, SciPy's own
// speed). A tile's values, sorted once by an LSD radix sort of order-preserving keys of their
// bits, are replaced by their places in that order (16 bits: a tile holds at most
// kRankTileValues values); a window is then a set of distinct places, kept as bits as it
// slides (2 flips per run of the footprint's rows an output), its rank-th smallest found by
// word counts and a bit select, and the sorted values turn it back into a value. (The 16-bit
// histogram over dense ranks, tried first, walked its buckets value by value: 150 ns an
// output at 9 x 9.) Exact: places order as the keys and the keys as the values, except that
// -0.0 orders below +0.0, so an answer between equal zeros may take either sign (as the
// networks', rank.h); windows holding a NaN are recomputed with NI_Select, SciPy's partition
// result.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "src/kernels/rank/rank.h"

namespace npfast {
namespace rank {

template <class T>
using TileKey = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;

// The key of x: unsigned, ordered as the values. Unsigned integers are their own keys, signed
// ones flip the sign bit; floats flip it when clear and every bit when set (so NaNs order
// beyond the infinities and -0.0 just below +0.0).
template <class T>
inline TileKey<T> tile_key(T x) {
  using K = TileKey<T>;
  constexpr K kTop = K{1} << (8 * sizeof(K) - 1);
  if constexpr (std::is_unsigned_v<T>) {
    return static_cast<K>(x);
  } else if constexpr (std::is_integral_v<T>) {
    static_assert(sizeof(T) == sizeof(K), "signed keys flip T's own sign bit");
    return static_cast<K>(x) ^ kTop;
  } else {
    K u;
    std::memcpy(&u, &x, sizeof u);
    return u ^ (static_cast<K>(K{0} - (u >> (8 * sizeof(K) - 1))) | kTop);
  }
}

// tile_key's inverse.
template <class T>
inline T tile_value(TileKey<T> k) {
  using K = TileKey<T>;
  constexpr K kTop = K{1} << (8 * sizeof(K) - 1);
  if constexpr (std::is_unsigned_v<T>) {
    return static_cast<T>(k);
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(k ^ kTop);
  } else {
    const K u = k ^ (static_cast<K>((k >> (8 * sizeof(K) - 1)) - 1) | kTop);
    T x;
    std::memcpy(&x, &u, sizeof x);
    return x;
  }
}

// A sorted item: 4-byte values pack the key above a 16-bit index into one word (one scatter a
// pass); 8-byte values carry the index beside the key.
struct WideItem {
  uint64_t key;
  uint64_t index;
};
template <class T>
using TileItem = std::conditional_t<sizeof(T) == 8, WideItem, uint64_t>;

template <class T>
inline TileItem<T> tile_item(TileKey<T> key, int64_t index) {
  if constexpr (sizeof(T) == 8)
    return WideItem{key, static_cast<uint64_t>(index)};
  else
    return uint64_t{key} << 16 | static_cast<uint64_t>(index);
}
inline uint64_t item_key(uint64_t item) { return item >> 16; }
inline uint64_t item_key(const WideItem& item) { return item.key; }
inline int64_t item_index(uint64_t item) { return static_cast<int64_t>(item & 0xffff); }
inline int64_t item_index(const WideItem& item) { return static_cast<int64_t>(item.index); }

// LSD radix sort of a[0, n) by item_key, Digit bits a pass, with b as the other buffer;
// returns the one that holds the result. Passes whose digit is the same for every item (a
// float32 image in [0, 1) shares its top bits) are skipped: they would not move anything.
template <int Digit, class Item>
Item* radix_sort(Item* a, Item* b, int64_t n, int key_bits, uint32_t* counts) {
  constexpr int64_t kBuckets = int64_t{1} << Digit;
  constexpr uint64_t kMask = kBuckets - 1;
  const int passes = (key_bits + Digit - 1) / Digit;
  std::memset(counts, 0, static_cast<size_t>(passes * kBuckets) * sizeof(uint32_t));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t k = item_key(a[i]);
    for (int p = 0; p < passes; ++p) ++counts[p * kBuckets + ((k >> (p * Digit)) & kMask)];
  }
  for (int p = 0; p < passes; ++p) {
    uint32_t* c = counts + p * kBuckets;
    const int shift = p * Digit;
    if (c[(item_key(a[0]) >> shift) & kMask] == static_cast<uint32_t>(n)) continue;
    uint32_t sum = 0;
    for (int64_t d = 0; d < kBuckets; ++d) sum += std::exchange(c[d], sum);
    for (int64_t i = 0; i < n; ++i) b[c[(item_key(a[i]) >> shift) & kMask]++] = a[i];
    std::swap(a, b);
  }
  return a;
}

// The j-th set bit (from 0) of x, which has more than j: the bytes' bit counts summed into
// running counts by one multiply, the byte holding the answer found by one subtraction across
// all bytes (SWAR), then a table inside that byte. No pdep: microcoded on Zen 1 and 2.
struct ByteSelect {
  uint8_t bit[256][8];
};
inline constexpr ByteSelect kByteSelect = [] {
  ByteSelect t{};
  for (int b = 0; b < 256; ++b)
    for (int j = 0, seen = 0; j < 8; ++j)
      if (b >> j & 1) t.bit[b][seen++] = static_cast<uint8_t>(j);
  return t;
}();

inline int select_bit(uint64_t x, int j) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  uint64_t c = x - ((x >> 1) & 0x5555555555555555ull);
  c = (c & 0x3333333333333333ull) + ((c >> 2) & 0x3333333333333333ull);
  c = (c + (c >> 4)) & 0x0f0f0f0f0f0f0f0full;
  const uint64_t run = c * kOnes;  // byte b: the set bits in bytes 0 .. b (at most 64)
  // Byte b's high bit: run_b >= j + 1 (each byte 128 + run_b - j - 1 >= 64: no borrows).
  const int byte =
      __builtin_ctzll(((run | kHigh) - static_cast<uint64_t>(j + 1) * kOnes) & kHigh) / 8;
  const int before = byte ? static_cast<int>(run >> (8 * byte - 8) & 0xff) : 0;
  return 8 * byte + kByteSelect.bit[x >> (8 * byte) & 0xff][j - before];
}

// One row of outputs over the tile's positions (`pos`, rows `step` apart, each value's place in
// the tile's sorted order: all distinct): the window at column i (the runs of rank.h's
// rank_tile) is a set of positions, kept as bits, and its rank-th smallest is found by walking
// the words' bit counts from the previous answer's word (adjacent windows' answers are near)
// and select_bit inside the word. Each run loses its first cell and gains one past its last per
// output: 2 flips a run, each also keeping the count of positions in the words before the
// answer's. (A byte count per word kept beside the bits cost more than popcounts at the walk:
// 9 x 9 52 -> 45 ns an output, docs/ndimage-speed.md "tile25".) `ends`: per run, the offsets
// in `pos` of the cell before its first and of its last at output 0. `bits` is zero on entry
// and left zero. Nan: the tile's NaNs hold the places below `lo` and from `hi` on; the window
// counts them, and an output whose window holds one gets kNanPlace added (the caller
// recomputes it).
constexpr uint16_t kNanPlace = 0x8000;
static_assert(kRankTileValues <= kNanPlace, "places leave kNanPlace's bit free");
template <bool Nan>
void select_positions(const uint16_t* pos, const int64_t* ends, int64_t nruns, int64_t rank,
                      int64_t count, uint16_t* found, uint64_t* bits, int lo, int hi) {
  int64_t m = 0, below = 0;  // the answer's word, and the positions in the words before it
  int64_t nans = 0;          // the window's NaNs (Nan)
  auto flip = [&](int v, int d) __attribute__((always_inline)) {
    const int word = v >> 6;
    bits[word] ^= uint64_t{1} << (v & 63);
    below += word < m ? d : 0;
    if constexpr (Nan) nans += v < lo || v >= hi ? d : 0;
  };
  auto cnt = [bits](int64_t j) { return static_cast<int64_t>(__builtin_popcountll(bits[j])); };
  auto answer = [&]() __attribute__((always_inline)) {
    while (below > rank) below -= cnt(--m);
    while (below + cnt(m) <= rank) below += cnt(m++);
    return static_cast<uint16_t>(64 * m + select_bit(bits[m], static_cast<int>(rank - below)));
  };
  // The window at output i, added (d = 1) or removed (d = -1).
  auto whole = [&](int64_t i, int d) {
    for (int64_t j = 0; j < nruns; ++j)
      for (int64_t q = ends[2 * j] + 1; q <= ends[2 * j + 1]; ++q) flip(pos[i + q], d);
  };
  auto mark = [&]() { return static_cast<uint16_t>(Nan && nans ? kNanPlace : 0); };
  whole(0, 1);
  found[0] = answer() | mark();
  for (int64_t i = 1; i < count; ++i) {
    for (int64_t j = 0; j < nruns; ++j) {
      flip(pos[i + ends[2 * j]], -1);
      flip(pos[i + ends[2 * j + 1]], 1);
    }
    found[i] = answer() | mark();
  }
  whole(count - 1, -1);
}

// rank_tile's work, carved in rank.h's tile_sections order: the window's bits first (zero on
// entry, left zero), each section 64-byte aligned.
struct TileWork {
  uint64_t* bits;
  void* items[2];
  uint32_t* radix;
  uint16_t* pos;
  uint16_t* found;
  void* values;
  int64_t* ends;   // select_positions's, 2 a run
  double* window;  // a NaN window's values
};

inline TileWork tile_work(void* work, size_t tsize, int64_t nf) {
  size_t bytes[kTileSections];
  tile_sections(tsize, nf, bytes);
  char* p = static_cast<char*>(work);
  int i = 0;
  auto take = [&]() {
    char* q = p;
    p += tile_section_span(bytes[i++]);
    return q;
  };
  TileWork w;
  w.bits = reinterpret_cast<uint64_t*>(take());
  w.items[0] = take();
  w.items[1] = take();
  w.radix = reinterpret_cast<uint32_t*>(take());
  w.pos = reinterpret_cast<uint16_t*>(take());
  w.found = reinterpret_cast<uint16_t*>(take());
  w.values = take();
  w.ends = reinterpret_cast<int64_t*>(take());
  w.window = reinterpret_cast<double*>(take());
  return w;
}

template <class T>
void rank_tile(const T* in, int64_t in_step, int64_t in_col, const int64_t* runs, int64_t nruns,
               int64_t kh, int64_t kw, int64_t rank, int64_t rows, int64_t count, T* out,
               int64_t out_step, int64_t out_col, void* work) {
  if (rows <= 0 || count <= 0) return;
  using Item = TileItem<T>;
  int64_t nf = 0;
  for (int64_t j = 0; j < nruns; ++j) nf += runs[3 * j + 2] - runs[3 * j + 1];
  const TileWork w = tile_work(work, sizeof(T), nf);
  const int64_t rw = count + kw - 1, n = (rows + kh - 1) * rw;
  Item* items = static_cast<Item*>(w.items[0]);
  int nan_lo = 0, nan_hi = 0;  // NaNs with the sign bit set (keys below -inf) and without
  for (int64_t r = 0; r < rows + kh - 1; ++r) {
    const T* row = in + r * in_step;
    Item* it = items + r * rw;
    for (int64_t c = 0; c < rw; ++c) {
      const T x = row[c * in_col];
      if constexpr (std::is_floating_point_v<T>)
        if (x != x) ++(std::signbit(x) ? nan_lo : nan_hi);
      it[c] = tile_item<T>(tile_key(x), r * rw + c);
    }
  }
  // Small tiles (short or narrow images) by bytes: 2048 buckets a pass cost more than their values.
  constexpr int kBits = static_cast<int>(8 * sizeof(T));
  Item* other = static_cast<Item*>(w.items[1]);
  const Item* sorted = n < 1024 ? radix_sort<8>(items, other, n, kBits, w.radix)
                                : radix_sort<kTileDigit>(items, other, n, kBits, w.radix);
  // Each value's place in the sorted order (equal values take consecutive places: a window's
  // rank-th place holds its rank-th value whichever of them it is).
  T* values = static_cast<T*>(w.values);
  for (int64_t i = 0; i < n; ++i) {
    values[i] = tile_value<T>(static_cast<TileKey<T>>(item_key(sorted[i])));
    w.pos[item_index(sorted[i])] = static_cast<uint16_t>(i);
  }
  for (int64_t j = 0; j < nruns; ++j) {
    w.ends[2 * j] = runs[3 * j] * rw + runs[3 * j + 1] - 1;
    w.ends[2 * j + 1] = runs[3 * j] * rw + runs[3 * j + 2] - 1;
  }
  // A window holding a NaN: NI_Select on its values in footprint (C) order, SciPy's answer.
  auto nan_window = [&](int64_t r, int64_t i) {
    const T* p = in + r * in_step + i * in_col;
    int64_t k = 0;
    for (int64_t j = 0; j < nruns; ++j)
      for (int64_t c = runs[3 * j + 1]; c < runs[3 * j + 2]; ++c)
        w.window[k++] = static_cast<double>(p[runs[3 * j] * in_step + c * in_col]);
    return static_cast<T>(ni_select(w.window, 0, nf - 1, rank));
  };
  const bool nan = nan_lo + nan_hi > 0;
  for (int64_t r = 0; r < rows; ++r) {
    T* o = out + r * out_step;
    if (!nan) {
      select_positions<false>(w.pos + r * rw, w.ends, nruns, rank, count, w.found, w.bits, 0, 0);
      for (int64_t i = 0; i < count; ++i) o[i * out_col] = values[w.found[i]];
    } else {
      select_positions<true>(w.pos + r * rw, w.ends, nruns, rank, count, w.found, w.bits, nan_lo,
                             static_cast<int>(n) - nan_hi);
      for (int64_t i = 0; i < count; ++i)
        o[i * out_col] = w.found[i] & kNanPlace ? nan_window(r, i) : values[w.found[i]];
    }
  }
}

}  // namespace rank
}  // namespace npfast
