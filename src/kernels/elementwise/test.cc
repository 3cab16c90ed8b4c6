// Every registered convert kernel against the scalar reference, bit for bit, on sizes around
// the vector widths and on values that exercise rounding and saturation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/elementwise.hpp"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace elementwise {
namespace {

template <class T>
std::vector<T> random_values(size_t n, std::mt19937& rng) {
  std::vector<T> v(n);
  if constexpr (std::is_floating_point_v<T>) {
    std::uniform_real_distribution<double> d(-400.0, 400.0);
    for (auto& x : v) x = static_cast<T>(d(rng));
    // Halfway cases, saturation, NaN and inf.
    const T specials[] = {T(0.5),
                          T(1.5),
                          T(2.5),
                          T(-0.5),
                          T(254.5),
                          T(255.5),
                          T(-1e30),
                          std::numeric_limits<T>::quiet_NaN(),
                          std::numeric_limits<T>::infinity(),
                          -std::numeric_limits<T>::infinity()};
    for (size_t i = 0; i < n && i < std::size(specials); ++i) v[i * 7 % n] = specials[i];
  } else {
    std::uniform_int_distribution<int64_t> d(std::numeric_limits<T>::min(),
                                             std::numeric_limits<T>::max());
    for (auto& x : v) x = static_cast<T>(d(rng));
  }
  return v;
}

template <class Src>
void check_source(Isa isa, DType src) {
  std::mt19937 rng(42);
  for (DType dst : kConvertDests) {
    ConvertFn k = convert_kernel(*kernels<Table>(isa), src, dst);
    ConvertFn ref = convert_kernel(*kernels<Table>(Isa::scalar), src, dst);
    ASSERT_NE(k, nullptr);
    for (size_t n : {0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 100, 1001}) {
      auto x = random_values<Src>(n + 3, rng);
      const size_t w = itemsize(dst);
      std::vector<unsigned char> got((n + 3) * w, 0xcd), want((n + 3) * w, 0xcd);
      // Offset by one element: kernels must not assume alignment.
      k(static_cast<int64_t>(n), x.data() + 1, got.data() + w, 0.75, -3.25);
      ref(static_cast<int64_t>(n), x.data() + 1, want.data() + w, 0.75, -3.25);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size()), 0)
          << isa_name(isa) << " " << dtype_name(src) << "->" << dtype_name(dst) << " n=" << n;
    }
  }
}

class ConvertIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(ConvertIsa, MatchesReference) {
  const Isa isa = GetParam();
  if (isa == Isa::scalar) return;  // the reference itself: HandComputedCases checks it
  check_source<uint8_t>(isa, DType::u8);
  check_source<int8_t>(isa, DType::i8);
  check_source<uint16_t>(isa, DType::u16);
  check_source<int16_t>(isa, DType::i16);
  check_source<int32_t>(isa, DType::i32);
  check_source<int64_t>(isa, DType::i64);
  check_source<float>(isa, DType::f32);
  check_source<double>(isa, DType::f64);
}

template <class Src>
void check_stream_source(Isa isa, DType src) {
  // Non-temporal stores need aligned addresses: start y at every offset within a line.
  std::mt19937 rng(3);
  auto x = random_values<Src>(700, rng);
  for (DType dst : kConvertDests) {
    const size_t w = itemsize(dst);
    ConvertFn k = convert_kernel(*kernels<Table>(isa), src, dst, true),
              ref = convert_kernel(*kernels<Table>(Isa::scalar), src, dst);
    ASSERT_NE(k, nullptr);
    for (int64_t n : {0, 1, 5, 16, 17, 64, 200, 613}) {
      for (size_t off = 0; off < 64; off += w) {
        alignas(64) unsigned char got[700 * 8 + 128], want[700 * 8 + 128];
        std::memset(got, 0xcd, sizeof got);
        std::memset(want, 0xcd, sizeof want);
        k(n, x.data() + 1, got + off, 0.3, -7.0);
        ref(n, x.data() + 1, want + off, 0.3, -7.0);
        ASSERT_EQ(std::memcmp(got, want, sizeof got), 0)
            << isa_name(isa) << " " << dtype_name(src) << "->" << dtype_name(dst) << " n=" << n
            << " off=" << off;
      }
    }
  }
}

