// npfast.memory (the pool's stats, trim, limit and the NumPy allocation hook) and
// npfast.empty / npfast.zeros.
//
// The hook is a NEP 49 PyDataMem_Handler named "npfast_pool". NumPy stores the handler capsule
// in every array it allocates and frees the data through that capsule, so an array allocated
// under the hook and freed after it (or the reverse) always goes back where it came from. The
// free size NumPy passes is ignored: blocks know their own size.
#include <nanobind/stl/string.h>

#include <cstring>
#include <string>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

void* hook_malloc(void*, size_t size) noexcept {
  try {
    return memory::allocate(size);
  } catch (...) {
    return nullptr;  // NumPy raises MemoryError
  }
}

// Warm blocks are cleared (SIMD, streaming stores when big); a miss maps fresh pages, which the
// OS hands out already zero, so nothing is written and untouched pages never cost RAM.
void* hook_calloc(void*, size_t n, size_t elsize) noexcept {
  size_t bytes;
  if (__builtin_mul_overflow(n, elsize, &bytes)) return nullptr;
  try {
    return memory::allocate_zeroed(bytes);
  } catch (...) {
    return nullptr;
  }
}

void* hook_realloc(void*, void* p, size_t size) noexcept {
  if (!p) return hook_malloc(nullptr, size);
  const size_t have = memory::block_size(p);
  if (size <= have && size >= have / 2) return p;  // fits without wasting half the block
  void* q = hook_malloc(nullptr, size);
  if (!q) return nullptr;  // p stays valid, as realloc's contract says
  std::memcpy(q, p, size < have ? size : have);
  memory::deallocate(p);
  return q;
}

void hook_free(void*, void* p, size_t /*size: not trusted*/) noexcept { memory::deallocate(p); }

PyDataMem_Handler g_handler = {
    "npfast_pool", 1, {nullptr, hook_malloc, hook_calloc, hook_realloc, hook_free}};

// The handler capsule, created once and never freed (arrays hold references to it).
PyObject* handler_capsule() {
  static PyObject* cap = PyCapsule_New(&g_handler, "mem_handler", nullptr);
  if (!cap) throw nb::python_error();
  return cap;
}

nb::object set_handler(nb::handle h) {
  PyObject* arg = h.is_none() ? nullptr : h.ptr();
  if (arg && !PyCapsule_IsValid(arg, "mem_handler"))
    throw TypeError("handler: expected a 'mem_handler' capsule, got " + py_repr(h));
  PyObject* old = PyDataMem_SetHandler(arg);
  if (!old) throw nb::python_error();
  return nb::steal(old);
}

std::string handler_name() {
  nb::object h = nb::steal(PyDataMem_GetHandler());
  if (!h) throw nb::python_error();
  auto* handler = static_cast<PyDataMem_Handler*>(PyCapsule_GetPointer(h.ptr(), "mem_handler"));
  if (!handler) throw nb::python_error();
  return handler->name;
}

nb::dict stats_py() {
  const memory::Stats s = memory::stats();
  nb::dict d;
  d["bytes_in_use"] = s.bytes_in_use;
  d["bytes_cached"] = s.bytes_cached;
  d["bytes_reserved"] = s.bytes_reserved;
  d["hits"] = s.hits;
  d["misses"] = s.misses;
  d["os_allocs"] = s.os_allocs;
  d["os_frees"] = s.os_frees;
  return d;
}

// A shape argument: an int or a sequence of ints (anything with __index__).
int parse_shape(nb::handle shape, npy_intp* dims) {
  nb::object seq;
  if (PyIndex_Check(shape.ptr())) {
    seq = nb::steal(PyTuple_Pack(1, shape.ptr()));
  } else {
    seq = nb::steal(PySequence_Tuple(shape.ptr()));
    if (!seq) {
      PyErr_Clear();
      throw TypeError("shape: expected an int or a sequence of ints, got " + py_repr(shape));
    }
  }
  const Py_ssize_t nd = PyTuple_GET_SIZE(seq.ptr());
  if (nd > NPY_MAXDIMS)
    throw ValueError("shape: at most " + std::to_string(NPY_MAXDIMS) + " dimensions, got " +
                     std::to_string(nd));
  for (Py_ssize_t i = 0; i < nd; ++i) {
    const int64_t v = int_arg(PyTuple_GET_ITEM(seq.ptr(), i), "shape");  // npy_intp is int64
    if (v < 0) throw ValueError("shape: negative dimension " + std::to_string(v));
    dims[i] = static_cast<npy_intp>(v);
  }
  return static_cast<int>(nd);
}

