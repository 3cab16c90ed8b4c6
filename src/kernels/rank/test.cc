// Every registered rank-filter kernel against the scalar reference (SciPy's deque and
// NI_Select), over every ISA this CPU runs: running min/max bit for bit (signed zeros
// included) on panels with NaN, infinities, -0.0 and many ties, window lengths around the
// vector widths, longer than the line and of 1; medians value for value. The reference itself
// is checked against SciPy's outputs written down by hand.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "npfast/dispatch.hpp"
#include "src/kernels/rank/rank.h"

namespace npfast {
namespace rank {
namespace {

template <class T>
std::vector<T> values(size_t n, std::mt19937& rng, double nan_rate) {
  std::uniform_int_distribution<int> d(-5, 5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<T> v(n);
  for (auto& x : v) {
    const double r = u(rng);
    if constexpr (std::is_floating_point_v<T>) {
      if (r < nan_rate) {  // half of them with the sign bit set (the keys' lowest values)
        x = std::copysign(std::numeric_limits<T>::quiet_NaN(), r < nan_rate / 2 ? -1.0 : 1.0);
        continue;
      }
      if (r < 0.03) {
        x = r < 0.015 ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
        continue;
      }
      if (r < 0.05) {  // fractions, subnormals and magnitudes near the largest, either sign
        const T s = static_cast<T>(d(rng));
        x = r < 0.035  ? s * T(0.37)
            : r < 0.04 ? s * std::numeric_limits<T>::denorm_min()
                       : s / T(5) * std::numeric_limits<T>::max();
        continue;
      }
      if (r < 0.12) {
        x = r < 0.08 ? T(-0.0) : T(0.0);
        continue;
      }
    }
    if constexpr (std::is_integral_v<T> && sizeof(T) >= 2) {
      // Near both ends too: a signed compare on unsigned lanes (or the reverse) fails there.
      if (r < 0.1) {
        x = static_cast<T>(std::numeric_limits<T>::max() - 5 - d(rng));
        continue;
      }
      if (r < 0.2) {
        x = static_cast<T>(std::numeric_limits<T>::min() + 5 + d(rng));
        continue;
      }
    }
    x = static_cast<T>(d(rng) + (std::is_signed_v<T> ? 0 : 5));
  }
  return v;
}

template <class T>
bool same_bits(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) && std::isnan(b)) return true;
  return std::memcmp(&a, &b, sizeof a) == 0;
}

template <class T>
bool same_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) && std::isnan(b)) return true;
  return a == b;
}

template <class T>
MinMaxFn<T> minmax_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) return t.f32_minmax;
  if constexpr (std::is_same_v<T, double>) return t.f64_minmax;
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_minmax;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_minmax;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_minmax;
}

// The kernel of N values for T (`suffix`: none, or _far), as a case of a function over N.
#define NPFAST_NET_OF(n, suffix)                                                   \
  if constexpr (N == n) {                                                          \
    if constexpr (std::is_same_v<T, float>) return t.f32_rank_net_n##n##suffix;    \
    if constexpr (std::is_same_v<T, double>) return t.f64_rank_net_n##n##suffix;   \
    if constexpr (std::is_same_v<T, uint8_t>) return t.u8_rank_net_n##n##suffix;   \
    if constexpr (std::is_same_v<T, uint16_t>) return t.u16_rank_net_n##n##suffix; \
    if constexpr (std::is_same_v<T, int32_t>) return t.i32_rank_net_n##n##suffix;  \
  }

template <class T, int N>
RankNetFn<T> net_of(const Table& t) {
  NPFAST_NET_OF(3, )
  NPFAST_NET_OF(5, )
  NPFAST_NET_OF(7, )
  NPFAST_NET_OF(4, )
  NPFAST_NET_OF(6, )
  NPFAST_NET_OF(8, )
  NPFAST_NET_OF(9, )
  NPFAST_NET_OF(25, )
  NPFAST_NET_OF(27, )
  NPFAST_NET_OF(49, )
  return nullptr;
}

// The prefetching variants of the 3x3 and 5x5 kernels (nullptr for other N).
template <class T, int N>
RankNetFn<T> net_far_of(const Table& t) {
  NPFAST_NET_OF(9, _far)
  NPFAST_NET_OF(25, _far)
  return nullptr;
}
#undef NPFAST_NET_OF

// The float32 networks on int32 keys (`_keys`, `_far_keys`; nullptr for other T and N).
template <class T, int N>
std::array<RankNetFn<T>, 2> net_keys_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) {
#define NPFAST_KEYS_OF(n) \
  if constexpr (N == n) return {t.f32_rank_net_n##n##_keys, nullptr};
    NPFAST_KEYS_OF(3)
    NPFAST_KEYS_OF(5)
    NPFAST_KEYS_OF(7)
    NPFAST_KEYS_OF(4)
    NPFAST_KEYS_OF(6)
    NPFAST_KEYS_OF(8)
    NPFAST_KEYS_OF(27)
    NPFAST_KEYS_OF(49)
#undef NPFAST_KEYS_OF
    if constexpr (N == 9) return {t.f32_rank_net_n9_keys, t.f32_rank_net_n9_far_keys};
    if constexpr (N == 25) return {t.f32_rank_net_n25_keys, t.f32_rank_net_n25_far_keys};
  }
  return {nullptr, nullptr};
}

