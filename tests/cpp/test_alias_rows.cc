// The rule that sends streamed output rows through a scratch (src/ops/alias_rows.h), on
// synthetic addresses, and the scratch's placement and copy.
#include "src/ops/alias_rows.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace {

// Input at page offset 16 (np.empty's), output D bytes further into its page; a 3-row window
// (above 1, below 1), 4 output rows a call.
bool alias_at(int64_t d, int64_t in_rs, int64_t out_rs) {
  const uintptr_t load = 0x7f0000000010, store = 0x7f4000000010 + static_cast<uintptr_t>(d);
  return ops::streamed_rows_alias(store, out_rs, load, in_rs, 1, 1, 4);
}

TEST(AliasRows, RuleMatchesTheMeasuredDistances) {
  // 2048 float32 wide (whole pages): every row pair at D, slow from 0 to 192 (and -64, 256,
  // 320 counted), fast from 384 and below -128 (docs/ndimage-speed.md "alias26").
  for (int64_t d : {-64, 0, 16, 64, 128, 192, 256, 320}) EXPECT_TRUE(alias_at(d, 8192, 8192)) << d;
  for (int64_t d : {-384, -192, -128, 384, 448, 1024, 2048, 3000})
    EXPECT_FALSE(alias_at(d, 8192, 8192)) << d;
  // 4096 wide: the same, the rows 4 pages apart.
  EXPECT_TRUE(alias_at(64, 16384, 16384));
  EXPECT_FALSE(alias_at(2048, 16384, 16384));
  // 2000 wide (rows 192 bytes apart modulo 4 KiB): ran as fast at every D, never taken.
  for (int64_t d = -512; d < 512; d += 16) EXPECT_FALSE(alias_at(d, 8000, 8000)) << d;
  // 2056 and 2064 wide ran slow from -64 (-128) on: taken there.
  EXPECT_TRUE(alias_at(-64, 8224, 8224));
  EXPECT_TRUE(alias_at(-128, 8256, 8256));
  EXPECT_FALSE(alias_at(1024, 8256, 8256));
}

TEST(AliasRows, ScratchRowsLieHalfAPageFromTheInputAndCopyOutWhole) {
  for (uintptr_t load : {uintptr_t{16}, uintptr_t{2112}, uintptr_t{4080}}) {
    const int64_t row_bytes = 2048 * 4 + 12;
    ops::AliasedRows rows(3, row_bytes, load);
    ASSERT_TRUE(rows.on());
    std::vector<char> out(3 * static_cast<size_t>(row_bytes));
    for (int r = 0; r < 3; ++r) {
      char* p = rows.row<char>(r, nullptr);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, (load + 2048) % 4096 / 64 * 64);
      for (int64_t i = 0; i < row_bytes; ++i) p[i] = static_cast<char>(r * 31 + i);
    }
    const int64_t before = ops::aliased_rows();
    rows.flush(out.data(), row_bytes, 3);
    elementwise::stream_fence();
    EXPECT_EQ(ops::aliased_rows() - before, 3);
    for (int r = 0; r < 3; ++r)
      for (int64_t i = 0; i < row_bytes; ++i)
        ASSERT_EQ(out[static_cast<size_t>(r * row_bytes + i)], static_cast<char>(r * 31 + i));
  }
  // Off: the output row itself.
  ops::AliasedRows off;
  float x = 0;
  EXPECT_FALSE(off.on());
  EXPECT_EQ(off.row(0, &x), &x);
}

}  // namespace
}  // namespace npfast