TEST_P(ConvertIsa, StreamingMatchesReference) {
  const Isa isa = GetParam();
  if (isa == Isa::scalar) return;  // the reference itself: HandComputedCases checks it
  check_stream_source<uint8_t>(isa, DType::u8);
  check_stream_source<int8_t>(isa, DType::i8);
  check_stream_source<uint16_t>(isa, DType::u16);
  check_stream_source<int16_t>(isa, DType::i16);
  check_stream_source<int32_t>(isa, DType::i32);
  check_stream_source<int64_t>(isa, DType::i64);
  check_stream_source<float>(isa, DType::f32);
  check_stream_source<double>(isa, DType::f64);
}

TEST_P(ConvertIsa, NormalizeMatchesReference) {
  const Isa isa = GetParam();
  if (isa == Isa::scalar) return;  // the reference itself: HandComputedCases checks it
  std::mt19937 rng(5);
  auto x = random_values<uint8_t>(1000, rng);
  for (DType dst : {DType::f32, DType::f64}) {
    NormalizeFn k = normalize_kernel(*kernels<Table>(isa), dst),
                ref = normalize_kernel(*kernels<Table>(Isa::scalar), dst);
    ASSERT_NE(k, nullptr);
    const size_t w = itemsize(dst);
    for (int64_t C : {1, 2, 3, 4, 5, 7, 8, 9, 16}) {
      std::vector<double> s(static_cast<size_t>(C + 8)), o(static_cast<size_t>(C + 8));
      for (int64_t j = 0; j < C + 8; ++j) {
        s[static_cast<size_t>(j)] = 1.0 / (255.0 * (0.2 + 0.05 * double(j % C)));
        o[static_cast<size_t>(j)] = -(0.4 + 0.01 * double(j % C)) / (0.2 + 0.05 * double(j % C));
      }
      for (int64_t n : {0, 1, 3, 4, 8, 13, 31, 64, 255, 999}) {
        for (int64_t phase = 0; phase < C; phase += 1 + C / 3) {
          for (bool stream : {false, true}) {
            for (size_t off : {size_t{0}, w, 5 * w}) {
              alignas(64) unsigned char got[1000 * 8 + 64], want[1000 * 8 + 64];
              std::memset(got, 0xcd, sizeof got);
              std::memset(want, 0xcd, sizeof want);
              k(n, x.data() + 1, got + off, s.data(), o.data(), C, phase, stream);
              ref(n, x.data() + 1, want + off, s.data(), o.data(), C, phase, false);
              ASSERT_EQ(std::memcmp(got, want, sizeof got), 0)
                  << isa_name(isa) << " " << dtype_name(dst) << " C=" << C << " n=" << n
                  << " phase=" << phase << " stream=" << stream << " off=" << off;
            }
          }
        }
      }
    }
  }
}

TEST_P(ConvertIsa, GatherMatchesReference) {
  const Isa isa = GetParam();
  if (isa == Isa::scalar) return;  // the reference itself: HandComputedCases checks it
  std::mt19937 rng(8);
  for (DType dst : {DType::f32, DType::f64}) {
    GatherFn k = gather_kernel(*kernels<Table>(isa), dst),
             ref = gather_kernel(*kernels<Table>(Isa::scalar), dst);
    ASSERT_NE(k, nullptr);
    const size_t w = itemsize(dst);
    for (int64_t sx : {2, 3, 4, 5, 16}) {
      for (int64_t n : {0, 1, 3, 8, 11, 19, 20, 64, 301}) {
        // The source ends exactly at its last element, so an over-read would be caught by ASan.
        std::vector<uint8_t> x(static_cast<size_t>(n > 0 ? (n - 1) * sx + 1 : 0));
        for (auto& v : x) v = static_cast<uint8_t>(rng());
        for (bool stream : {false, true}) {
          for (size_t off : {size_t{0}, w * 3}) {
            alignas(64) unsigned char got[301 * 8 + 64], want[301 * 8 + 64];
            std::memset(got, 0xcd, sizeof got);
            std::memset(want, 0xcd, sizeof want);
            k(n, x.data(), sx, got + off, 0.7, -3.5, stream);
            ref(n, x.data(), sx, want + off, 0.7, -3.5, false);
            ASSERT_EQ(std::memcmp(got, want, sizeof got), 0)
                << isa_name(isa) << " " << dtype_name(dst) << " sx=" << sx << " n=" << n
                << " stream=" << stream;
          }
        }
      }
    }
  }
}

