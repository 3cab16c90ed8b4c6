// Fuzzes the corr2d operators: SciPy-signal and ndimage entry points with any shapes
// (including empty and kernel larger than the image), strides, dtypes, modes and borders, and
// the ndimage path's SciPy sums.
#include <cstdint>
#include <vector>

#include "fuzz/input.h"
#include "npfast/corr2d.hpp"
#include "npfast/error.hpp"

namespace {

using namespace npfast;

bool make_out(fuzz::Input& in, DType t, int ndim, const int64_t* shape, fuzz::Array* out) {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) {
    if (shape[i] < 0 || shape[i] > 4096) return false;
    n *= shape[i];
  }
  if (n > (1 << 16)) return false;
  return fuzz::make_array(in, t, ndim, shape, out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const DType dtypes[] = {DType::f32, DType::f64, DType::u8, DType::i32, DType::i64};
  const DType t1 = dtypes[in.range(0, 4)], t2 = dtypes[in.range(0, 4)];
  const int ndim1 = static_cast<int>(in.range(1, 3));
  int64_t s1[3], s2[2];
  for (int i = 0; i < ndim1; ++i) s1[i] = in.range(0, 9);
  const int ndim2 = static_cast<int>(in.range(1, 3));
  for (int i = 0; i < 2; ++i) s2[i] = in.range(0, 6);
  int64_t s2x[3] = {s2[0], s2[1], 2};
  fuzz::Array a, k;
  if (!fuzz::make_array(in, t1, ndim1, s1, &a) || !fuzz::make_array(in, t2, ndim2, s2x, &k))
    return 0;
  const DType rt = corr2d_result_dtype(t1, t2);
  const bool which = in.range(0, 1);
  try {
    if (which) {
      const auto mode = static_cast<Corr2dMode>(in.range(0, 2));
      const Border boundary = static_cast<Border>(in.range(0, 2));  // fill, wrap, reflect(symm)
      const Shape s = signal_corr2d_shape(a.view, k.view, mode);
      const int64_t* shape = s.dims;
      fuzz::Array out;
      if (!make_out(in, rt, ndim1, shape, &out)) return 0;
      signal_corr2d(a.view, k.view, out.view, mode, boundary, in.take<double>(), in.range(0, 1));
    } else {
      const Border mode = static_cast<Border>(in.range(0, 4));
      const int64_t origin[2] = {in.range(-4, 4), in.range(-4, 4)};
      fuzz::Array out;
      if (!make_out(in, rt, ndim1, s1, &out)) return 0;
      const double cval = in.take<double>();
      const bool convolve = in.range(0, 1);
      // scipy_sums (SciPy's own sums, f64_corr2d_scipy) where the output is float64.
      ndimage_corr2d(a.view, k.view, out.view, mode, cval, origin, convolve,
                     rt == DType::f64 && in.range(0, 1));
    }
  } catch (const Error&) {
  }
  return 0;
}
