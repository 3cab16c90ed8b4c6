// The pack kernels against their scalar references, bit for bit: every size below, at and
// above the 4x4 / 2x2 register blocks (and the 6-row panel), with strides wider than a row,
// and no element outside the contract written.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "src/kernels/pack/pack.h"

namespace npfast {
namespace pack {
namespace {

// Every element distinct (its index + 0.5), so a misplaced copy shows.
template <class T>
std::vector<T> numbered(size_t n) {
  std::vector<T> v(n);
  std::iota(v.begin(), v.end(), T(0.5));
  return v;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

template <class T>
void check_transpose() {
  for (int64_t rows = 0; rows <= 11; ++rows)
    for (int64_t cols = 0; cols <= 11; ++cols)
      for (int64_t pad : {0, 3}) {
        const int64_t ss = cols + pad, ds = rows + 2 * pad;
        const std::vector<T> s = numbered<T>(static_cast<size_t>(rows * ss + 1));
        // Destination pre-filled with a sentinel: elements outside the contract stay as they are.
        std::vector<T> got(static_cast<size_t>(cols * ds + 1), T(-1)), want = got;
        transpose(s.data(), ss, got.data(), ds, rows, cols);
        transpose_reference(s.data(), ss, want.data(), ds, rows, cols);
        EXPECT_TRUE(same_bits(got, want)) << "rows " << rows << " cols " << cols << " pad " << pad;
      }
}

template <class T>
void check_pack_rows6() {
  for (int64_t kc = 0; kc <= 13; ++kc)
    for (int64_t pad : {0, 5}) {
      const int64_t ld = kc + pad;
      const std::vector<T> x = numbered<T>(static_cast<size_t>(6 * ld + 1));
      std::vector<T> got(static_cast<size_t>(6 * kc + 1), T(-1)), want = got;
      pack_rows6(x.data(), ld, kc, got.data());
      pack_rows6_reference(x.data(), ld, kc, want.data());
      EXPECT_TRUE(same_bits(got, want)) << "kc " << kc << " ld " << ld;
    }
}

TEST(Pack, TransposeF32) { check_transpose<float>(); }
TEST(Pack, TransposeF64) { check_transpose<double>(); }
TEST(Pack, Rows6F32) { check_pack_rows6<float>(); }
TEST(Pack, Rows6F64) { check_pack_rows6<double>(); }

}  // namespace
}  // namespace pack
}  // namespace npfast
