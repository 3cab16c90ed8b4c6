// Fuzzes correlate1d_volume (gaussian_filter's three passes over a volume in one sweep) with
// any shapes (rows from empty to wider than the fused path's threshold), strides (0, negative,
// several times the natural one), dtypes, weights of any length and symmetry, per-axis modes,
// output dtypes, and the output being the input itself (the unfused passes then).
#include <cstdint>
#include <vector>

#include "fuzz/input.h"
#include "npfast/error.hpp"
#include "npfast/ndimage_volume.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npfast;
  fuzz::Input in(data, size);
  const DType dtypes[] = {DType::f32, DType::f64, DType::u8, DType::i32};
  const DType ti = dtypes[in.range(0, 3)], to = in.range(0, 3) ? ti : dtypes[in.range(0, 3)];
  const int64_t shape[3] = {in.range(0, 12), in.range(0, 12), in.range(0, 40)};
  fuzz::Array x, y;
  if (!fuzz::make_array(in, ti, 3, shape, &x)) return 0;
  const bool in_place = ti == to && in.range(0, 5) == 0;
  if (!in_place && !fuzz::make_array(in, to, 3, shape, &y)) return 0;
  const View& out = in_place ? x.view : y.view;
  std::vector<double> w[3];
  const double* wp[3];
  int64_t n[3];
  Border mode[3];
  for (int a = 0; a < 3; ++a) {
    n[a] = in.range(0, 19);
    w[a].resize(static_cast<size_t>(n[a] > 0 ? n[a] : 1));
    const bool sym = in.range(0, 1) == 1;
    for (int64_t j = 0; j < n[a]; ++j)
      w[a][j] = sym && j > n[a] / 2 ? w[a][n[a] - 1 - j] : in.take<double>();
    wp[a] = w[a].data();
    mode[a] = static_cast<Border>(in.range(0, 4));
  }
  try {
    correlate1d_volume(x.view, wp, n, mode, out, in.take<double>());
  } catch (const Error&) {
  }
  return 0;
}
