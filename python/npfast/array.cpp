// NumPy arrays <-> npfast views.
#include <dlfcn.h>
#include <nanobind/stl/string.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

// By kind and item size, never by type number alone: NumPy has two type numbers for each
// 64-bit integer on LP64 (int64 is NPY_LONG, np.longlong is NPY_LONGLONG; likewise uint64),
// and the same holds for the 32-bit ints on other ABIs.
bool from_descr(PyArray_Descr* d, DType* t) {
  static constexpr DType kUnsigned[] = {DType::u8, DType::u16, DType::u32, DType::u64};
  static constexpr DType kSigned[] = {DType::i8, DType::i16, DType::i32, DType::i64};
  const npy_intp size = PyDataType_ELSIZE(d);
  const int log2 = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : -1;
  if (log2 < 0) return false;
  if (d->kind == 'u') {
    *t = kUnsigned[log2];
  } else if (d->kind == 'i') {
    *t = kSigned[log2];
  } else if (d->kind == 'f' && (size == 4 || size == 8)) {
    *t = size == 4 ? DType::f32 : DType::f64;
  } else {
    return false;
  }
  return true;
}

int to_numpy_type(DType t) {
  switch (t) {
    case DType::u8:
      return NPY_UINT8;
    case DType::i8:
      return NPY_INT8;
    case DType::u16:
      return NPY_UINT16;
    case DType::i16:
      return NPY_INT16;
    case DType::i32:
      return NPY_INT32;
    case DType::i64:
      return NPY_INT64;
    case DType::u32:
      return NPY_UINT32;
    case DType::u64:
      return NPY_UINT64;
    case DType::f32:
      return NPY_FLOAT32;
    case DType::f64:
      return NPY_FLOAT64;
  }
  return NPY_NOTYPE;
}

std::string descr_name(PyArray_Descr* d) {
  nb::object s = nb::steal(PyObject_Str(reinterpret_cast<PyObject*>(d)));
  return s ? nb::cast<std::string>(s) : std::string("?");
}

View view_of(PyArrayObject* a, DType t) {
  View v;
  v.ndim = PyArray_NDIM(a);
  v.data = PyArray_DATA(a);
  v.dtype = t;
  for (int i = 0; i < v.ndim; ++i) {
    v.shape[i] = PyArray_DIM(a, i);
    v.strides[i] = PyArray_STRIDE(a, i);
  }
  return v;
}

void free_capsule(PyObject* cap) {
  void* block = PyCapsule_GetPointer(cap, "npfast.buffer");
  untrace_data(block);
  memory::deallocate(block);
}

// CPython 3.11's tracemalloc.h declares PyTraceMalloc_Track / _Untrack without extern "C", so
// a C++ call links to mangled names that do not exist: the functions are looked up once by
// their C names instead.
constexpr unsigned int kNumpyTraceDomain = 389047;  // np.lib.tracemalloc_domain
using TrackFn = int (*)(unsigned int, uintptr_t, size_t);
using UntrackFn = int (*)(unsigned int, uintptr_t);
const TrackFn g_track = reinterpret_cast<TrackFn>(dlsym(RTLD_DEFAULT, "PyTraceMalloc_Track"));
const UntrackFn g_untrack =
    reinterpret_cast<UntrackFn>(dlsym(RTLD_DEFAULT, "PyTraceMalloc_Untrack"));

}  // namespace

void trace_data(const void* block, size_t bytes) {
  if (g_track) g_track(kNumpyTraceDomain, reinterpret_cast<uintptr_t>(block), bytes);
}
void untrace_data(const void* block) {
  if (g_untrack) g_untrack(kNumpyTraceDomain, reinterpret_cast<uintptr_t>(block));
}

namespace {
std::atomic<bool> g_exiting{false};
std::thread::id g_exit_thread;  // the thread that ran the atexit hook: it finalizes, never parks
}  // namespace

bool ReleaseGil::exiting() {
  return g_exiting.load(std::memory_order_acquire) && std::this_thread::get_id() != g_exit_thread;
}

void ReleaseGil::park() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

void ReleaseGil::begin_exit(int grace_ms) {
  g_exit_thread = std::this_thread::get_id();  // published by the store below
  g_exiting.store(true, std::memory_order_release);
  if (grace_ms <= 0) return;
  PyThreadState* state = PyEval_SaveThread();
  std::this_thread::sleep_for(std::chrono::milliseconds(grace_ms));
  PyEval_RestoreThread(state);
}