TEST_P(ConvertIsa, ZeroStreamClearsExactlyTheRange) {
  const Isa isa = GetParam();
  ZeroFn k = kernels<Table>(isa)->x8_zero_stream;
  ASSERT_NE(k, nullptr);
  alignas(64) unsigned char buf[4096 + 256];
  for (size_t off : {size_t{0}, size_t{1}, size_t{31}, size_t{64}, size_t{100}}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{255},
                     size_t{256}, size_t{1000}, size_t{4096}}) {
      std::memset(buf, 0xee, sizeof buf);
      k(n, buf + off);
      for (size_t i = 0; i < sizeof buf; ++i)
        ASSERT_EQ(buf[i], (i >= off && i < off + n) ? 0 : 0xee)
            << "off=" << off << " n=" << n << " i=" << i;
    }
  }
}

// The trunc kernels against the reference on random doubles across every destination's range
// and past int32's, with the edges of the truncation and of int32 among them; each output at
// offsets 0-3 bytes past an aligned start, the bytes around it untouched.
TEST_P(ConvertIsa, TruncMatchesReference) {
  const Isa isa = GetParam();
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> wide(-5e9, 5e9), near(-70000.0, 70000.0);
  const double specials[] = {-0.0,
                             0.999,
                             -0.999,
                             255.9,
                             256.0,
                             -1.0,
                             -128.5,
                             32767.9,
                             65536.5,
                             2147483647.9,
                             2147483648.0,
                             -2147483648.9,
                             -2147483649.0,
                             1e300,
                             std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  std::vector<double> x(1100);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 3 == 0 ? wide(rng) : near(rng);
  for (size_t i = 0; i < std::size(specials); ++i) x[i * 37 + 5] = specials[i];
  for (DType dst : kTruncDests) {
    const TruncFn k = trunc_kernel(*kernels<Table>(isa), dst);
    const TruncFn ref = trunc_kernel(*kernels<Table>(Isa::scalar), dst);
    ASSERT_NE(k, nullptr);
    const size_t w = itemsize(dst);
    for (int64_t n : {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 33, 1000}) {
      for (size_t off = 0; off < 4; ++off) {
        std::vector<unsigned char> got(1100 * 4 + 16, 0xcd), want(got);
        k(n, x.data() + 1, got.data() + off);
        ref(n, x.data() + 1, want.data() + off);
        ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size()), 0)
            << isa_name(isa) << " f64->" << dtype_name(dst) << " n=" << n << " off=" << off
            << " w=" << w;
      }
    }
  }
}

// The reference's casts by hand: truncation toward zero, wrapping to the low bits, INT32_MIN's
// low bits for NaN and anything outside int32.
TEST_P(ConvertIsa, TruncHandComputedCases) {
  const Table& t = *kernels<Table>(GetParam());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double x[10] = {2.9, -2.9, 255.5, 256.0, -1.0, 65537.0, 3e9, nan, -2147483648.5, 70000.2};
  uint8_t u8[10];
  int16_t i16[10];
  int32_t i32[10];
  trunc_kernel(t, DType::u8)(10, x, u8);
  trunc_kernel(t, DType::i16)(10, x, i16);
  trunc_kernel(t, DType::i32)(10, x, i32);
  const uint8_t want8[10] = {2, 254, 255, 0, 255, 1, 0, 0, 0, 112};
  const int16_t want16[10] = {2, -2, 255, 256, -1, 1, 0, 0, 0, 4464};
  const int32_t want32[10] = {2, -2, 255, 256, -1, 65537, INT32_MIN, INT32_MIN, INT32_MIN, 70000};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(u8[i], want8[i]) << i;
    EXPECT_EQ(i16[i], want16[i]) << i;
    EXPECT_EQ(i32[i], want32[i]) << i;
  }
}