// scipy.ndimage.maximum_filter1d / minimum_filter1d([1, nan, 3, 2, 0, 5, 4], 3,
// mode='constant', cval=-9) as SciPy 1.17 returns them: the NaN answers depend on position.
TEST(RankReference, DequeMatchesScipyByHand) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double ext[9] = {-9, 1, nan, 3, 2, 0, 5, 4, -9};
  std::vector<char> work(minmax_work_bytes(3, 1, sizeof(double)));
  double out[7];
  const double* in_rows[9];
  double* out_rows[7];
  for (int t = 0; t < 9; ++t) in_rows[t] = ext + t;
  for (int i = 0; i < 7; ++i) out_rows[i] = out + i;
  table_scalar.f64_minmax(in_rows, out_rows, 7, 3, 1, false, work.data());
  const double want_max[7] = {1, 3, 3, 3, 5, 5, 5};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(out[i], want_max[i]) << i;
  table_scalar.f64_minmax(in_rows, out_rows, 7, 3, 1, true, work.data());
  const double want_min[7] = {-9, 1, nan, 0, 0, 0, -9};
  for (int i = 0; i < 7; ++i) EXPECT_TRUE(same_value(out[i], want_min[i])) << i;
}

// NI_Select: the rank-th smallest without NaN; SciPy's answers with one (by hand from
// scipy.ndimage.rank_filter on 2-D inputs, the values in footprint order).
TEST(RankReference, SelectByHand) {
  double b1[5] = {3, 1, 4, 1, 5};
  EXPECT_EQ(ni_select(b1, 0, 4, 2), 3);
  double b2[5] = {3, 1, 4, 1, 5};
  EXPECT_EQ(ni_select(b2, 0, 4, 4), 5);
  const float in[9] = {5, 1, 2, 8, 7, 3, 4, 6, 0};
  const int64_t offsets[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  float out;
  table_scalar.f32_rank_net_n9(in, offsets, 4, 1, &out);
  EXPECT_EQ(out, 4.0f);
}

class RankIsa : public ::testing::TestWithParam<Isa> {};

template <class T>
void check_minmax(const Table& t, Isa isa, std::mt19937& rng) {
  for (int64_t k : {1, 2, 3, 4, 5, 7, 8, 9, 17, 33}) {
    for (int64_t n : {1, 2, 3, 5, 16, 31, 70}) {
      for (int64_t width : {1, 3, 8, 17, 40}) {
        for (double nan_rate : {0.0, 0.01}) {
          const int64_t step = width + 3;
          const auto in = values<T>(static_cast<size_t>((n + k - 1) * step), rng, nan_rate);
          std::vector<T> want(n * step, T(7)), got(n * step, T(7));
          std::vector<char> w1(minmax_work_bytes(k, width, sizeof(T)));
          std::vector<char> w2(minmax_work_bytes(k, width, sizeof(T)));
          // Rows `step` apart, as the line driver's copied blocks (and read-in-place rows).
          std::vector<const T*> rows(n + k - 1);
          std::vector<T*> want_rows(n), got_rows(n);
          for (int64_t r = 0; r < n + k - 1; ++r) rows[r] = in.data() + r * step;
          for (int64_t i = 0; i < n; ++i) {
            want_rows[i] = want.data() + i * step;
            got_rows[i] = got.data() + i * step;
          }
          for (bool minimum : {true, false}) {
            minmax_of<T>(table_scalar)(rows.data(), want_rows.data(), n, k, width, minimum,
                                       w1.data());
            minmax_of<T>(t)(rows.data(), got_rows.data(), n, k, width, minimum, w2.data());
            for (int64_t i = 0; i < n * step; ++i)
              ASSERT_TRUE(same_bits(want[i], got[i]))
                  << isa_name(isa) << " sizeof " << sizeof(T) << " min " << minimum << " k " << k
                  << " n " << n << " width " << width << " at " << i;
          }
        }
      }
    }
  }
}

template <class T>
MinMaxLineFn<T> line_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) return t.f32_minmax_line;
  if constexpr (std::is_same_v<T, double>) return t.f64_minmax_line;
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_minmax_line;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_minmax_line;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_minmax_line;
}

template <class T>
MinMaxLineFn<T> line_stream_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) return t.f32_minmax_line_stream;
  if constexpr (std::is_same_v<T, double>) return t.f64_minmax_line_stream;
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_minmax_line_stream;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_minmax_line_stream;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_minmax_line_stream;
}

// Both line kernels (normal and streaming stores), outputs at several alignments (the fold
// starts its registers at the first aligned output).
template <class T>
void check_minmax_line(const Table& t, Isa isa, std::mt19937& rng) {
  for (int64_t k : {1, 2, 3, 5, 8, 16}) {
    for (int64_t n : {1, 2, 7, 16, 33, 100, 300, 700}) {
      for (double nan_rate : {0.0, 0.005}) {
        const auto in = values<T>(static_cast<size_t>(n + k - 1), rng, nan_rate);
        std::vector<T> want(n), buf(n + 80, T(7));
        std::vector<char> w1(minmax_work_bytes(k, 1, sizeof(T))), w2(w1.size());
        for (bool minimum : {true, false}) {
          line_of<T>(table_scalar)(in.data(), want.data(), n, k, minimum, w1.data());
          for (const MinMaxLineFn<T> f : {line_of<T>(t), line_stream_of<T>(t)}) {
            for (int64_t off : {0, 1, 3, 17}) {
              std::fill(buf.begin(), buf.end(), T(7));
              T* got = buf.data() + off;
              f(in.data(), got, n, k, minimum, w2.data());
              ASSERT_EQ(got[n], T(7)) << "wrote past the line";
              for (int64_t i = 0; i < n; ++i)
                ASSERT_TRUE(same_bits(want[i], got[i])) << isa_name(isa) << " line k " << k << " n "
                                                        << n << " at " << i << " offset " << off;
            }
          }
        }
      }
    }
  }
}

