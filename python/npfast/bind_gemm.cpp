// npfast.matmul, and the GEMM probes the benchmark uses.
#include <string>

#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

nb::object matmul_py(nb::handle a, nb::handle b, nb::handle out) {
  Array x = as_array(a, "a", kFloatsOnly);
  Array y = as_array(b, "b", kFloatsOnly);
  const Shape s = matmul_nd_shape(x.view, y.view);
  const int nd = s.ndim;
  const int64_t* shape = s.dims;
  View z;
  nb::object result = out_or_new(out, x.view.dtype, nd, shape, &z);
  check_no_overlap(z, {&x.view, &y.view});
  {
    ReleaseGil release;
    matmul_nd(x.view, y.view, z);
  }
  // Two 1-D operands make a scalar, as numpy.matmul's (an out= array is returned as it is).
  if (nd == 0 && out.is_none()) return result[nb::tuple()];
  return result;
}

}  // namespace

NPFAST_BIND(gemm) {
  m.def("matmul", &matmul_py,
        nb::sig("def matmul(a: numpy.typing.ArrayLike, b: numpy.typing.ArrayLike, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray | numpy.floating"),
        nb::arg("a").none(), nb::arg("b").none(), nb::kw_only(), nb::arg("out").none() = nb::none(),
        R"doc(Matrix product ``a @ b`` on npfast's own GEMM, as ``numpy.matmul``.

Parameters
----------
a : array_like
    float32 or float64, shape ``(k,)`` or ``(..., m, k)`` with any number of batch
    dimensions (up to 8 dimensions in all); any strides.
b : array_like
    Same dtype as ``a``; shape ``(k,)`` or ``(..., k, n)``. The batch dimensions broadcast as
    NumPy's (aligned on the right, a 1 or a missing dimension stretches); a 1-D operand is a
    row (``a``) or a column (``b``) whose axis is dropped from the result, as in NumPy.
out : ndarray, optional
    Exactly the result dtype and shape, writeable, aligned, its memory bounds not
    overlapping ``a``'s or ``b``'s (bounds, not elements: interleaved views of one buffer are
    refused; a byte-swapped operand is read from a native copy made first, which ``out`` may
    overlap); any non-zero strides. Never converted; left untouched when the call is refused.

Returns
-------
ndarray of shape ``(*batch, m, n)``, ``(m, n)``, ``(m,)`` or ``(n,)``, a new array from
npfast's memory pool unless ``out`` is given; for two 1-D operands a NumPy scalar (``out``, a 0-d
array, when given), as ``numpy.matmul``. Batches that one stride addresses run as one
batched GEMM call; other batch dimensions are looped over.

Products are packed into cache blocks and computed by register-blocked FMA microkernels
(AVX-512, AVX2 or scalar, see ``npfast.config()["kernels"]``), threaded when large enough.
Each element is accumulated in the array's precision over ``k`` in a fixed order, so the
result is bitwise identical for any thread count (not necessarily bitwise equal to NumPy's).
A matrix x vector product (``a`` one row or ``b`` one column, batched or not) runs on
memory-bound gemv kernels instead, whose order differs from the GEMM's: ``a @ x`` may differ in
the last bits from the same column of ``a @ X``.
Matches ``numpy.matmul`` / ``torch.matmul`` for these shapes.

Raises
------
TypeError  when a dtype is not float32/float64, ``a`` and ``b`` differ in dtype (no
           promotion), or ``out`` has the wrong dtype.
ValueError when an operand is 0-d, the inner dimensions differ or the batch dimensions do
           not broadcast (the message gives both shapes), or ``out`` has the wrong shape, is
           read-only, unaligned, has a zero stride or overlaps an input.
)doc");
}

}  // namespace py
}  // namespace npfast
