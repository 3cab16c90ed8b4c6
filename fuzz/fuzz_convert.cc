// Fuzzes npfast::convert: any dtypes (valid or not), shapes, strides, scale and offset.
#include <cstdint>

#include "fuzz/input.h"
#include "npfast/elementwise.hpp"
#include "npfast/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npfast;
  fuzz::Input in(data, size);
  const DType src = static_cast<DType>(in.range(0, 7));
  const DType dst = static_cast<DType>(in.range(0, 7));
  const int ndim = static_cast<int>(in.range(0, 4));
  int64_t shape[View::kMaxDims];
  for (int i = 0; i < ndim; ++i) shape[i] = in.range(0, 9);
  fuzz::Array x, y;
  if (!fuzz::make_array(in, src, ndim, shape, &x)) return 0;
  // Output shape sometimes differs from the input's: must be refused, not written.
  if (ndim > 0 && in.range(0, 7) == 0) shape[0] += 1;
  if (!fuzz::make_array(in, dst, ndim, shape, &y)) return 0;
  const double scale = in.take<double>(), offset = in.take<double>();
  try {
    convert(x.view, y.view, scale, offset);
  } catch (const Error&) {
  }
  return 0;
}