std::string py_repr(nb::handle obj) {
  nb::object r = nb::steal(PyObject_Repr(obj.ptr()));
  if (!r) {
    PyErr_Clear();
    return "<unprintable>";
  }
  std::string s = nb::cast<std::string>(r);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

Array as_array(nb::handle obj, const char* arg, const char* accepts) {
  PyObject* arr;
  if (PyArray_Check(obj.ptr())) {
    arr = obj.inc_ref().ptr();
  } else {
    if (obj.is_none()) throw TypeError(std::string(arg) + ": expected an array, got None");
    arr = PyArray_FromAny(obj.ptr(), nullptr, 0, 0, 0, nullptr);
    if (!arr) {
      // NumPy's class, the argument named: ValueError for a ragged list (probe23b: was a
      // TypeError), MemoryError for one too big, TypeError for the rest.
      const bool value = PyErr_ExceptionMatches(PyExc_ValueError);
      const bool memory = PyErr_ExceptionMatches(PyExc_MemoryError);
      PyErr_Clear();
      const std::string msg =
          std::string(arg) + ": cannot convert " + py_repr(obj) + " to an array";
      if (memory) throw MemoryError(msg);
      if (value) throw ValueError(msg);
      throw TypeError(msg);
    }
  }
  nb::object ref = nb::steal(arr);
  PyArrayObject* a = reinterpret_cast<PyArrayObject*>(arr);
  if (!PyArray_ISNOTSWAPPED(a)) {
    // Kernels read native byte order: a byte-swapped array ('>f8' here) is converted once.
    PyArray_Descr* native = PyArray_DescrNewByteorder(PyArray_DESCR(a), NPY_NATIVE);
    if (!native) throw nb::python_error();
    arr =
        PyArray_FromAny(ref.ptr(), native, 0, 0, NPY_ARRAY_ALIGNED | NPY_ARRAY_FORCECAST, nullptr);
    if (!arr) throw nb::python_error();
    ref = nb::steal(arr);
    a = reinterpret_cast<PyArrayObject*>(arr);
  }
  DType t;
  if (!from_descr(PyArray_DESCR(a), &t))
    throw TypeError(std::string(arg) + ": unsupported dtype " + descr_name(PyArray_DESCR(a)) +
                    " (" + accepts + ")");
  if (PyArray_NDIM(a) > View::kMaxDims)
    throw ValueError(std::string(arg) + ": at most " + std::to_string(View::kMaxDims) +
                     " dimensions, got " + std::to_string(PyArray_NDIM(a)));
  return {std::move(ref), view_of(a, t)};
}

DType as_dtype(nb::handle obj, const char* arg) {
  PyArray_Descr* d = nullptr;
  if (!PyArray_DescrConverter2(obj.ptr(), &d) || !d) {
    PyErr_Clear();
    throw TypeError(std::string(arg) + ": not a dtype: " + py_repr(obj));
  }
  nb::object keep = nb::steal(reinterpret_cast<PyObject*>(d));
  DType t;
  if (!from_descr(d, &t))
    throw TypeError(std::string(arg) + ": unsupported dtype " + descr_name(d));
  return t;
}

PyArray_Descr* numpy_descr(nb::handle obj, const char* arg) {
  PyArray_Descr* d = nullptr;
  if (!PyArray_DescrConverter2(obj.ptr(), &d) || !d) {
    PyErr_Clear();
    throw TypeError(std::string(arg) + ": not a dtype: " + py_repr(obj));
  }
  nb::object keep = nb::steal(reinterpret_cast<PyObject*>(d));
  const char k = d->kind;
  if ((k != 'b' && k != 'i' && k != 'u' && k != 'f' && k != 'c') || PyDataType_HASFIELDS(d) ||
      PyDataType_HASSUBARRAY(d))
    throw TypeError(std::string(arg) + ": unsupported dtype " + descr_name(d) +
                    " (bool, integer, float or complex)");
  // The byte order stays as asked (numpy.zeros('>f4') is big-endian): a zero fill is
  // all-bits-zero in either order.
  return reinterpret_cast<PyArray_Descr*>(keep.release().ptr());
}

nb::object numpy_dtype(DType t) {
  return nb::steal(reinterpret_cast<PyObject*>(PyArray_DescrFromType(to_numpy_type(t))));
}

nb::object new_array(DType t, int ndim, const int64_t* shape, View* view, int64_t page_offset) {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i)
    if (shape[i] < 0) throw ValueError("shape: negative dimension " + std::to_string(shape[i]));
  // Too big to count or to have: named with the shape the caller's arguments made (probe22b:
  // "output size: size overflows int64 (a * b)" named neither the array nor its size).
  auto too_big = [&](const std::string& what) {
    std::string s;
    for (int k = 0; k < ndim; ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
    return MemoryError("output: cannot allocate " + what + " for shape (" + s + ")");
  };
  int64_t bytes = static_cast<int64_t>(itemsize(t));
  for (int i = 0; i < ndim; ++i) {
    if (__builtin_mul_overflow(n, shape[i], &n) || __builtin_mul_overflow(bytes, shape[i], &bytes))
      throw too_big("more bytes than int64 counts");
  }
  if (bytes > (int64_t{1} << 47)) throw too_big(std::to_string(bytes) + " bytes");
  const bool place = page_offset >= 0 && page_offset < 4096 && page_offset % 64 == 0;
  void* block;
  try {
    block = memory::allocate(static_cast<size_t>(bytes) + (place ? 4096 : 0));
  } catch (const MemoryError&) {  // the OS refused: name the array, not the pool
    throw MemoryError("output: cannot allocate " + std::to_string(bytes) + " bytes");
  }
  PyObject* cap = PyCapsule_New(block, "npfast.buffer", free_capsule);
  if (!cap) {
    memory::deallocate(block);
    throw nb::python_error();
  }
  trace_data(block, static_cast<size_t>(bytes) + (place ? 4096 : 0));
  char* data = static_cast<char*>(block);
  if (place) {
    const auto at = static_cast<int64_t>(reinterpret_cast<uintptr_t>(data) % 4096);
    data += (page_offset - at + 4096) % 4096;
  }
  nb::object capsule = nb::steal(cap);
  npy_intp dims[View::kMaxDims];
  for (int i = 0; i < ndim; ++i) dims[i] = static_cast<npy_intp>(shape[i]);
  PyArray_Descr* descr = PyArray_DescrFromType(to_numpy_type(t));  // stolen below
  PyObject* arr = PyArray_NewFromDescr(&PyArray_Type, descr, ndim, dims, nullptr, data,
                                       NPY_ARRAY_CARRAY, nullptr);
  if (!arr) throw nb::python_error();
  nb::object result = nb::steal(arr);
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(arr), capsule.release().ptr()) < 0)
    throw nb::python_error();
  *view = view_of(reinterpret_cast<PyArrayObject*>(arr), t);
  return result;
}

