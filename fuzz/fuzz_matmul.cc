// Fuzzes matmul: 1-, 2- and 3-d operands of either float dtype, any strides, broadcasting.
#include <cstdint>

#include "fuzz/input.h"
#include "npfast/error.hpp"
#include "npfast/gemm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace npfast;
  fuzz::Input in(data, size);
  const DType ta = in.range(0, 1) ? DType::f32 : DType::f64;
  const DType tb = in.range(0, 7) == 0 ? DType::i32 : (in.range(0, 7) == 0 ? DType::f32 : ta);
  const int na = static_cast<int>(in.range(1, 3)), nb = static_cast<int>(in.range(1, 3));
  int64_t as[3], bs[3];
  for (int i = 0; i < na; ++i) as[i] = in.range(0, 20);
  for (int i = 0; i < nb; ++i) bs[i] = in.range(0, 20);
  fuzz::Array a, b;
  if (!fuzz::make_array(in, ta, na, as, &a) || !fuzz::make_array(in, tb, nb, bs, &b)) return 0;
  try {
    const Shape s = matmul_shape(a.view, b.view);
    const int nd = s.ndim;
    const int64_t* shape = s.dims;
    fuzz::Array c;
    if (!fuzz::make_array(in, ta, nd, shape, &c)) return 0;
    matmul(a.view, b.view, c.view);
  } catch (const Error&) {
  }
  return 0;
}
