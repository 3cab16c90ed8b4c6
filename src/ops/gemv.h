// Matrix x vector products for matmul (one operand a single row or column): the layouts the
// gemv kernels (src/kernels/gemm/gemm.h) take, threaded by rows or columns.
#pragma once

#include <cstdint>

namespace npfast {
namespace ops {

// A batch of products, strides in elements (any sign): for b < batch and i < rows,
//   y[b * sy + i * incy] = sum_{p < k} a[b * sa + i * rs + p * ps] * x[b * sx + p * incx].
template <class T>
struct MatVec {
  const T* a;
  int64_t rs, ps, sa;
  const T* x;
  int64_t incx, sx;
  T* y;
  int64_t incy, sy;
  int64_t batch, rows, k;  // all >= 1
};

// Computes `mv`: rows of `a` contiguous (ps == 1: dot products), or its columns (rs == 1 and
// several rows: scaled rows accumulated, through a buffer where y is strided), or neither (dot
// products of row pieces gathered into a small buffer, the bits of `a` with contiguous rows; a
// single row too); a strided x is gathered first. So the bits depend on which of a's two
// strides is 1 and on the ISA, never on y's or x's strides or the thread count. Returns false,
// having written nothing, where the gemv kernels are missing.
template <class T>
bool matvec(const MatVec<T>& mv);

}  // namespace ops
}  // namespace npfast