template <class T>
MinMaxRowsFn<T> rows_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) return t.f32_minmax_rows;
  if constexpr (std::is_same_v<T, double>) return t.f64_minmax_rows;
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_minmax_rows;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_minmax_rows;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_minmax_rows;
}

// The fold across rows: the deque's answer (signed zeros included) on windows without NaN,
// and `false` exactly when a checked row holds a NaN or an infinity.
template <class T>
void check_minmax_rows(const Table& t, Isa isa, std::mt19937& rng) {
  for (int64_t k : {1, 2, 3, 5, 8, 16}) {
    for (int64_t width : {1, 7, 16, 63, 64, 65, 300, 700}) {
      for (double nan_rate : {0.0, 0.001}) {
        const int64_t step = width + 5;
        const auto in = values<T>(static_cast<size_t>(k * step), rng, nan_rate);
        std::vector<const T*> rows(k);
        for (int64_t r = 0; r < k; ++r) rows[r] = in.data() + (k - 1 - r) * step;
        std::vector<T> want(width), got(width + 1, T(7));
        T* want_row = want.data();
        std::vector<char> work(minmax_work_bytes(k, width, sizeof(T)));
        for (int64_t check_from : {int64_t{0}, k - 1}) {
          bool finite = true, nan = false;
          for (int64_t r = 0; r < k; ++r)
            for (int64_t c = 0; c < width; ++c) {
              if constexpr (std::is_floating_point_v<T>) {
                if (r >= check_from) finite = finite && std::isfinite(rows[r][c]);
                nan = nan || std::isnan(rows[r][c]);
              }
            }
          for (bool minimum : {true, false}) {
            minmax_of<T>(table_scalar)(rows.data(), &want_row, 1, k, width, minimum, work.data());
            for (const Table* tab : {&table_scalar, &t}) {
              const bool ok =
                  rows_of<T>(*tab)(rows.data(), got.data(), k, width, minimum, check_from);
              ASSERT_EQ(ok, finite) << isa_name(isa) << " rows k " << k << " width " << width;
              ASSERT_EQ(got[width], T(7)) << "wrote past the row";
              if (nan) continue;
              for (int64_t c = 0; c < width; ++c)
                ASSERT_TRUE(same_bits(want[c], got[c]))
                    << isa_name(isa) << " rows k " << k << " width " << width << " at " << c;
            }
          }
        }
      }
    }
  }
}

template <class T>
MinMax2dFn<T> fused_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) return t.f32_minmax_2d;
  if constexpr (std::is_same_v<T, double>) return t.f64_minmax_2d;
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_minmax_2d;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_minmax_2d;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_minmax_2d;
}

// One fused row (outputs at several alignments: the head, the register loop and the tail): the
// reference's outputs and vertical folds bit for bit on rows without NaN, and `false` exactly when
// a checked row holds a NaN or an infinity.
template <class T>
void check_minmax_2d(const Table& t, Isa isa, std::mt19937& rng) {
  for (int64_t k0 : {1, 2, 5, 16}) {
    for (int64_t k1 : {1, 2, 3, 5, 7, 9, 16}) {
      for (int64_t n : {1, 7, 31, 32, 33, 63, 64, 65, 95, 96, 97, 200, 700, 2001}) {
        for (double nan_rate : {0.0, 0.001}) {
          const int64_t nv = n + k1 - 1, step = nv + 3;
          const auto in = values<T>(static_cast<size_t>(k0 * step), rng, nan_rate);
          std::vector<const T*> rows(k0);
          for (int64_t r = 0; r < k0; ++r) rows[r] = in.data() + (k0 - 1 - r) * step;
          for (int64_t check_from : {int64_t{0}, k0 - 1}) {
            bool finite = true, nan = false;
            for (int64_t r = 0; r < k0; ++r)
              for (int64_t c = 0; c < nv; ++c) {
                if constexpr (std::is_floating_point_v<T>) {
                  if (r >= check_from) finite = finite && std::isfinite(rows[r][c]);
                  nan = nan || std::isnan(rows[r][c]);
                }
              }
            for (bool minimum : {true, false}) {
              std::vector<T> want(n), want_v(nv), v(nv), buf(n + 80);
              ASSERT_EQ(fused_of<T>(table_scalar)(rows.data(), want.data(), n, k0, k1, minimum,
                                                  want_v.data(), check_from),
                        finite);
              for (int64_t off : {0, 1, 3, 17}) {
                std::fill(buf.begin(), buf.end(), T(7));
                T* got = buf.data() + off;
                const bool ok =
                    fused_of<T>(t)(rows.data(), got, n, k0, k1, minimum, v.data(), check_from);
                ASSERT_EQ(ok, finite) << isa_name(isa) << " 2d k " << k0 << "x" << k1;
                ASSERT_EQ(got[n], T(7)) << "wrote past the row";
                for (int64_t i = 0; i < off; ++i) ASSERT_EQ(buf[i], T(7)) << "wrote before it";
                if (nan) continue;
                for (int64_t c = 0; c < nv; ++c) {
                  if (c >= k1 && c < n - 1) continue;  // only the ends are kept (rank.h)
                  ASSERT_TRUE(same_bits(want_v[c], v[c])) << isa_name(isa) << " 2d k " << k0 << "x"
                                                          << k1 << " n " << n << " column " << c;
                }
                for (int64_t j = 0; j < n; ++j)
                  ASSERT_TRUE(same_bits(want[j], got[j]))
                      << isa_name(isa) << " 2d k " << k0 << "x" << k1 << " n " << n << " at " << j
                      << " offset " << off;
              }
            }
          }
        }
      }
    }
  }
}

