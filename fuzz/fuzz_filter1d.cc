// Fuzzes the ndimage line filters: correlate1d, uniform_filter1d and the fused pairs with any
// shapes (including empty axes and filters longer than the lines), strides, dtypes, axes,
// origins, modes, output dtypes, and the output being the input itself.
#include <cstdint>
#include <vector>

#include "fuzz/input.h"
#include "npfast/error.hpp"
#include "npfast/ndimage.hpp"

namespace {

using namespace npfast;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const DType dtypes[] = {DType::f32, DType::f64, DType::u8, DType::i16, DType::i32, DType::i64};
  const DType ti = dtypes[in.range(0, 5)], to = dtypes[in.range(0, 5)];
  const int ndim = static_cast<int>(in.range(1, 3));
  int64_t shape[3];
  for (int i = 0; i < ndim; ++i) shape[i] = in.range(0, 9);
  fuzz::Array x, y;
  if (!fuzz::make_array(in, ti, ndim, shape, &x)) return 0;
  const bool in_place = ti == to && in.range(0, 3) == 0;
  if (!in_place && !fuzz::make_array(in, to, ndim, shape, &y)) return 0;
  const View& out = in_place ? x.view : y.view;
  const int64_t n0 = in.range(0, 12), n1 = in.range(1, 12);
  std::vector<double> w0(n0 > 0 ? n0 : 1), w1(n1);
  for (auto& v : w0) v = in.take<double>();
  for (auto& v : w1) v = in.take<double>();
  const int axis0 = static_cast<int>(in.range(-1, 3)), axis1 = static_cast<int>(in.range(-1, 3));
  const Border m0 = static_cast<Border>(in.range(0, 4)), m1 = static_cast<Border>(in.range(0, 4));
  const int64_t origin = in.range(-7, 7);
  const double cval = in.take<double>();
  try {
    switch (in.range(0, 3)) {
      case 0:
        correlate1d(x.view, w0.data(), n0, axis0, out, m0, cval, origin);
        break;
      case 1:
        uniform_filter1d(x.view, n0, axis0, out, m0, cval, origin);
        break;
      case 2:
        correlate1d_pair(x.view, w0.data(), n0, axis0, m0, w1.data(), n1, axis1, m1, out, cval);
        break;
      default:
        uniform_filter_pair(x.view, n0, axis0, m0, origin, n1, m1, in.range(-7, 7), out, cval);
        break;
    }
  } catch (const Error&) {
  }
  return 0;
}
