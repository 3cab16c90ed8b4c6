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

// Computes `mv`: rows of `a` contiguous (ps == 1: dot products), or its columns (rs == 1, with
// y contiguous: scaled rows accumulated), or neither (ps != 1 and rs != 1: dot products of row
// pieces gathered into a small buffer, the bits of `a` with contiguous rows). Returns false,
// having written nothing, for contiguous columns with a strided y and for a strided x that
// differs per batch entry (the caller's GEMM path takes them). Bits depend on the layout and
// the ISA, never on the thread count.
template <class T>
bool matvec(const MatVec<T>& mv);

}  // namespace ops
}  // namespace npfast