TEST_P(ConvertIsa, CopyStreamCopiesExactlyTheRange) {
  const Isa isa = GetParam();
  CopyFn k = kernels<Table>(isa)->x8_copy_stream;
  ASSERT_NE(k, nullptr);
  alignas(64) unsigned char src[4096 + 256], buf[4096 + 256];
  for (size_t i = 0; i < sizeof src; ++i) src[i] = static_cast<unsigned char>(i * 7 + 3);
  for (size_t off : {size_t{0}, size_t{1}, size_t{31}, size_t{64}, size_t{100}}) {
    for (size_t from : {size_t{0}, size_t{5}, size_t{64}}) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{255},
                       size_t{256}, size_t{257}, size_t{1000}, size_t{4096}}) {
        std::memset(buf, 0xee, sizeof buf);
        k(n, src + from, buf + off);
        elementwise::stream_fence();
        for (size_t i = 0; i < sizeof buf; ++i)
          ASSERT_EQ(buf[i], (i >= off && i < off + n) ? src[from + i - off] : 0xee)
              << "off=" << off << " from=" << from << " n=" << n << " i=" << i;
      }
    }
  }
}

// Values worked out by hand, on every ISA (the only check of the scalar reference itself):
// rounding half to even, saturation and NaN -> 0 for uint8, the affine map, the per-channel
// normalize with a phase, the strided gather.
TEST_P(ConvertIsa, HandComputedCases) {
  const Table& t = *kernels<Table>(GetParam());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double x[7] = {0.5, 1.5, 2.5, -3, 300, nan, 254.5};
  uint8_t u[7];
  convert_kernel(t, DType::f64, DType::u8)(7, x, u, 1.0, 0.0);
  const uint8_t want_u[7] = {0, 2, 2, 0, 255, 0, 254};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(u[i], want_u[i]) << i;
  const uint8_t b[3] = {0, 1, 255};
  float f[3];
  convert_kernel(t, DType::u8, DType::f32)(3, b, f, 0.5, 1.0);
  EXPECT_EQ(f[0], 1.0f);
  EXPECT_EQ(f[1], 1.5f);
  EXPECT_EQ(f[2], 128.5f);
  // Two channels, starting at channel 1: scale/offset tables carry 8 spare entries.
  const double scale[10] = {2, 10, 2, 10, 2, 10, 2, 10, 2, 10};
  const double offset[10] = {1, -1, 1, -1, 1, -1, 1, -1, 1, -1};
  const uint8_t px[4] = {1, 2, 3, 4};
  double y[4];
  normalize_kernel(t, DType::f64)(4, px, y, scale, offset, 2, 1, false);
  EXPECT_EQ(y[0], 9.0);   // channel 1: 1 * 10 - 1
  EXPECT_EQ(y[1], 5.0);   // channel 0: 2 * 2 + 1
  EXPECT_EQ(y[2], 29.0);  // channel 1
  EXPECT_EQ(y[3], 9.0);   // channel 0
  const uint8_t img[7] = {10, 0, 0, 20, 0, 0, 30};
  float g[3];
  gather_kernel(t, DType::f32)(3, img, 3, g, 0.5, 0.0, false);
  EXPECT_EQ(g[0], 5.0f);
  EXPECT_EQ(g[1], 10.0f);
  EXPECT_EQ(g[2], 15.0f);
}

// absmax against a maximum worked out here in double (every ISA, the scalar one included):
// sizes around the vector widths and the 4-vector step, offsets, and one special value
// (NaN, +-inf: a NaN back; the dtype's largest, a negative largest) at every position of the
// short ones.
template <class T>
void check_absmax(Isa isa) {
  const AbsMaxFn<T> k = of<T>(kernels<Table>(isa)->f32_absmax, kernels<Table>(isa)->f64_absmax);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> d(-100.0, 100.0);
  std::vector<T> x(300);
  for (auto& v : x) v = static_cast<T>(d(rng));
  const T inf = std::numeric_limits<T>::infinity(), big = std::numeric_limits<T>::max();
  const T specials[] = {std::numeric_limits<T>::quiet_NaN(), inf, -inf, big, -big, T(-1000)};
  for (int64_t n : {0, 1, 2, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 129, 257}) {
    for (int64_t off : {0, 1, 3}) {
      const T* p = x.data() + off;
      double want = 0;
      for (int64_t i = 0; i < n; ++i) want = std::max(want, std::fabs(double(p[i])));
      ASSERT_EQ(double(k(n, p)), want) << isa_name(isa) << " n=" << n << " off=" << off;
      if (n > 70) continue;
      for (T s : specials)
        for (int64_t at = 0; at < n; ++at) {
          std::vector<T> y(p, p + n);
          y[static_cast<size_t>(at)] = s;
          const T got = k(n, y.data());
          if (!std::isfinite(s))
            ASSERT_TRUE(std::isnan(got)) << isa_name(isa) << " n=" << n << " at=" << at;
          else
            ASSERT_EQ(double(got), std::max(want, std::fabs(double(s))))
                << isa_name(isa) << " n=" << n << " at=" << at << " s=" << double(s);
        }
    }
  }
  // An infinity with the largest finite value past it.
  std::vector<T> y(40, T(1));
  y[3] = -inf;
  y[37] = big;
  ASSERT_TRUE(std::isnan(k(40, y.data()))) << isa_name(isa);
}