// mode 1: _stream, 2: _lines.
template <class T>
MinMax2dPairFn<T> pair_of(const Table& t, int mode) {
  if constexpr (std::is_same_v<T, float>)
    return mode == 2 ? t.f32_minmax_2d_pair_lines : t.f32_minmax_2d_pair_stream;
  if constexpr (std::is_same_v<T, double>)
    return mode == 2 ? t.f64_minmax_2d_pair_lines : t.f64_minmax_2d_pair_stream;
  if constexpr (std::is_same_v<T, uint8_t>)
    return mode == 2 ? t.u8_minmax_2d_pair_lines : t.u8_minmax_2d_pair_stream;
  if constexpr (std::is_same_v<T, uint16_t>)
    return mode == 2 ? t.u16_minmax_2d_pair_lines : t.u16_minmax_2d_pair_stream;
  if constexpr (std::is_same_v<T, int32_t>)
    return mode == 2 ? t.i32_minmax_2d_pair_lines : t.i32_minmax_2d_pair_stream;
}

// Two fused rows (both kernels; the two outputs at equal and at different alignments, which
// the kernel takes one row at a time): the one-row reference's outputs and vertical-fold ends
// on rows 0 .. k0 - 1 and 1 .. k0 bit for bit on rows without NaN, and `false` exactly when a
// checked row holds a NaN or an infinity.
template <class T>
void check_minmax_2d_pair(const Table& t, Isa isa, std::mt19937& rng) {
  constexpr int64_t L = 64 / static_cast<int64_t>(sizeof(T));
  // The shared fold takes 4- and 8-byte values (fold_2d_regs): every shift; the others go one
  // row at a time (alignments as check_minmax_2d's): four shifts.
  constexpr int64_t shift_step = sizeof(T) >= 4 ? 1 : L / 4;
  auto aligned = [](T* p) {
    const auto a = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<T*>((a + 63) / 64 * 64);
  };
  for (int64_t k0 : {1, 2, 3, 5, 6}) {
    for (int64_t k1 : {1, 3, 5, 7, 9, 16}) {
      for (int64_t n : {1, 31, 64, 65, 97, 200, 2001}) {
        for (double nan_rate : {0.0, 0.001}) {
          const int64_t nv = n + k1 - 1, step = nv + 3, k = k0 + 1;
          // Each row's region: L values before it, the row and L guards after it, rounded to
          // registers; L more for aligning the buffer's start.
          const int64_t span = (n + 2 * L + L - 1) / L * L;
          std::vector<T> buf(static_cast<size_t>(2 * span + 2 * L));
          const auto in = values<T>(static_cast<size_t>(k * step), rng, nan_rate);
          std::vector<const T*> rows(k);
          for (int64_t r = 0; r < k; ++r) rows[r] = in.data() + (k - 1 - r) * step;
          for (int64_t check_from : {int64_t{0}, k0 / 2, k0 - 1, k0}) {
            bool finite = true, nan = false;
            for (int64_t r = 0; r < k; ++r)
              for (int64_t c = 0; c < nv; ++c) {
                if constexpr (std::is_floating_point_v<T>) {
                  if (r >= check_from) finite = finite && std::isfinite(rows[r][c]);
                  nan = nan || std::isnan(rows[r][c]);
                }
              }
            for (bool minimum : {true, false}) {
              std::vector<T> want[2], want_v[2];
              for (int i = 0; i < 2; ++i) {
                want[i].resize(n);
                want_v[i].resize(nv);
                fused_of<T>(table_scalar)(rows.data() + i, want[i].data(), n, k0, k1, minimum,
                                          want_v[i].data(), 0);
              }
              for (int mode : {1, 2}) {
                // One 64-byte-aligned buffer: row 0 at a fixed offset and row 1 at the shifts
                // 0 .. L - 1 after a register boundary (L lanes of the widest register), so that
                // the lane shifts between the two rows run whatever malloc returns.
                for (int64_t off0 : {int64_t{0}, int64_t{5}}) {
                  for (int64_t off1 = 0; off1 < L; off1 += shift_step) {
                    // _lines: rows at equal alignments (rank.h), off1 the same as off0.
                    if (mode == 2 && off1 != off0 % L) continue;
                    std::fill(buf.begin(), buf.end(), T(7));
                    T* const base = aligned(buf.data());
                    T* got[2] = {base + L + off0, base + L + span + off1};
                    std::vector<T> v[2] = {std::vector<T>(nv), std::vector<T>(nv)};
                    T* vs[2] = {v[0].data(), v[1].data()};
                    // Both prefetch targets (rank.h `ahead`): along the rows, the next rows.
                    const int64_t ahead = off0 == 0 ? kFold2dAhead * int64_t{sizeof(T)}
                                                    : 2 * step * int64_t{sizeof(T)};
                    const bool ok = pair_of<T>(t, mode)(rows.data(), got, n, k0, k1, minimum, vs,
                                                        check_from, ahead);
                    ASSERT_EQ(ok, finite) << isa_name(isa) << " pair k " << k0 << "x" << k1;
                    // Nothing outside the two rows written: the guards [n, n + L) after each
                    // row, the values before it.
                    for (const T* p = buf.data(); p != buf.data() + buf.size(); ++p) {
                      if ((p >= got[0] && p < got[0] + n) || (p >= got[1] && p < got[1] + n))
                        continue;
                      ASSERT_EQ(*p, T(7)) << isa_name(isa) << " pair k " << k0 << "x" << k1 << " n "
                                          << n << " wrote outside the rows at " << (p - base)
                                          << " offsets " << off0 << "," << off1;
                    }
                    if (nan) continue;
                    for (int i = 0; i < 2; ++i) {
                      // _lines: the outputs of the partial 64-byte lines at the rows' ends may be
                      // left (7); v's ends reach a line further.
                      const auto line_of = [&](int64_t j) {
                        return reinterpret_cast<uintptr_t>(got[i] + j) / 64;
                      };
                      const int64_t first_line =
                          (64 - static_cast<int64_t>(reinterpret_cast<uintptr_t>(got[i]) % 64)) %
                          64 / static_cast<int64_t>(sizeof(T));
                      const int64_t vhead = mode == 2 ? first_line + L + k1 : k1;
                      const int64_t vtail = mode == 2 ? n - L - 1 : n - 1;
                      for (int64_t c = 0; c < nv; ++c) {
                        if (c >= vhead && c < vtail) continue;  // only the ends are kept (rank.h)
                        ASSERT_TRUE(same_bits(want_v[i][c], v[i][c]))
                            << isa_name(isa) << " pair k " << k0 << "x" << k1 << " n " << n
                            << " row " << i << " column " << c;
                      }
                      for (int64_t j = 0; j < n; ++j) {
                        const bool whole = line_of(j) != line_of(-1) && line_of(j) != line_of(n);
                        if (mode == 2 && !whole && got[i][j] == T(7)) continue;
                        ASSERT_TRUE(same_bits(want[i][j], got[i][j]))
                            << isa_name(isa) << " pair k " << k0 << "x" << k1 << " n " << n
                            << " row " << i << " at " << j << " offsets " << off0 << "," << off1
                            << " mode " << mode;
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

// Windows of N values: rows of 3, 5 or 7 (3x3, 5x5, 7x7 and 3x3x3 shapes), in a plane `row`
// wide.
template <class T, int N>
void check_net(const Table& t, Isa isa, std::mt19937& rng) {
  for (int64_t count : {1, 7, 16, 33, 100, 1500}) {
    for (double nan_rate : {0.0, 0.02, 0.0005}) {
      const int64_t row = count + 8, plane = row * 4;
      std::vector<int64_t> offsets(N);
      const int K = N == 49 ? 7 : N == 25 ? 5 : 3;
      for (int j = 0; j < N; ++j)
        offsets[j] = N <= 7    ? j
                     : N == 27 ? (j / 9) * plane + (j / 3 % 3) * row + j % 3
                               : (j / K) * row + j % K;
      const auto in = values<T>(static_cast<size_t>(plane * 3), rng, nan_rate);
      std::vector<T> want(count), got(count);
      for (int64_t rank :
           {int64_t{N / 2}, int64_t{0}, int64_t{1}, int64_t{N - 2}, int64_t{N - 1}}) {
        net_of<T, N>(table_scalar)(in.data(), offsets.data(), rank, count, want.data());
        // The plain kernels and the float32 ones on keys, each a near / far pair.
        const std::array<RankNetFn<T>, 2> plain = {net_of<T, N>(t), net_far_of<T, N>(t)};
        for (const auto& pair : {plain, net_keys_of<T, N>(t)}) {
          if (!pair[0]) continue;
          const char* kind = pair[0] == plain[0] ? "" : " keys";
          std::vector<T> near(count);
          for (int v = 0; v < 2; ++v) {
            const RankNetFn<T> f = pair[v];
            if (!f) continue;
            const bool far = v == 1;
            std::fill(got.begin(), got.end(), T{7});  // a kernel that skips an output fails
            f(in.data(), offsets.data(), rank, count, got.data());
            for (int64_t i = 0; i < count; ++i) {
              ASSERT_TRUE(same_value(want[i], got[i]))
                  << isa_name(isa) << kind << " N " << N << " rank " << rank << " count " << count
                  << " at " << i << (far ? " far" : "");
              // The far kernel promises the near one's results, the sign of a zero included.
              if (far) {
                ASSERT_TRUE(same_bits(near[i], got[i]))
                    << isa_name(isa) << kind << " N " << N << " rank " << rank << " count " << count
                    << " far differs from near at " << i;
              }
            }
            if (!far) near = got;
          }
          // rank.h: a row split anywhere into calls of at least kNetMinSplit outputs gives the
          // one call's bits (the in-place median path splits its rows so).
          if ((N == 9 || N == 25 || N == 49) && rank == N / 2 && count >= 2 * kNetMinSplit) {
            std::fill(got.begin(), got.end(), T{7});
            std::uniform_int_distribution<int64_t> len(kNetMinSplit, 3 * kNetMinSplit);
            for (int64_t i0 = 0, m = 0; i0 < count; i0 += m) {
              m = len(rng);
              if (count - i0 - m < kNetMinSplit) m = count - i0;  // the last call, whole
              pair[0](in.data() + i0, offsets.data(), rank, m, got.data() + i0);
            }
            for (int64_t i = 0; i < count; ++i)
              ASSERT_TRUE(same_bits(near[i], got[i]))
                  << isa_name(isa) << kind << " N " << N << " count " << count
                  << " split calls differ at " << i;
          }
        }
      }
    }
  }
}

// One NaN, swept over every column of a square median's last window row, at counts around the
// ends of the kernels' groups of 16 registers (128 / 256 outputs and their multiples on every
// ISA): each window holding it must come back as the reference's, wherever in a group (or in
// the column read ahead for a group's last output vector) the NaN sits.
template <class T, int N>
void check_net_single_nan(const Table& t, Isa isa, std::mt19937& rng) {
  constexpr int K = N == 25 ? 5 : 3;
  for (int64_t count : {127, 128, 129, 255, 256, 257, 511, 512, 513}) {
    const int64_t row = count + K - 1;
    std::vector<int64_t> offsets(N);
    for (int j = 0; j < N; ++j) offsets[j] = (j / K) * row + j % K;
    auto in = values<T>(static_cast<size_t>(row * K), rng, 0.0);
    std::vector<T> want(count), got(count);
    for (int64_t c = 0; c < row; ++c) {
      T& cell = in[static_cast<size_t>((K - 1) * row + c)];
      const T keep = cell;
      cell = std::numeric_limits<T>::quiet_NaN();
      net_of<T, N>(table_scalar)(in.data(), offsets.data(), N / 2, count, want.data());
      net_of<T, N>(t)(in.data(), offsets.data(), N / 2, count, got.data());
      for (int64_t i = 0; i < count; ++i)
        ASSERT_TRUE(same_value(want[i], got[i]))
            << isa_name(isa) << " N " << N << " count " << count << " NaN at column " << c
            << " output " << i;
      cell = keep;
    }
  }
}

template <class T>
Median3RowsFn<T> median3_of(const Table& t) {
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_median3_rows;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_median3_rows;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_median3_rows;
}

// median3_rows against the reference over blocks of rows, padded input rows and output rows
// in either direction (the operator writes a reversed view's rows backwards), as one call and
// split into calls by rows and columns (the operator splits rows by threads and runs, columns
// at the edges).
template <class T>
void check_median3_rows(const Table& t, Isa isa, std::mt19937& rng) {
  const Median3RowsFn<T> f = median3_of<T>(t);
  for (int64_t count : {5, 64, 65, 100, 257}) {
    for (int64_t rows : {1, 2, 5, 6, 7, 19}) {
      const int64_t in_step = count + 2 + rows % 3, out_step = count + 3;
      const auto in = values<T>(static_cast<size_t>((rows + 2) * in_step), rng, 0.0);
      std::vector<T> want(static_cast<size_t>(rows * out_step), T{7}), got = want, split = want;
      median3_of<T>(table_scalar)(in.data(), in_step, want.data(), out_step, rows, count);
      f(in.data(), in_step, got.data(), out_step, rows, count);
      std::vector<T> back = want;  // row r at back's row rows - 1 - r
      f(in.data(), in_step, back.data() + (rows - 1) * out_step, -out_step, rows, count);
      // Rows one call each, the columns in calls of at least kNetMinSplit.
      std::uniform_int_distribution<int64_t> len(kNetMinSplit, 2 * kNetMinSplit);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i0 = 0, m = 0; i0 < count; i0 += m) {
          m = len(rng);
          if (count - i0 - m < kNetMinSplit) m = count - i0;
          f(in.data() + r * in_step + i0, in_step, split.data() + r * out_step + i0, out_step, 1,
            m);
        }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i < out_step; ++i) {
          const size_t at = static_cast<size_t>(r * out_step + i);
          ASSERT_EQ(want[at], got[at]) << isa_name(isa) << " median3_rows count " << count
                                       << " rows " << rows << " at " << r << "," << i;
          ASSERT_EQ(got[at], split[at]) << isa_name(isa) << " median3_rows split calls, count "
                                        << count << " rows " << rows << " at " << r << "," << i;
          if (i < count) {
            ASSERT_EQ(got[at], back[static_cast<size_t>((rows - 1 - r) * out_step + i)])
                << isa_name(isa) << " median3_rows rows backwards, count " << count << " rows "
                << rows << " at " << r << "," << i;
          }
        }
    }
  }
}

template <class T>
void check_nets(const Table& t, Isa isa, std::mt19937& rng) {
  if constexpr (std::is_integral_v<T>) check_median3_rows<T>(t, isa, rng);
  check_net<T, 3>(t, isa, rng);
  check_net<T, 5>(t, isa, rng);
  check_net<T, 7>(t, isa, rng);
  check_net<T, 4>(t, isa, rng);
  check_net<T, 6>(t, isa, rng);
  check_net<T, 8>(t, isa, rng);
  check_net<T, 9>(t, isa, rng);
  check_net<T, 25>(t, isa, rng);
  check_net<T, 27>(t, isa, rng);
  check_net<T, 49>(t, isa, rng);
  if constexpr (std::is_floating_point_v<T>) {
    check_net_single_nan<T, 9>(t, isa, rng);
    check_net_single_nan<T, 25>(t, isa, rng);
  }
}

void check_rank_hist(const Table& t, Isa isa, std::mt19937& rng) {
  // Windows of up to 127 values take the branchless kernel, bigger ones the walk (kh x kw
  // 11 x 11 = 121, 11 x 12 = 132, 13 x 11 = 143); values clustered mid-range or at the extremes.
  for (int64_t kh : {1, 2, 3, 7, 11, 13}) {
    for (int64_t kw : {1, 4, 7, 9, 11, 12}) {
      const int64_t count = 53, row = count + kw + 3;
      std::vector<uint8_t> in(static_cast<size_t>(row * kh));
      std::uniform_int_distribution<int> d(0, 255), few(100, 104), ends(0, 3);
      const int cluster = static_cast<int>(kh + kw) % 3;  // 100..104, 0..3 and 252..255
      for (size_t j = 0; j < in.size(); ++j) {
        const int e = ends(rng);
        const int c = cluster == 0 ? few(rng) : cluster == 1 ? e : 255 - e;
        in[j] = static_cast<uint8_t>(j % 3 ? c : d(rng));
      }
      for (int64_t rank : {int64_t{0}, int64_t{1}, kh * kw / 2, kh * kw - 2, kh * kw - 1}) {
        if (rank < 0 || rank >= kh * kw) continue;
        std::vector<uint8_t> want(count), got(count);
        table_scalar.u8_rank_hist(in.data(), row, kh, kw, rank, count, want.data());
        t.u8_rank_hist(in.data(), row, kh, kw, rank, count, got.data());
        ASSERT_EQ(want, got) << isa_name(isa) << " " << kh << "x" << kw << " rank " << rank;
      }
    }
  }
}

// 16-bit values spread over every bucket, clustered in one, and two far-apart clusters (the
// answer jumps across many buckets); the histogram must come back zero.
void check_rank_hist16(const Table& t, Isa isa, std::mt19937& rng) {
  std::vector<int32_t> work(kRankHist16Work, 0);
  for (int spread = 0; spread < 3; ++spread) {
    for (int64_t kh : {1, 3, 7}) {
      for (int64_t kw : {1, 5, 9}) {
        const int64_t count = 61, row = count + kw + 2;
        std::vector<uint16_t> in(static_cast<size_t>(row * kh));
        std::uniform_int_distribution<int> all(0, 65535), near(1000, 1003), coin(0, 1);
        for (auto& v : in)
          v = static_cast<uint16_t>(spread == 0 ? all(rng)
                                    : spread == 1
                                        ? near(rng)
                                        : (coin(rng) ? 65000 + near(rng) % 4 : near(rng)));
        for (int64_t rank : {int64_t{0}, kh * kw / 2, kh * kw - 1}) {
          std::vector<uint16_t> want(count), got(count);
          table_scalar.u16_rank_hist(in.data(), row, kh, kw, rank, count, want.data(), nullptr);
          t.u16_rank_hist(in.data(), row, kh, kw, rank, count, got.data(), work.data());
          ASSERT_EQ(want, got) << isa_name(isa) << " " << kh << "x" << kw << " rank " << rank;
          for (int32_t w : work) ASSERT_EQ(w, 0);
        }
      }
    }
  }
}

template <class T>
RankTileFn<T> rank_tile_of(const Table& t) {
  if constexpr (std::is_same_v<T, float>) return t.f32_rank_tile;
  if constexpr (std::is_same_v<T, double>) return t.f64_rank_tile;
  if constexpr (std::is_same_v<T, int32_t>) return t.i32_rank_tile;
  if constexpr (std::is_same_v<T, uint16_t>) return t.u16_rank_tile;
  if constexpr (std::is_same_v<T, uint8_t>) return t.u8_rank_tile;
}

// The runs (rank.h's rank_tile) of a kh x kw footprint, C order.
std::vector<int64_t> runs_of(const std::vector<bool>& fp, int64_t kh, int64_t kw) {
  std::vector<int64_t> runs;
  for (int64_t r = 0; r < kh; ++r)
    for (int64_t c = 0; c < kw; ++c)
      if (fp[static_cast<size_t>(r * kw + c)] &&
          (c == 0 || !fp[static_cast<size_t>(r * kw + c - 1)])) {
        int64_t e = c;
        while (e < kw && fp[static_cast<size_t>(r * kw + e)]) ++e;
        runs.insert(runs.end(), {r, c, e});
      }
  return runs;
}

// One rank_tile call against the reference, value for value (an answer between equal zeros may
// take either sign, rank.h), with guards around the outputs left alone, and the window's bits
// back to zero. `fp`: the footprint (empty: the whole box). `in`: a square of `side`; the call
// reads it row by row, or with `transposed` column by column (in_step 1, in_col side), and
// writes its outputs the same way.
template <class T>
void check_tile_case(const Table& t, Isa isa, const std::vector<T>& in, int64_t side, int64_t kh,
                     int64_t kw, std::vector<bool> fp, int64_t rank, int64_t rows, int64_t count,
                     std::vector<unsigned char>& work, bool transposed = false) {
  if (fp.empty()) fp.assign(static_cast<size_t>(kh * kw), true);
  const std::vector<int64_t> runs = runs_of(fp, kh, kw);
  const auto nruns = static_cast<int64_t>(runs.size() / 3);
  const int64_t out_side = std::max(rows, count) + 3;
  const int64_t in_step = transposed ? 1 : side, in_col = transposed ? side : 1;
  const int64_t out_step = transposed ? 1 : out_side, out_col = transposed ? out_side : 1;
  const T guard = static_cast<T>(77);
  std::vector<T> want(static_cast<size_t>(out_side * out_side), guard), got = want;
  rank_tile_of<T>(table_scalar)(in.data(), in_step, in_col, runs.data(), nruns, kh, kw, rank, rows,
                                count, want.data(), out_step, out_col, nullptr);
  rank_tile_of<T>(t)(in.data(), in_step, in_col, runs.data(), nruns, kh, kw, rank, rows, count,
                     got.data(), out_step, out_col, work.data());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_TRUE(same_value(want[i], got[i]))
        << isa_name(isa) << " " << kh << "x" << kw << " (" << nruns << " runs) rank " << rank
        << " rows " << rows << " count " << count << (transposed ? " transposed" : "") << " at "
        << i << ": " << +want[i] << " vs " << +got[i];
  for (size_t j = 0; j < kRankTileZero; ++j) ASSERT_EQ(work[j], 0) << j;
}

// Boxes from 1 x 1 to 9 x 11, whole or random footprints (holes, several runs a row, empty
// rows), over values with NaN, infinities, signed zeros and ties; tiles of the most values a
// call takes (distinct, so the places reach 2^15 - 1; and one value repeated, every radix pass
// skipped, places tied); 8-byte keys that differ only in their low bits.
template <class T>
void check_rank_tile(const Table& t, Isa isa, std::mt19937& rng) {
  std::vector<unsigned char> work(rank_tile_work_bytes(sizeof(T), 4096) + 64, 0);
  std::bernoulli_distribution cell(0.6);
  for (int64_t kh : {1, 2, 4, 9}) {
    for (int64_t kw : {1, 3, 8, 11}) {
      for (int64_t rows : {1, 5}) {
        for (int64_t count : {1, 6, 37}) {
          const int64_t side = std::max(count + kw, rows + kh) + 2;
          const std::vector<T> in =
              values<T>(static_cast<size_t>(side * side), rng, count == 6 ? 0.05 : 0);
          std::vector<bool> fp(static_cast<size_t>(kh * kw));
          for (size_t j = 0; j < fp.size(); ++j) fp[j] = cell(rng);
          fp[static_cast<size_t>(kh * kw / 2)] = true;
          const auto nf = static_cast<int64_t>(std::count(fp.begin(), fp.end(), true));
          for (int64_t rank : {int64_t{0}, kh * kw / 2, kh * kw - 1})
            check_tile_case<T>(t, isa, in, side, kh, kw, {}, rank, rows, count, work);
          for (int64_t rank : {int64_t{0}, nf / 2, nf - 1})
            for (bool transposed : {false, true})
              check_tile_case<T>(t, isa, in, side, kh, kw, fp, rank, rows, count, work, transposed);
        }
      }
    }
  }
  {
    const int64_t kh = 5, kw = 7, rows = 128 - kh + 1, count = 256 - kw + 1;
    static_assert(kRankTileValues == 128 * 256, "the full tile below");
    std::vector<T> in(256 * 256);
    for (size_t i = 0; i < in.size(); ++i)  // distinct within the tile, in a scrambled order
      in[i] = static_cast<T>(static_cast<int64_t>((i * 7919) % 32768) - 1000);
    check_tile_case<T>(t, isa, in, 256, kh, kw, {}, 17, rows, count, work);
    std::fill(in.begin(), in.end(), static_cast<T>(3));
    check_tile_case<T>(t, isa, in, 256, kh, kw, {}, 17, rows, count, work);
  }
  if constexpr (std::is_same_v<T, double>) {
    std::vector<T> in(45 * 45);
    std::uniform_int_distribution<int> d(0, 1 << 20);
    for (auto& x : in) x = 1.0 + d(rng) * 0x1p-52;
    check_tile_case<T>(t, isa, in, 45, 6, 6, {}, 10, 25, 35, work);
  }
}

TEST_P(RankIsa, MatchesReference) {
  const Table& t = *kernels<Table>(GetParam());
  std::mt19937 rng(1234);
  check_minmax<float>(t, GetParam(), rng);
  check_minmax<double>(t, GetParam(), rng);
  check_minmax<uint8_t>(t, GetParam(), rng);
  check_minmax<uint16_t>(t, GetParam(), rng);
  check_minmax<int32_t>(t, GetParam(), rng);
  check_minmax_line<float>(t, GetParam(), rng);
  check_minmax_line<double>(t, GetParam(), rng);
  check_minmax_line<uint8_t>(t, GetParam(), rng);
  check_minmax_line<uint16_t>(t, GetParam(), rng);
  check_minmax_line<int32_t>(t, GetParam(), rng);
  check_minmax_rows<float>(t, GetParam(), rng);
  check_minmax_rows<double>(t, GetParam(), rng);
  check_minmax_rows<uint8_t>(t, GetParam(), rng);
  check_minmax_rows<uint16_t>(t, GetParam(), rng);
  check_minmax_rows<int32_t>(t, GetParam(), rng);
  check_minmax_2d<float>(t, GetParam(), rng);
  check_minmax_2d<double>(t, GetParam(), rng);
  check_minmax_2d<uint8_t>(t, GetParam(), rng);
  check_minmax_2d<uint16_t>(t, GetParam(), rng);
  check_minmax_2d<int32_t>(t, GetParam(), rng);
  check_minmax_2d_pair<float>(t, GetParam(), rng);
  check_minmax_2d_pair<double>(t, GetParam(), rng);
  check_minmax_2d_pair<uint8_t>(t, GetParam(), rng);
  check_minmax_2d_pair<uint16_t>(t, GetParam(), rng);
  check_minmax_2d_pair<int32_t>(t, GetParam(), rng);
  check_nets<float>(t, GetParam(), rng);
  check_nets<double>(t, GetParam(), rng);
  check_nets<uint8_t>(t, GetParam(), rng);
  check_nets<uint16_t>(t, GetParam(), rng);
  check_nets<int32_t>(t, GetParam(), rng);
  check_rank_hist(t, GetParam(), rng);
  if (GetParam() != Isa::scalar) check_rank_hist16(t, GetParam(), rng);
  if (GetParam() != Isa::scalar) {  // the scalar kernels are the reference
    check_rank_tile<float>(t, GetParam(), rng);
    check_rank_tile<double>(t, GetParam(), rng);
    check_rank_tile<int32_t>(t, GetParam(), rng);
    check_rank_tile<uint16_t>(t, GetParam(), rng);
    check_rank_tile<uint8_t>(t, GetParam(), rng);
  }
}

INSTANTIATE_TEST_SUITE_P(All, RankIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace rank
}  // namespace npfast
