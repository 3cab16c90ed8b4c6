// Fuzzes the ndimage rank filters: minmax_filter1d, the fused 2-D pair, footprint min/max and
// rank_filter with any shapes (including empty axes and windows longer than the lines),
// strides, dtypes, footprints (holes, leading axes of length 1, the median network, sorted
// tile and histogram shapes, tall ones that the tiles slide down), origins, ranks, modes,
// output dtypes, and the output being the input.
// Some last axes are 1900-2100 long: the 2-D min/max filters run their fused row kernel
// (`<t>_minmax_2d`) only on rows whose k0 + 1 copies overflow 32 KiB (ops/ndimage_rank.cc).
// Such a case needs more bytes than libFuzzer's default 4 KiB inputs hold: the corpus has a
// 45 KiB seed of one (float32 3 x 1900, size 5 x 5), which raises that length to its own.
// The volume sweep (minmax_filter2d with axes = 3) runs on volumes of any size here.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz/input.h"
#include "npfast/error.hpp"
#include "npfast/ndimage_rank.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npfast;
  static const bool any_volume = (set_minmax_sweep_bytes_for_testing(0), true);
  (void)any_volume;
  fuzz::Input in(data, size);
  const DType dtypes[] = {DType::f32, DType::f64, DType::u8, DType::u16,
                          DType::i16, DType::i32, DType::i64};
  const DType ti = dtypes[in.range(0, 6)], to = dtypes[in.range(0, 6)];
  const int ndim = static_cast<int>(in.range(1, 3));
  int64_t shape[3];
  for (int i = 0; i < ndim; ++i) shape[i] = in.range(0, 40);
  // A last axis of 40 stands for a wide row; the other axes are then cut to 2 planes of 24
  // rows, so one case stays fast.
  constexpr int64_t kWide = 2100;
  if (shape[ndim - 1] == 40) {
    shape[ndim - 1] = in.range(1900, kWide);
    for (int i = 0; i < ndim - 1; ++i)
      shape[i] = std::min<int64_t>(shape[i], i + 2 < ndim ? 2 : 24);
  }
  const bool in_place = ti == to && in.range(0, 3) == 0;
  const Border modes[2] = {static_cast<Border>(in.range(0, 4)),
                           static_cast<Border>(in.range(0, 4))};
  const double cval = in.take<double>();
  const bool minimum = in.range(0, 1) == 0;
  // Every argument is drawn before the arrays' bytes: an input shorter than its arrays (libFuzzer
  // makes inputs up to 4 KiB by default; a wide row alone is 2-17 KiB) still picks the operator
  // and its arguments, and its arrays are zero past its end.
  const int64_t op = in.range(0, 3);
  const int64_t size1 = in.range(0, 40), axis1 = in.range(-1, 3), origin1 = in.range(-20, 20);
  const int64_t sizes[2] = {in.range(0, 40), in.range(0, 40)};
  const int64_t origins2[2] = {in.range(-20, 20), in.range(-20, 20)};
  // The volume sweep (axes 3): a fold across planes before the pair.
  const bool volume = in.range(0, 1) == 1;
  const int64_t sizes3[3] = {in.range(0, 20), sizes[0], sizes[1]};
  const int64_t origins3[3] = {in.range(-10, 10), origins2[0], origins2[1]};
  const Border modes3[3] = {static_cast<Border>(in.range(0, 4)), modes[0], modes[1]};
  // A footprint of the input's rank (or not), all true or with holes.
  const int fnd = static_cast<int>(in.range(ndim - 1, ndim));
  int64_t fshape[3] = {1, 1, 1};
  int64_t fsize = 1;
  for (int i = 0; i < fnd; ++i) fsize *= fshape[i] = in.range(1, 7);
  std::vector<uint8_t> f(static_cast<size_t>(fsize));
  const bool holes = in.range(0, 1) == 1;
  for (auto& v : f) v = holes ? static_cast<uint8_t>(in.range(0, 1)) : 1;
  View fv;
  fv.data = f.data();
  fv.dtype = DType::u8;
  fv.ndim = fnd;
  int64_t stride = 1;
  for (int i = fnd - 1; i >= 0; --i) {
    fv.shape[i] = fshape[i];
    fv.strides[i] = stride;
    stride *= fshape[i];
  }
  int64_t origins[3];
  for (int i = 0; i < ndim; ++i) origins[i] = in.range(-4, 4);
  const bool footprint_minmax = in.range(0, 1) == 1;
  const int64_t rank = in.range(-2, fsize + 1);
  fuzz::Array x, y;
  if (!fuzz::make_array(in, ti, ndim, shape, &x, kWide)) return 0;
  if (!in_place && !fuzz::make_array(in, to, ndim, shape, &y, kWide)) return 0;
  const View& out = in_place ? x.view : y.view;
  try {
    switch (op) {
      case 0:
        minmax_filter1d(x.view, size1, static_cast<int>(axis1), out, modes[0], cval, origin1,
                        minimum);
        break;
      case 1:
        if (volume)
          minmax_filter2d(x.view, sizes3, out, modes3, cval, origins3, minimum, 3);
        else
          minmax_filter2d(x.view, sizes, out, modes, cval, origins2, minimum);
        break;
      default:
        if (footprint_minmax)
          minmax_footprint(x.view, fv, origins, out, modes[0], cval, minimum);
        else
          rank_filter(x.view, fv, origins, rank, out, modes[0], cval);
        break;
    }
  } catch (const Error&) {
  }
  return 0;
}
