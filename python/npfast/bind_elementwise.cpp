// npfast.convert
#include <nanobind/stl/string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/elementwise.hpp"
#include "npfast/error.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

bool same_layout(const View& a, const View& b) {
  if (a.data != b.data || itemsize(a.dtype) != itemsize(b.dtype) || a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; ++i)
    if (a.strides[i] != b.strides[i] && a.shape[i] > 1) return false;
  return true;
}

nb::object convert_py(nb::handle a, nb::handle dtype, nb::handle scale_arg, nb::handle offset_arg,
                      nb::handle out) {
  Array x = as_array(a, "a");
  const double scale = real_arg(scale_arg, "scale"), offset = real_arg(offset_arg, "offset");
  const DType t = as_dtype(dtype, "dtype");
  if (t != DType::f32 && t != DType::f64 && t != DType::u8)
    throw TypeError(std::string("dtype: must be float32, float64 or uint8, got ") + dtype_name(t));
  View y;
  nb::object result = out_or_new(out, t, x.view.ndim, x.view.shape, &y);
  // Writing in place is fine element by element; any other overlap is not.
  if (!same_layout(x.view, y)) check_no_overlap(y, {&x.view});
  {
    ReleaseGil release;
    convert(x.view, y, scale, offset);
  }
  return result;
}

// mean / std: a number or a 1-d sequence of numbers, as float64. Integer and floating arrays
// are cast; an object array (Fractions, Decimals, ints past int64) element by element through
// real_arg; strings (which a forced cast would parse), bools and complex numbers are refused,
// as real_arg refuses them (probe19b, review19).
nb::object stats_array(nb::handle obj, const char* arg, const double** data, int64_t* n) {
  const auto refuse = [&] {
    PyErr_Clear();
    throw TypeError(std::string(arg) + ": expected a number or a 1-d sequence of numbers, got " +
                    py_repr(obj));
  };
  PyObject* given = PyArray_FromAny(obj.ptr(), nullptr, 0, 1, NPY_ARRAY_CARRAY_RO, nullptr);
  if (!given) refuse();
  nb::object given_ref = nb::steal(given);
  auto* g = reinterpret_cast<PyArrayObject*>(given);
  nb::object ref;
  if (PyArray_ISOBJECT(g)) {
    const int64_t count = PyArray_SIZE(g);
    ref = nb::steal(PyArray_SimpleNew(1, &count, NPY_FLOAT64));
    if (!ref.is_valid()) throw MemoryError(std::string(arg) + ": no memory for the values");
    auto* dst = static_cast<double*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(ref.ptr())));
    PyObject* const* items = static_cast<PyObject* const*>(PyArray_DATA(g));  // contiguous
    for (int64_t i = 0; i < count; ++i) dst[i] = real_arg(nb::handle(items[i]), arg);
  } else {
    if (!PyArray_ISINTEGER(g) && !PyArray_ISFLOAT(g)) refuse();
    PyObject* a = PyArray_FromAny(given, PyArray_DescrFromType(NPY_FLOAT64), 0, 1,
                                  NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST, nullptr);
    if (!a) refuse();
    ref = nb::steal(a);
  }
  auto* values = reinterpret_cast<PyArrayObject*>(ref.ptr());
  *n = PyArray_SIZE(values);  // 0: refused by the caller unless the image has no channels
  *data = static_cast<const double*>(PyArray_DATA(values));
  return ref;
}

nb::object normalize_py(nb::handle image, nb::handle mean, nb::handle stddev, nb::handle dtype,
                        nb::handle channel_axis_arg, nb::handle to_chw_arg, nb::handle out) {
  const int64_t channel_axis = int_arg(channel_axis_arg, "channel_axis");
  const bool to_chw = bool_arg(to_chw_arg, "to_chw");
  Array x = as_array(image, "image");
  if (x.view.dtype != DType::u8)
    throw TypeError(std::string("image: dtype must be uint8, got ") + dtype_name(x.view.dtype));
  const DType t = dtype.is_none() ? DType::f32 : as_dtype(dtype, "dtype");
  if (t != DType::f32 && t != DType::f64)
    throw TypeError(std::string("dtype: must be float32 or float64, got ") + dtype_name(t));
  const double *m, *s;
  int64_t nm, ns;
  nb::object mref = stats_array(mean, "mean", &m, &nm);
  nb::object sref = stats_array(stddev, "std", &s, &ns);
  const int k = normalize_axis(x.view, channel_axis, to_chw);
  const Shape shape = normalize_shape(x.view, k, to_chw);
  // Check the stats before allocating or touching out. Empty stats fit only an image without
  // channels, beside empty or single stats, as NumPy's spelling broadcasts them (probe22b,
  // review22b); there is then nothing to normalise.
  const int64_t C = x.view.shape[k];
  if (nm == 0 || ns == 0) {
    if (C != 0 || nm > 1 || ns > 1)
      throw ValueError(std::string(nm == 0 && ns == 0 ? "mean, std"
                                   : nm == 0          ? "mean"
                                                      : "std") +
                       ": must not be empty (the image has " + std::to_string(C) + " channels)");
    nm = ns = 0;
  }
  // One value broadcasts against per-channel values of the other, as in NumPy's spelling.
  std::vector<double> wide;
  if (nm != ns && (nm == 1 || ns == 1)) {
    const double one = nm == 1 ? m[0] : s[0];
    wide.assign(static_cast<size_t>(std::max(nm, ns)), one);
    (nm == 1 ? m : s) = wide.data();
    nm = ns = std::max(nm, ns);
  }
  if (nm != ns)
    throw ValueError("mean, std: must have the same length (or one of them 1), got " +
                     std::to_string(nm) + " and " + std::to_string(ns));
  if (nm != 0 && nm != 1 && nm != C)
    throw ValueError("mean, std: need 1 or " + std::to_string(C) +
                     " values (the channel count), got " + std::to_string(nm));
  View y;
  nb::object result = out_or_new(out, t, x.view.ndim, shape.dims, &y);
  check_no_overlap(y, {&x.view});
  {
    ReleaseGil release;
    normalize(x.view, y, m, s, nm, k, to_chw);
  }
  return result;
}

}  // namespace

