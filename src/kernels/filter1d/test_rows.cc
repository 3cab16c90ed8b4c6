// corr1d_rows (rows.h): corr1d's contract with several output rows per load, so every ISA's
// kernel must give the reference's bits (corr1d_ref) for any block of rows, including the
// partial row blocks (n not a multiple of 8 or 4) and lane tails, and input rows at one offset
// into a 64-byte line (`common`: a pitch of whole lines; the kernel does the lanes before the
// first whole line apart).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "src/kernels/filter1d/filter1d.h"

namespace npfast {
namespace filter1d {
namespace {

template <class T>
void check_rows(Isa isa) {
  const Table& ref = *kernels<Table>(Isa::scalar);
  const Table& t = *kernels<Table>(isa);
  const Corr1dFn<T> k = of<T>(t.f32_corr1d_rows, t.f64_corr1d_rows),
                    kr = of<T>(ref.f32_corr1d, ref.f64_corr1d);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> dist(-2.0, 2.0);
  for (int64_t size : {1, 2, 3, 4, 5, 9, 17, 25}) {
    for (int kind : {0, 1, -1}) {
      std::vector<T> w(size);
      for (auto& v : w) v = static_cast<T>(dist(rng));
      const int64_t c = size / 2;
      if (size & 1)
        for (int64_t i = 1; i <= c; ++i)
          w[c + i] = kind == 1 ? w[c - i] : kind == -1 ? -w[c - i] : w[c + i];
      const int sym = (size & 1) ? kind : 0;
      for (int64_t lanes : {1, 7, 16, 17, 33, 64, 70}) {
        for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 23})
          for (bool common : {false, true}) {
            const int64_t rows = n + size - 1;
            constexpr int64_t E = 64 / sizeof(T);
            const int64_t pitch = common ? (lanes + E - 1) / E * E : lanes;
            const int64_t off = common ? (n + size) % E : 0;
            std::vector<T> in(rows * pitch + 2 * E);
            for (auto& v : in) v = static_cast<T>(dist(rng));
            T* base = in.data() + (E - reinterpret_cast<uintptr_t>(in.data()) % 64 / sizeof(T)) % E;
            std::vector<T> got(n * lanes + 1, T(-777)), want(n * lanes);
            std::vector<const T*> ir(rows);
            std::vector<T*> go(n), wo(n);
            // Rows in reverse memory order: the kernel must follow the pointers.
            for (int64_t r = 0; r < rows; ++r) ir[r] = base + off + (rows - 1 - r) * pitch;
            for (int64_t i = 0; i < n; ++i) {
              go[i] = got.data() + i * lanes;
              wo[i] = want.data() + i * lanes;
            }
            k(ir.data(), go.data(), n, lanes, w.data(), size, sym);
            kr(ir.data(), wo.data(), n, lanes, w.data(), size, sym);
            ASSERT_EQ(got[n * lanes], T(-777)) << "wrote past the block";
            ASSERT_EQ(0, std::memcmp(got.data(), want.data(), n * lanes * sizeof(T)))
                << isa_name(isa) << " size=" << size << " kind=" << kind << " lanes=" << lanes
                << " n=" << n << " common=" << common;
          }
      }
    }
  }
}

class Filter1dRowsIsa : public ::testing::TestWithParam<Isa> {};

TEST_P(Filter1dRowsIsa, RowsMatchReferenceBitwise) {
  check_rows<float>(GetParam());
  check_rows<double>(GetParam());
}

INSTANTIATE_TEST_SUITE_P(All, Filter1dRowsIsa, ::testing::ValuesIn(kernel_isas<Table>()),
                         [](const auto& info) { return std::string(isa_name(info.param)); });

}  // namespace
}  // namespace filter1d
}  // namespace npfast