// A C-contiguous array owning a pool block: OWNDATA with npfast's handler, so NumPy frees it
// like any array of its own (and .base is None).
nb::object pool_array(nb::handle shape, nb::handle dtype, bool zeroed) {
  npy_intp dims[NPY_MAXDIMS];
  const int nd = parse_shape(shape, dims);
  PyArray_Descr* descr = numpy_descr(dtype.is_none() ? numpy_dtype(DType::f64) : dtype, "dtype");
  nb::object keep = nb::steal(reinterpret_cast<PyObject*>(descr));
  int64_t n = 1;
  for (int i = 0; i < nd; ++i) {
    if (__builtin_mul_overflow(n, static_cast<int64_t>(dims[i]), &n))
      throw ValueError("shape: " + py_repr(shape) + " has too many elements");
  }
  int64_t bytes;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(PyDataType_ELSIZE(descr)), &bytes))
    throw ValueError("shape: " + py_repr(shape) + " is too big for " + py_repr(keep));
  void* data;
  if (zeroed && bytes >= (int64_t{1} << 20)) {
    nb::gil_scoped_release release;  // a big zero fill takes a while
    data = memory::allocate_zeroed(static_cast<size_t>(bytes));
  } else {
    data = zeroed ? memory::allocate_zeroed(static_cast<size_t>(bytes))
                  : memory::allocate(static_cast<size_t>(bytes));
  }
  Py_INCREF(descr);  // PyArray_NewFromDescr steals it
  PyObject* arr = PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, nullptr, data,
                                       NPY_ARRAY_CARRAY, nullptr);
  if (!arr) {
    memory::deallocate(data);
    throw nb::python_error();
  }
  PyObject* cap = handler_capsule();
  Py_INCREF(cap);
  reinterpret_cast<PyArrayObject_fields*>(arr)->mem_handler = cap;
  PyArray_ENABLEFLAGS(reinterpret_cast<PyArrayObject*>(arr), NPY_ARRAY_OWNDATA);
  return nb::steal(arr);
}


}  // namespace

NPFAST_BIND(memory) {
  m.def("_pool_stats", &stats_py);
  m.def("_pool_trim", [] { memory::trim(); });
  m.def("_pool_limit", [] { return memory::cache_limit(); });
  m.def("_pool_set_limit", [](int64_t bytes) {
    if (bytes < 0) throw ValueError("limit: must be >= 0, got " + std::to_string(bytes));
    memory::set_cache_limit(static_cast<size_t>(bytes));
  });
  m.def("_pool_handler", [] { return nb::borrow(handler_capsule()); });
  m.def("_set_handler", &set_handler, nb::arg("handler").none());
  m.def("_handler_name", &handler_name);
  m.def("_owns", [](nb::handle a) {
    Array x = as_array(a, "a");
    return memory::owns(x.view.data);
  });

  m.def(
      "empty", [](nb::handle shape, nb::handle dtype) { return pool_array(shape, dtype, false); },
      nb::sig("def empty(shape: int | typing.Sequence[int], "
              "dtype: numpy.typing.DTypeLike = numpy.float64) -> numpy.ndarray"),
      nb::arg("shape").none(), nb::arg("dtype").none() = nb::none(),
      R"doc(A new uninitialized C-contiguous array whose memory comes from npfast's pool.

Like ``numpy.empty``, but a block freed earlier is reused warm (no page faults), and the
buffer returns to the pool when the array dies.

Parameters
----------
shape : int or sequence of ints
dtype : dtype, default float64
    Any bool, integer, float or complex dtype (as ``numpy.empty``; zeros are all-bits-zero,
    which is 0 / False / 0j in each).

Raises
------
ValueError  for a negative dimension or a shape whose size overflows.
TypeError   for a non-integer shape or an unsupported dtype.
MemoryError when the size cannot be allocated.
)doc");
  m.def(
      "zeros", [](nb::handle shape, nb::handle dtype) { return pool_array(shape, dtype, true); },
      nb::sig("def zeros(shape: int | typing.Sequence[int], "
              "dtype: numpy.typing.DTypeLike = numpy.float64) -> numpy.ndarray"),
      nb::arg("shape").none(), nb::arg("dtype").none() = nb::none(),
      R"doc(A new zero-filled C-contiguous array whose memory comes from npfast's pool.

Like ``numpy.zeros``. A cached block is cleared with SIMD stores (non-temporal for blocks of
16 MiB and more), which is ~30x cheaper than faulting in fresh pages; when the pool has no
block of that size it maps fresh pages, which the OS provides already zero.

Parameters
----------
shape : int or sequence of ints
dtype : dtype, default float64
    Any bool, integer, float or complex dtype (as ``numpy.empty``; zeros are all-bits-zero,
    which is 0 / False / 0j in each).

Raises
------
ValueError  for a negative dimension or a shape whose size overflows.
TypeError   for a non-integer shape or an unsupported dtype.
MemoryError when the size cannot be allocated.
)doc");
}

}  // namespace py
}  // namespace npfast
