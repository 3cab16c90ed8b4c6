// Row kernels with streamed outputs whose stores meet the 4 KiB alias of the rows they load.
//
// A load whose address matches an earlier store's in the low 12 bits waits for that store
// (4K aliasing). A row kernel that streams its outputs (non-temporal stores) while loading the
// input rows at the same columns pays far more for it than one with plain stores: on Zen 3,
// 2048^2 float32 with the output 0-192 bytes ahead of the input modulo 4 KiB, 1 thread, ns/px:
// sobel along rows 4.7 against 0.5-0.6 elsewhere, maximum 5 6.4 / 0.9, uniform 5 5.3 / 1.1,
// correlate 3x3 2.1 / 0.6 (docs/ndimage-speed.md "alias26"). Every row pair meets it when rows
// are a multiple of 4 KiB long (widths of 1024, 2048, 4096 float32) and the output starts as
// far into its page as the input, which is where np.empty_like puts it and where two arrays
// from npfast's pool lie. The operator cannot move the distance within a call; these rows are
// made in a scratch placed half a page from the input instead, and streamed out whole
// (x8_copy_stream): an L2 round trip a row, which costs ~10-30% against the same call with its
// output placed clear (so only aliased calls take it). In the operators, not in the kernels'
// shared RowStores: kernels allocate nothing, and the scratch's place depends on the input's.
#pragma once

#include <cstdint>
#include <utility>

#include "npfast/memory.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace ops {

// Whether the stores of a row kernel making `group` output rows a call (rows out_rs bytes
// apart, the first at `store`) meet the alias of its loads: the pairs of an output row q and
// an input row r the group reads (r in [-above, group - 1 + below]) lie within 512 bytes of
// each other modulo 4 KiB, and more than a third of them -64-320 bytes ahead. `load` is the
// input element at the first output's position (row and column), input rows in_rs apart.
bool streamed_rows_alias(uintptr_t store, int64_t out_rs, uintptr_t load, int64_t in_rs,
                         int64_t above, int64_t below, int64_t group);
// The same for a call that reads rows of `in` along `axis` and writes those of `out`, decided
// from the first elements of both (plane 0) for every plane: exact where the planes' strides
// are whole pages, as in a stack of such images; corr2d asks plane by plane.
bool streamed_rows_alias(const View& in, const View& out, int axis, int64_t above, int64_t below,
                         int64_t group);

// A thread's scratch for one group of output rows, placed clear of the input's page offset.
// Off (the default): row() hands back the output row itself.
class AliasedRows {
 public:
  AliasedRows() = default;
  // `group` rows of `row_bytes`, each starting half a page from `load` modulo 4 KiB (pitches of
  // whole pages): clear of input rows of any pitch near a multiple of 4 KiB, and of output
  // rows within 256 bytes of those. In `mem` (bytes(group, row_bytes) of the caller's: corr2d
  // takes it before any output is written), else from the pool (as the row filters' other
  // per-thread buffers, in each thread's work).
  AliasedRows(int64_t group, int64_t row_bytes, uintptr_t load, char* mem = nullptr);
  static int64_t bytes(int64_t group, int64_t row_bytes);
  bool on() const { return base_ != nullptr; }
  // Where output row r of the group is made: scratch row r when on, else `out`.
  template <class T>
  T* row(int64_t r, T* out) const {
    return on() ? reinterpret_cast<T*>(base_ + r * pitch_) : out;
  }
  AliasedRows(AliasedRows&& o) noexcept { *this = std::move(o); }
  AliasedRows& operator=(AliasedRows&& o) noexcept {
    mem_ = std::move(o.mem_);
    base_ = std::exchange(o.base_, nullptr);
    pitch_ = o.pitch_;
    row_bytes_ = o.row_bytes_;
    return *this;
  }
  // Streams scratch rows [0, m) to the output rows at `first`, `stride` bytes apart, row_bytes
  // each (the caller fences).
  void flush(void* first, int64_t stride, int64_t m) const;

 private:
  Buffer<char> mem_;
  char* base_ = nullptr;
  int64_t pitch_ = 0, row_bytes_ = 0;
  // Whole pages a row, so that every scratch row lies at the same page offset.
  static int64_t pitch_of(int64_t row_bytes) { return (row_bytes + 4095) / 4096 * 4096; }
};

// Output rows made through an AliasedRows scratch since the process started: for tests of the
// choice (the bits are the same either way).
int64_t aliased_rows();

}  // namespace ops
}  // namespace npfast
