// matmul: NumPy's shape rules, stride handling and batching around npfast::gemm_batched.
#include <algorithm>
#include <cstdint>
#include <string>

#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "npfast/memory.hpp"
#include "src/core/views.h"
#include "src/ops/gemv.h"
#include "src/ops/matmul.h"

namespace npfast {
namespace {

// An operand as a batch of matrices: element (b, r, c) at byte offset b*sb + r*s0 + c*s1.
struct Mats {
  char* p;
  int64_t batch, rows, cols;
  int64_t sb, s0, s1;  // bytes
};

// a: (k,) -> 1 x k; (m, k); (B, m, k). b: (k,) -> k x 1; (k, n); (B, k, n).
Mats as_mats(const View& v, bool is_b) {
  Mats m{static_cast<char*>(v.data), 1, 1, 1, 0, 0, 0};
  if (v.ndim == 1) {
    if (is_b) {
      m.rows = v.shape[0];
      m.s0 = v.strides[0];
    } else {
      m.cols = v.shape[0];
      m.s1 = v.strides[0];
    }
    return m;
  }
  const int o = v.ndim - 2;
  m.rows = v.shape[o];
  m.cols = v.shape[o + 1];
  m.s0 = v.strides[o];
  m.s1 = v.strides[o + 1];
  if (v.ndim == 3) {
    m.batch = v.shape[0];
    m.sb = v.shape[0] == 1 ? 0 : v.strides[0];
  }
  return m;
}

// Element strides of an operand's batch, row and column axes (0 for an axis of length 1), or
// false where a stride is not a whole number of elements or the buffer is misaligned (e.g.
// np.frombuffer at an odd offset: it goes through the copy, which reads element bytes with
// memcpy).
bool elem_strides(const Mats& x, int64_t item, int64_t* sb, int64_t* s0, int64_t* s1) {
  if (reinterpret_cast<uintptr_t>(x.p) % static_cast<uintptr_t>(item) != 0) return false;
  auto elems = [&](int64_t len, int64_t bytes, int64_t* out) {
    *out = len == 1 ? 0 : bytes / item;
    return len == 1 || bytes % item == 0;
  };
  return elems(x.batch, x.sb, sb) && elems(x.rows, x.s0, s0) && elems(x.cols, x.s1, s1);
}

// How gemm reads one operand: element strides, transposed or not.
struct Layout {
  bool ok, trans;
  int64_t ld, sbatch;  // elements
};

Layout layout_of(const Mats& m, int64_t item) {
  int64_t sb, s0, s1;
  if (!elem_strides(m, item, &sb, &s0, &s1)) return {false, false, 0, 0};
  // Strides of length-1 axes are never used: pick the ones that make the layout simplest.
  if (m.rows == 1) s0 = m.cols;
  if (m.cols == 1) s1 = 1;
  if (s1 == 1) return {true, false, s0, sb};
  if (s0 == 1 || m.rows == 1) return {true, true, s1, sb};
  return {false, false, 0, 0};
}

// A product whose A has one row or whose B has one column, as a matrix x vector product on the
// gemv kernels; false (nothing written) for a layout they do not take.
template <class T>
bool try_matvec(const Mats& A, const Mats& B, const Mats& C, int64_t batch) {
  const int64_t item = sizeof(T);
  int64_t a[3], b[3], c[3];  // batch, row, column strides in elements
  if (!elem_strides(A, item, &a[0], &a[1], &a[2]) || !elem_strides(B, item, &b[0], &b[1], &b[2]) ||
      !elem_strides(C, item, &c[0], &c[1], &c[2]))
    return false;
  ops::MatVec<T> mv{};
  if (B.cols == 1) {  // A (m x k) times B's column: y is C's column
    mv.a = reinterpret_cast<const T*>(A.p), mv.rs = a[1], mv.ps = a[2], mv.sa = a[0];
    mv.x = reinterpret_cast<const T*>(B.p), mv.incx = b[1], mv.sx = b[0];
    mv.incy = c[1], mv.rows = A.rows;
  } else {  // A's row times B (k x n): y^T = B^T x, B^T's rows are B's columns
    mv.a = reinterpret_cast<const T*>(B.p), mv.rs = b[2], mv.ps = b[1], mv.sa = b[0];
    mv.x = reinterpret_cast<const T*>(A.p), mv.incx = a[2], mv.sx = a[0];
    mv.incy = c[2], mv.rows = B.cols;
  }
  mv.y = reinterpret_cast<T*>(C.p), mv.sy = c[0], mv.batch = batch, mv.k = A.cols;
  return ops::matvec(mv);
}

// The buffer of an operand's (or the result's) contiguous copy, for strides no GEMM layout
// takes; a MemoryError names the array (probe21b: it named the pool's allocate).
template <class T>
Buffer<T> copy_buffer(int64_t count, const char* arg) {
  try {
    return Buffer<T>(static_cast<size_t>(count));
  } catch (const MemoryError&) {
    throw MemoryError(std::string(arg) + ": cannot allocate " +
                      std::to_string(count * static_cast<int64_t>(sizeof(T))) +
                      " bytes for a contiguous copy (its strides are no matrix layout)");
  }
}

template <class T>
void matmul_t(const View& av, const View& bv, const View& ov) {
  const int64_t item = sizeof(T);
  Mats A = as_mats(av, false), B = as_mats(bv, true);
  const int64_t m = A.rows, n = B.cols, k = A.cols;
  const int64_t batch = A.batch == 1 ? B.batch : A.batch;  // broadcasting 1 (also against 0)
  if (batch == 0 || m == 0 || n == 0) return;
  // The result viewed as (batch, m, n).
  Mats C{static_cast<char*>(ov.data), batch, m, n, 0, 0, 0};
  {
    int d = ov.ndim - 1;
    if (bv.ndim > 1) C.s1 = ov.strides[d--];
    if (av.ndim > 1) C.s0 = ov.strides[d--];
    if (d == 0) C.sb = ov.strides[0];
  }
  // Matrix x vector is memory-bound: the packed GEMM's copies and tiles cost 2-5x its time.
  if ((m == 1 || n == 1) && k > 0 && try_matvec<T>(A, B, C, batch)) return;
  // Operands gemm cannot address go through a contiguous copy.
  Buffer<T> abuf, bbuf, cbuf;
  Layout la = layout_of(A, item), lb = layout_of(B, item);
  if (!la.ok) {
    abuf = copy_buffer<T>(checked_mul(checked_mul(A.batch, m, "a"), k, "a"), "a");
    views::copy_to_contiguous(av, abuf.get());
    A = Mats{reinterpret_cast<char*>(abuf.get()), A.batch, m, k, m * k * item, k * item, item};
    la = layout_of(A, item);
  }
  if (!lb.ok) {
    bbuf = copy_buffer<T>(checked_mul(checked_mul(B.batch, k, "b"), n, "b"), "b");
    views::copy_to_contiguous(bv, bbuf.get());
    B = Mats{reinterpret_cast<char*>(bbuf.get()), B.batch, k, n, k * n * item, n * item, item};
    lb = layout_of(B, item);
  }
  Layout lc = layout_of(C, item);
  T* c = reinterpret_cast<T*>(C.p);
  const T* a = reinterpret_cast<const T*>(A.p);
  const T* b = reinterpret_cast<const T*>(B.p);
  if (lc.ok && !lc.trans) {
    gemm_batched(la.trans, lb.trans, batch, m, n, k, T(1), a, la.ld, la.sbatch, b, lb.ld, lb.sbatch,
                 T(0), c, lc.ld, lc.sbatch);
  } else if (lc.ok) {
    // Column-major result: C^T = op(B)^T op(A)^T.
    gemm_batched(!lb.trans, !la.trans, batch, n, m, k, T(1), b, lb.ld, lb.sbatch, a, la.ld,
                 la.sbatch, T(0), c, lc.ld, lc.sbatch);
  } else {
    cbuf = copy_buffer<T>(checked_mul(checked_mul(batch, m, "out"), n, "out"), "out");
    gemm_batched(la.trans, lb.trans, batch, m, n, k, T(1), a, la.ld, la.sbatch, b, lb.ld, lb.sbatch,
                 T(0), cbuf.get(), n, m * n);
    views::copy_from_contiguous(cbuf.get(), ov);
  }
}

}  // namespace

namespace ops {

void matmul_inner_mismatch(const View& a, const View& b, int64_t ka, int64_t kb) {
  throw ValueError("b: inner dimensions differ (" + std::to_string(ka) + " vs " +
                   std::to_string(kb) + "): a has shape " + shape_str(a) + ", b has shape " +
                   shape_str(b));
}

void matmul_batch_mismatch(const View& a, const View& b, int64_t da, int64_t db, const char* what) {
  throw ValueError(std::string("b: ") + what + " (" + std::to_string(da) + " vs " +
                   std::to_string(db) + ") and neither is 1: a has shape " + shape_str(a) +
                   ", b has shape " + shape_str(b));
}

}  // namespace ops

Shape matmul_shape(const View& a, const View& b) {
  views::check_float(a, "a");
  views::check_float(b, "b");
  if (a.dtype != b.dtype)
    throw TypeError(std::string("b: dtype ") + dtype_name(b.dtype) + " does not match a's " +
                    dtype_name(a.dtype) + " (mixed dtypes are not promoted)");
  if (a.ndim < 1 || a.ndim > 3)
    throw ValueError("a: must have 1, 2 or 3 dimensions, got shape " + shape_str(a));
  if (b.ndim < 1 || b.ndim > 3)
    throw ValueError("b: must have 1, 2 or 3 dimensions, got shape " + shape_str(b));
  const Mats A = as_mats(a, false), B = as_mats(b, true);
  if (A.cols != B.rows) ops::matmul_inner_mismatch(a, b, A.cols, B.rows);
  if (A.batch != B.batch && A.batch != 1 && B.batch != 1)
    ops::matmul_batch_mismatch(a, b, A.batch, B.batch, "batch sizes differ");
  Shape s;
  if (a.ndim == 3 || b.ndim == 3) s.dims[s.ndim++] = A.batch == 1 ? B.batch : A.batch;
  if (a.ndim > 1) s.dims[s.ndim++] = A.rows;
  if (b.ndim > 1) s.dims[s.ndim++] = B.cols;
  return s;
}

void matmul(const View& a, const View& b, const View& out) {
  views::check_out(out, a.dtype, matmul_shape(a, b), "out");
  if (a.dtype == DType::f32)
    matmul_t<float>(a, b, out);
  else
    matmul_t<double>(a, b, out);
}

}  // namespace npfast
