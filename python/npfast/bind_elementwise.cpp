// npfast.convert
#include "npfast/elementwise.hpp"
#include "npfast/error.hpp"
#include "python/npfast/bind.h"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace py {
namespace {

bool same_layout(const View& a, const View& b) {
  if (a.data != b.data || itemsize(a.dtype) != itemsize(b.dtype) || a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; ++i)
    if (a.strides[i] != b.strides[i] && a.shape[i] > 1) return false;
  return true;
}

nb::object convert_py(nb::handle a, nb::handle dtype, double scale, double offset,
                      nb::handle out) {
  Array x = as_array(a, "a");
  const DType t = as_dtype(dtype, "dtype");
  if (t != DType::f32 && t != DType::f64 && t != DType::u8)
    throw TypeError(std::string("dtype: must be float32, float64 or uint8, got ") + dtype_name(t));
  View y;
  nb::object result = out_or_new(out, t, x.view.ndim, x.view.shape, &y);
  // Writing in place is fine element by element; any other overlap is not.
  if (!same_layout(x.view, y)) check_no_overlap(y, {&x.view});
  {
    nb::gil_scoped_release release;
    convert(x.view, y, scale, offset);
  }
  return result;
}

KernelName k_u8_f32("convert_u8_f32",
                    [] { return std::string(elementwise::convert_kernel_name(DType::u8, DType::f32)); });
KernelName k_f64_f64("convert_f64_f64",
                     [] { return std::string(elementwise::convert_kernel_name(DType::f64, DType::f64)); });

}  // namespace

NPFAST_BIND(elementwise) {
  m.def("convert", &convert_py,
        nb::sig("def convert(a: numpy.typing.ArrayLike, dtype: numpy.typing.DTypeLike, "
                "scale: float = 1.0, offset: float = 0.0, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray"),
        nb::arg("a").none(), nb::arg("dtype").none(), nb::arg("scale") = 1.0,
        nb::arg("offset") = 0.0, nb::kw_only(), nb::arg("out").none() = nb::none(),
        R"doc(Scale, shift and cast in one pass: ``(a * scale + offset).astype(dtype)``.

Parameters
----------
a : array_like
    uint8, int8, uint16, int16, int32, int64, float32 or float64; any shape and strides.
dtype : dtype
    float32, float64, or uint8. Computed in float64 with one fused multiply-add and rounded
    once, so a float result is within 1 ulp of ``a.astype(np.float64) * scale + offset``.
    To uint8: rounded half to even, saturated to [0, 255], NaN -> 0 (NumPy's ``astype``
    truncates and wraps instead).
scale, offset : float
out : ndarray, optional
    Same shape as ``a`` and exactly ``dtype``; never converted. It may be ``a`` itself when the
    item sizes match.

Returns
-------
ndarray of ``dtype``; a new array from npfast's memory pool unless ``out`` is given.

Raises
------
TypeError  for unsupported dtypes or a mismatched ``out`` dtype.
ValueError for a mismatched ``out`` shape, or an ``out`` that partly overlaps ``a``.
)doc");
}

}  // namespace py
}  // namespace npfast
