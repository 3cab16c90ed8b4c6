// Scalar reference for the rank-filter family: SciPy's own algorithms written plainly (the
// deque of NI_MinOrMaxFilter1D line by line, NI_Select over each window). The test oracle and
// the `scalar` ISA kernels.
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "src/kernels/rank/rank.h"

namespace npfast {
namespace rank {
namespace {

template <class T>
void minmax_ref(const T* const* in, T* const* out, int64_t n, int64_t k, int64_t width,
                bool minimum, void* work) {
  T* ring_value = static_cast<T*>(work);
  int64_t* ring_death =
      reinterpret_cast<int64_t*>((reinterpret_cast<uintptr_t>(ring_value + k) + 7) & ~uintptr_t(7));
  for (int64_t c = 0; c < width; ++c)
    minmax_deque(in, out, c, n, k, minimum, ring_value, ring_death);
}

template <class T>
void minmax_line_ref(const T* in, T* out, int64_t n, int64_t k, bool minimum, void* work) {
  T* ring_value = static_cast<T*>(work);
  int64_t* ring_death =
      reinterpret_cast<int64_t*>((reinterpret_cast<uintptr_t>(ring_value + k) + 7) & ~uintptr_t(7));
  minmax_deque_line(in, out, n, k, minimum, ring_value, ring_death);
}

// The fold as written in rank.h: left to right, a later value replacing on ties.
template <class T>
bool minmax_rows_ref(const T* const* in, T* out, int64_t k, int64_t width, bool minimum,
                     int64_t check_from) {
  bool finite = true;
  for (int64_t c = 0; c < width; ++c) {
    T v = in[0][c];
    for (int64_t r = 1; r < k; ++r) {
      const T x = in[r][c];
      v = minimum ? (v < x ? v : x) : (v > x ? v : x);
    }
    out[c] = v;
    if constexpr (std::is_floating_point_v<T>)
      for (int64_t r = check_from; r < k; ++r) finite = finite && std::isfinite(in[r][c]);
  }
  return finite;
}

// The two folds of rank.h one after the other.
template <class T>
bool minmax_2d_ref(const T* const* in, T* out, int64_t n, int64_t k0, int64_t k1, bool minimum,
                   T* work, int64_t check_from) {
  const bool finite = minmax_rows_ref(in, work, k0, n + k1 - 1, minimum, check_from);
  for (int64_t j = 0; j < n; ++j) {
    T v = work[j];
    for (int64_t t = 1; t < k1; ++t) {
      const T x = work[j + t];
      v = minimum ? (v < x ? v : x) : (v > x ? v : x);
    }
    out[j] = v;
  }
  return finite;
}

// The one-row reference on rows 0 .. k0 - 1 and on rows 1 .. k0.
template <class T>
bool minmax_2d_pair_ref(const T* const* in, T* const* out, int64_t n, int64_t k0, int64_t k1,
                        bool minimum, T* const* work, int64_t check_from, int64_t /*ahead*/) {
  const bool first = minmax_2d_ref(in, out[0], n, k0, k1, minimum, work[0], check_from);
  const bool second = minmax_2d_ref(in + 1, out[1], n, k0, k1, minimum, work[1],
                                    check_from > 0 ? check_from - 1 : 0);
  return first && second;
}

template <class T, int N>
void rank_net_ref(const T* in, const int64_t* offsets, int64_t rank, int64_t count, T* out) {
  double work[N];
  select_rows(in, offsets, N, rank, count, out, work);
}

template <class T>
void median3_rows_ref(const T* in, int64_t in_step, T* out, int64_t out_step, int64_t rows,
                      int64_t count) {
  int64_t offsets[9];
  square3_offsets(in_step, offsets);
  for (int64_t r = 0; r < rows; ++r)
    rank_net_ref<T, 9>(in + r * in_step, offsets, 4, count, out + r * out_step);
}

template <class T>
void rank_tile_ref(const T* in, int64_t in_step, int64_t in_col, const int64_t* runs, int64_t nruns,
                   int64_t, int64_t, int64_t rank, int64_t rows, int64_t count, T* out,
                   int64_t out_step, int64_t out_col, void*) {
  std::vector<int64_t> offsets;
  for (int64_t j = 0; j < nruns; ++j)
    for (int64_t c = runs[3 * j + 1]; c < runs[3 * j + 2]; ++c)
      offsets.push_back(runs[3 * j] * in_step + c * in_col);
  std::vector<double> work(offsets.size());
  const auto nf = static_cast<int64_t>(offsets.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < count; ++i)
      select_rows(in + r * in_step + i * in_col, offsets.data(), nf, rank, 1,
                  out + r * out_step + i * out_col, work.data());
}

// The histogram kernels' reference (and the scalar ISA's kernels: any window size, from the
// heap): rank_tile_ref over the kh x kw rectangle's rows.
template <class T>
void select_rect(const T* in, int64_t row_step, int64_t kh, int64_t kw, int64_t rank, int64_t count,
                 T* out) {
  std::vector<int64_t> runs;
  for (int64_t r = 0; r < kh; ++r) runs.insert(runs.end(), {r, 0, kw});
  rank_tile_ref(in, row_step, 1, runs.data(), kh, kh, kw, rank, 1, count, out, 0, 1, nullptr);
}

void rank_hist_ref(const uint8_t* in, int64_t row_step, int64_t kh, int64_t kw, int64_t rank,
                   int64_t count, uint8_t* out) {
  select_rect(in, row_step, kh, kw, rank, count, out);
}

void rank_hist16_ref(const uint16_t* in, int64_t row_step, int64_t kh, int64_t kw, int64_t rank,
                     int64_t count, uint16_t* out, int32_t*) {
  select_rect(in, row_step, kh, kw, rank, count, out);
}

}  // namespace

const Table table_scalar = {
#define NPFAST_KERNEL NPFAST_KERNEL_SCALAR
#include "src/kernels/rank/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace rank
}  // namespace npfast