TEST_P(ConvertIsa, AbsMaxMatchesDouble) {
  check_absmax<float>(GetParam());
  check_absmax<double>(GetParam());
}

// finite against std::isfinite over every element (every ISA, the scalar one included): row
// counts 0-3, widths around the vector widths and the 4-vector step, odd offsets, and one
// special value (NaN, +-inf false; the dtype's largest, the least subnormal, -0 true) at every
// position of every row of the short ones.
template <class T>
void check_finite(Isa isa) {
  const FiniteFn<T> k = of<T>(kernels<Table>(isa)->f32_finite, kernels<Table>(isa)->f64_finite);
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> d(-100.0, 100.0);
  std::vector<T> x(3 * 300);
  for (auto& v : x) v = static_cast<T>(d(rng));
  using lim = std::numeric_limits<T>;
  const T specials[] = {lim::quiet_NaN(), lim::infinity(),   -lim::infinity(),
                        lim::max(),       lim::denorm_min(), T(-0.0)};
  for (int64_t rows : {0, 1, 3})
    for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 129, 257})
      for (int64_t off : {0, 1, 3}) {
        std::vector<T> y(x);
        const T* ptr[3] = {y.data() + off, y.data() + 300 + off, y.data() + 600};
        ASSERT_TRUE(k(rows, n, ptr)) << isa_name(isa) << " rows=" << rows << " n=" << n;
        if (n > 70) continue;
        for (int64_t r = 0; r < rows; ++r)
          for (T s : specials)
            for (int64_t at = 0; at < n; ++at) {
              T* cell = const_cast<T*>(ptr[r]) + at;
              const T keep = *cell;
              *cell = s;
              ASSERT_EQ(k(rows, n, ptr), bool(std::isfinite(s)))
                  << isa_name(isa) << " rows=" << rows << " n=" << n << " r=" << r << " at=" << at
                  << " s=" << double(s);
              *cell = keep;
            }
      }
  // A NaN one past the end of each row is not read.
  std::vector<T> y(40, T(1));
  y[17] = lim::quiet_NaN();
  const T* ptr[2] = {y.data(), y.data() + 18};
  ASSERT_TRUE(k(2, 17, ptr)) << isa_name(isa);
}

TEST_P(ConvertIsa, FiniteMatchesIsFinite) {
  check_finite<float>(GetParam());
  check_finite<double>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, ConvertIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

TEST(ConvertOp, RejectsBadInput) {
  float x[4] = {1, 2, 3, 4};
  double y[4] = {};
  View vx, vy;
  vx.data = x;
  vx.dtype = DType::f32;
  vx.ndim = 1;
  vx.shape[0] = 4;
  vx.strides[0] = 4;
  vy = vx;
  vy.data = y;
  vy.dtype = DType::f64;
  vy.strides[0] = 8;
  vy.shape[0] = 3;
  EXPECT_THROW(convert(vx, vy, 1, 0), ValueError);
  vy.shape[0] = 4;
  vy.dtype = DType::i32;
  EXPECT_THROW(convert(vx, vy, 1, 0), TypeError);
  for (double v : y) EXPECT_EQ(v, 0.0);
}

TEST(ConvertOp, StridedMatchesContiguous) {
  // A transposed 2-d view converts element by element like its contiguous copy.
  std::vector<float> x(6 * 5);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.5f;
  std::vector<double> y(5 * 6);
  View vx, vy;
  vx.data = x.data();
  vx.dtype = DType::f32;
  vx.ndim = 2;
  vx.shape[0] = 5;
  vx.shape[1] = 6;
  vx.strides[0] = 4;
  vx.strides[1] = 5 * 4;  // transpose of a (6, 5) array
  vy.data = y.data();
  vy.dtype = DType::f64;
  vy.ndim = 2;
  vy.shape[0] = 5;
  vy.shape[1] = 6;
  vy.strides[0] = 6 * 8;
  vy.strides[1] = 8;
  convert(vx, vy, 2.0, 1.0);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 6; ++j) EXPECT_EQ(y[i * 6 + j], x[j * 5 + i] * 2.0 + 1.0);
}

}  // namespace
}  // namespace elementwise
}  // namespace npfast