View check_out(nb::handle out, DType t, int ndim, const int64_t* shape, const char* arg) {
  if (!PyArray_Check(out.ptr()))
    throw TypeError(std::string(arg) + ": expected a numpy.ndarray, got " + py_repr(out));
  PyArrayObject* a = reinterpret_cast<PyArrayObject*>(out.ptr());
  DType ot;
  if (!from_descr(PyArray_DESCR(a), &ot) || ot != t)
    throw TypeError(std::string(arg) + ": dtype must be " + dtype_name(t) + ", got " +
                    descr_name(PyArray_DESCR(a)));
  View v = view_of(a, t);
  bool same = v.ndim == ndim;
  for (int i = 0; same && i < ndim; ++i) same = v.shape[i] == shape[i];
  if (!same) {
    View want;
    want.ndim = ndim;
    for (int i = 0; i < ndim; ++i) want.shape[i] = shape[i];
    throw ValueError(std::string(arg) + ": shape must be " + shape_str(want) + ", got " +
                     shape_str(v));
  }
  if (!PyArray_ISWRITEABLE(a)) throw ValueError(std::string(arg) + ": array is read-only");
  if (!PyArray_ISNOTSWAPPED(a))
    throw TypeError(std::string(arg) + ": must be in native byte order, got " +
                    descr_name(PyArray_DESCR(a)));
  if (!PyArray_ISALIGNED(a)) throw ValueError(std::string(arg) + ": array is not aligned");
  // An empty array's strides address nothing (NumPy 2 gives size-0 arrays zero strides), nor
  // does a length-1 axis's: NumPy takes any there (probe24d), so it gets the C-order value.
  const int64_t item = static_cast<int64_t>(itemsize(t));
  int64_t inner = item;
  for (int i = ndim - 1; i >= 0 && !v.empty(); inner *= shape[i--]) {
    if (shape[i] == 1) v.strides[i] = inner;
    if (v.strides[i] % item != 0 || (v.strides[i] == 0 && shape[i] > 1))
      throw ValueError(std::string(arg) + ": strides must be non-zero multiples of the itemsize");
  }
  return v;
}

nb::object out_or_new(nb::handle out, DType t, int ndim, const int64_t* shape, View* view,
                      const char* arg, int64_t page_offset) {
  if (out.is_valid() && !out.is_none()) {
    *view = check_out(out, t, ndim, shape, arg);
    return nb::borrow(out);
  }
  return new_array(t, ndim, shape, view, page_offset);
}

namespace {
// [lo, hi) byte range a view can touch.
void extent(const View& v, const char** lo, const char** hi) {
  const char* b = static_cast<const char*>(v.data);
  const char* e = b;
  if (v.empty()) {
    *lo = *hi = b;
    return;
  }
  for (int i = 0; i < v.ndim; ++i) {
    const int64_t span = (v.shape[i] - 1) * v.strides[i];
    if (span < 0)
      b += span;
    else
      e += span;
  }
  *lo = b;
  *hi = e + itemsize(v.dtype);
}
}  // namespace

const View* optional_array(nb::handle obj, const char* arg, const char* accepts, Array* a) {
  if (obj.is_none()) return nullptr;
  *a = as_array(obj, arg, accepts);
  return &a->view;
}

void check_no_overlap(const View& out, std::initializer_list<const View*> inputs, const char* arg) {
  const char *olo, *ohi;
  extent(out, &olo, &ohi);
  for (const View* in : inputs) {
    if (!in) continue;
    const char *ilo, *ihi;
    extent(*in, &ilo, &ihi);
    if (olo < ihi && ilo < ohi)
      // By address range: interleaved views that share no element are refused too (probe23b:
      // the message said they shared memory).
      throw ValueError(std::string(arg) +
                       ": must not share memory with an input (their address ranges overlap)");
  }
}

}  // namespace py
}  // namespace npfast