NPFAST_BIND(elementwise) {
  m.def("convert", &convert_py,
        nb::sig("def convert(a: numpy.typing.ArrayLike, dtype: numpy.typing.DTypeLike, "
                "scale: float = 1.0, offset: float = 0.0, *, "
                "out: numpy.ndarray | None = None) -> numpy.ndarray"),
        nb::arg("a").none(), nb::arg("dtype").none(), nb::arg("scale").none() = 1.0,
        nb::arg("offset").none() = 0.0, nb::kw_only(), nb::arg("out").none() = nb::none(),
        R"doc(Scale, shift and cast in one pass: ``(a * scale + offset).astype(dtype)``.

Parameters
----------
a : array_like
    Any integer (uint8 to uint64, int8 to int64), float32 or float64; any shape and strides.
    uint32 and uint64 are widened to float64 first (as ``astype(np.float64)``).
dtype : dtype
    float32, float64, or uint8. Computed as one float64 fused multiply-add,
    ``fma(float64(a), scale, offset)`` (int64 / uint64 values beyond 2^53 round on the way to
    float64), then converted to the output dtype. NumPy's unfused
    ``a.astype(np.float64) * scale + offset`` rounds the product too, so where the two terms
    nearly cancel the two differ by more than an ulp.
    To uint8: rounded half to even, saturated to [0, 255], NaN -> 0 (NumPy's ``astype``
    truncates and wraps instead). A -0.0 result of the product becomes +0.0 with offset 0, as
    in NumPy's ``a * scale + offset`` (``astype`` alone keeps -0.0). The result is in native
    byte order whatever the byte order ``dtype`` names.
scale, offset : float
out : ndarray, optional
    Same shape as ``a`` and exactly ``dtype``; never converted. It may be ``a`` itself when the
    item sizes match. A byte-swapped ``a`` is read from a native copy made first, so ``out``
    may overlap it.

Returns
-------
ndarray of ``dtype``; a new C-contiguous array from npfast's memory pool unless ``out`` is
given (``astype`` keeps an F-ordered input's layout). NaN payloads come back quiet (a
signalling NaN's quiet bit set; ``astype`` copies the bits); a masked array's mask is not
kept.

Raises
------
TypeError  for unsupported dtypes or a mismatched ``out`` dtype.
ValueError for a mismatched ``out`` shape, or an ``out`` whose address range overlaps ``a``'s
           without being ``a`` (interleaved views that share no element included).

Big inputs are split across npfast's threads; outputs of 16 MiB and more are written with
non-temporal stores. A refused call writes nothing into ``out``.
)doc");

  m.def(
      "normalize", &normalize_py,
      nb::sig(
          "def normalize(image: numpy.typing.ArrayLike, mean: float | typing.Sequence[float], "
          "std: float | typing.Sequence[float], *, dtype: numpy.typing.DTypeLike = numpy.float32, "
          "channel_axis: int = -1, to_chw: bool = False, "
          "out: numpy.ndarray | None = None) -> numpy.ndarray"),
      nb::arg("image").none(), nb::arg("mean").none(), nb::arg("std").none(), nb::kw_only(),
      nb::arg("dtype").none() = nb::none(), nb::arg("channel_axis").none() = -1,
      nb::arg("to_chw").none() = false, nb::arg("out").none() = nb::none(),
      R"doc(CNN input preprocessing in one pass: ``(image / 255 - mean) / std`` per channel.

Matches ``torchvision.transforms.Normalize(mean, std)(ToTensor()(image))`` (with
``to_chw=True``) and the NumPy spelling ``((image / 255 - mean) / std).astype(dtype)``.

Parameters
----------
image : array_like of uint8
    Any shape with at least one axis (the channels lie along ``channel_axis``), any strides.
mean, std : float or sequence of float
    Integers or floats (strings, bools and complex numbers raise TypeError).
    One value for all channels, or one per channel (in the units of ``image / 255``); one value
    of either broadcasts against the other's per-channel values. ``std`` must be finite and
    non-zero.
dtype : float32 (the default, also for None) or float64
channel_axis : int, default -1
to_chw : bool, default False
    Move the channel axis to position ``ndim - 3``: (H, W, C) -> (C, H, W),
    (N, H, W, C) -> (N, C, H, W). Needs ``image.ndim >= 3``.
out : ndarray, optional
    Exactly the result's dtype and shape; must not overlap ``image``.

Returns
-------
ndarray; computed per element as one fused multiply-add in float64,
``x * (1 / (255 std)) - mean / std``, rounded once to ``dtype`` (float32 results are within
1 ulp of the float64 formula; float64 results differ from the NumPy spelling in the last bits
where ``x / 255`` nearly cancels ``mean``: within 3e-16 of the output's scale).

Raises
------
TypeError  when ``image`` is not uint8, ``dtype`` is not float32/float64, or ``out`` has the
           wrong dtype.
ValueError for a bad ``channel_axis``, a stats length other than 1 or the channel count, a
           zero or non-finite ``std`` or one whose ``1 / (255 std)`` is not a finite non-zero
           double (|std| past ~7e305 or under ~2e-311), a ``mean / std`` that overflows, or a
           mismatched or overlapping ``out``.

Big images are split across npfast's threads. A refused call writes nothing into ``out``.
)doc");
}

}  // namespace py
}  // namespace npfast