namespace npfast {
namespace elementwise {
namespace {

View make_view(void* data, DType t, std::initializer_list<int64_t> shape) {
  View v;
  v.data = data;
  v.dtype = t;
  v.ndim = static_cast<int>(shape.size());
  int i = 0;
  for (int64_t d : shape) v.shape[i++] = d;
  int64_t stride = static_cast<int64_t>(itemsize(t));
  for (int k = v.ndim - 1; k >= 0; --k) {
    v.strides[k] = stride;
    stride *= v.shape[k];
  }
  return v;
}

TEST(NormalizeOp, HwcAndChwAgreeWithTheFormula) {
  const int64_t H = 7, W = 19, C = 3;
  std::vector<uint8_t> img(static_cast<size_t>(H * W * C));
  std::mt19937 rng(9);
  for (auto& v : img) v = static_cast<uint8_t>(rng());
  const double mean[3] = {0.485, 0.456, 0.406}, sd[3] = {0.229, 0.224, 0.225};
  std::vector<float> hwc(img.size()), chw(img.size());
  View x = make_view(img.data(), DType::u8, {H, W, C});
  normalize(x, make_view(hwc.data(), DType::f32, {H, W, C}), mean, sd, 3, -1, false);
  normalize(x, make_view(chw.data(), DType::f32, {C, H, W}), mean, sd, 3, 2, true);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w)
      for (int64_t c = 0; c < C; ++c) {
        const double exact =
            (img[static_cast<size_t>((h * W + w) * C + c)] / 255.0 - mean[c]) / sd[c];
        const float a = hwc[static_cast<size_t>((h * W + w) * C + c)];
        const float b = chw[static_cast<size_t>((c * H + h) * W + w)];
        EXPECT_EQ(a, b);
        EXPECT_NEAR(a, exact, 1e-6 * (1 + std::abs(exact)));
      }
}

TEST(NormalizeOp, RejectsBeforeWriting) {
  uint8_t img[2 * 3 * 3] = {};
  float out[2 * 3 * 3];
  for (float& v : out) v = -1;
  const double mean[3] = {0, 0, 0}, sd[3] = {1, 0, 1}, ok[3] = {1, 1, 1};
  View x = make_view(img, DType::u8, {2, 3, 3});
  View y = make_view(out, DType::f32, {2, 3, 3});
  EXPECT_THROW(normalize(x, y, mean, sd, 3, -1, false), ValueError);  // std 0
  EXPECT_THROW(normalize(x, y, mean, ok, 2, -1, false), ValueError);  // 2 stats, 3 channels
  EXPECT_THROW(normalize(x, y, mean, ok, 3, 3, false), ValueError);   // axis out of range
  EXPECT_THROW(normalize(x, make_view(out, DType::f32, {3, 2, 3}), mean, ok, 3, -1, false),
               ValueError);  // shape
  EXPECT_THROW(normalize(x, make_view(out, DType::i32, {2, 3, 3}), mean, ok, 3, -1, false),
               TypeError);
  EXPECT_THROW(normalize(make_view(out, DType::f32, {2, 3, 3}), y, mean, ok, 3, -1, false),
               TypeError);
  for (float v : out) EXPECT_EQ(v, -1.0f);
}

}  // namespace
}  // namespace elementwise
}  // namespace npfast
