// Every registered convert kernel against the scalar reference, bit for bit, on sizes around
// the vector widths and on values that exercise rounding and saturation.
#include <gtest/gtest.h>

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

bool supported(Isa isa) {
  for (Isa i : isas_available())
    if (i == isa) return true;
  return false;
}

template <class T>
std::vector<T> random_values(size_t n, std::mt19937& rng) {
  std::vector<T> v(n);
  if constexpr (std::is_floating_point_v<T>) {
    std::uniform_real_distribution<double> d(-400.0, 400.0);
    for (auto& x : v) x = static_cast<T>(d(rng));
    // Halfway cases, saturation, NaN and inf.
    const T specials[] = {T(0.5), T(1.5), T(2.5), T(-0.5), T(254.5), T(255.5), T(-1e30),
                          std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
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
    ConvertFn k = convert_kernel(isa, src, dst);
    ConvertFn ref = convert_kernel(Isa::scalar, src, dst);
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
  if (!supported(isa)) GTEST_SKIP() << "CPU lacks " << isa_name(isa);
  check_source<uint8_t>(isa, DType::u8);
  check_source<int8_t>(isa, DType::i8);
  check_source<uint16_t>(isa, DType::u16);
  check_source<int16_t>(isa, DType::i16);
  check_source<int32_t>(isa, DType::i32);
  check_source<int64_t>(isa, DType::i64);
  check_source<float>(isa, DType::f32);
  check_source<double>(isa, DType::f64);
}

INSTANTIATE_TEST_SUITE_P(All, ConvertIsa, ::testing::Values(Isa::scalar, Isa::avx2, Isa::avx512),
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
