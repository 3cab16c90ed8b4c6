// npfast.memory (the pool's stats, trim, limit and the NumPy allocation hook) and
// npfast.empty / npfast.zeros.
//
// The hook is a NEP 49 PyDataMem_Handler named "npfast_pool". NumPy stores the handler capsule
// in every array it allocates and frees the data through that capsule, so an array allocated
// under the hook and freed after it (or the reverse) always goes back where it came from. The
// free size NumPy passes is ignored: blocks know their own size.
#include <link.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
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
  // An int, or a 0-d integer array; a 1-d array of ints is a sequence (NumPy takes both).
  const bool array_of_dims =
      PyArray_Check(shape.ptr()) && PyArray_NDIM(reinterpret_cast<PyArrayObject*>(shape.ptr())) > 0;
  if (PyIndex_Check(shape.ptr()) && !array_of_dims) {
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

// order: 'C' or 'F', as numpy.empty / numpy.zeros take it (None: 'C').
bool fortran_order(nb::handle order) {
  if (order.is_none()) return false;
  std::string o;
  if (PyUnicode_Check(order.ptr()))
    o = nb::cast<std::string>(order);
  else if (PyBytes_Check(order.ptr()))
    o = PyBytes_AS_STRING(order.ptr());
  else
    throw TypeError("order: must be 'C' or 'F', got " + py_repr(order));
  if (o == "C" || o == "c" || o == "F" || o == "f") return o == "F" || o == "f";
  throw ValueError("order: must be 'C' or 'F', got " + py_repr(order));
}

// A C- (or, with `fortran`, F-) contiguous array owning a pool block: OWNDATA with npfast's
// handler, so NumPy frees it like any array of its own (and .base is None).
nb::object pool_array(nb::handle shape, nb::handle dtype, bool zeroed, bool fortran) {
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
  try {
    if (zeroed && bytes >= (int64_t{1} << 20)) {
      ReleaseGil release;  // a big zero fill takes a while
      data = memory::allocate_zeroed(static_cast<size_t>(bytes));
    } else {
      data = zeroed ? memory::allocate_zeroed(static_cast<size_t>(bytes))
                    : memory::allocate(static_cast<size_t>(bytes));
    }
  } catch (const MemoryError&) {
    // The pool's message names its own function; name the caller's arguments, as NumPy does.
    throw MemoryError("shape: cannot allocate " + std::to_string(bytes) +
                      " bytes for an array of shape " + py_repr(shape) + " and data type " +
                      nb::cast<std::string>(nb::str(keep)));
  }
  // An empty array's strides are all 0, as numpy.empty / numpy.zeros make them (NumPy fills
  // them from the shape when it is given the data).
  npy_intp zero_strides[NPY_MAXDIMS] = {};
  Py_INCREF(descr);  // PyArray_NewFromDescr steals it
  PyObject* arr =
      PyArray_NewFromDescr(&PyArray_Type, descr, nd, dims, n == 0 ? zero_strides : nullptr, data,
                           fortran ? NPY_ARRAY_FARRAY : NPY_ARRAY_CARRAY, nullptr);
  if (!arr) {
    memory::deallocate(data);
    throw nb::python_error();
  }
  PyObject* cap = handler_capsule();
  Py_INCREF(cap);
  reinterpret_cast<PyArrayObject_fields*>(arr)->mem_handler = cap;
  PyArray_ENABLEFLAGS(reinterpret_cast<PyArrayObject*>(arr), NPY_ARRAY_OWNDATA);
  trace_data(data, static_cast<size_t>(bytes));  // NumPy's free wrapper untraces it
  return nb::steal(arr);
}

// ---- Numba's runtime (NRT), for npfast.numba ----------------------------------------------
//
// Two routes into the pool (docs/memory.md, "Numba"):
// * NRT's system allocator, a static struct of three function pointers (TheMSys.allocator in
//   numba/core/runtime/nrt.cpp) that Numba sets to PyMem_RawMalloc/Realloc/Free when it is
//   imported. It allocates every MemInfo and array that compiled code makes (np.zeros,
//   np.empty, temporaries, lists). Numba exports no setter (NRT_MemSys_set_allocator is
//   static), so nrt_attach() finds the struct as the one place in _nrt_python's writable data
//   that holds exactly that triple, and nrt_switch() stores into it atomically.
// * NRT_ExternalAllocator: a MemInfo made with one records it and is freed through it,
//   whatever is installed. npfast.zeros / npfast.empty inside @njit use this.

// NRT system-allocator blocks from the pool start 8 bytes past a 16-byte boundary, with this
// tag in those 8 bytes. Blocks of CPython's raw allocator (malloc, or PYTHONMALLOC=debug's
// 16-byte header on malloc) are 16-byte aligned, so nrt_free() tells the two apart without
// reading outside the block it is given; the tag guards against an 8-aligned foreign block.
constexpr uint64_t kNrtTag = 0x4e52544e70667374ull;  // "tsfpNTRN"
constexpr size_t kNrtSkew = 8;
// Bigger requests fail here (the pool would refuse them anyway) so that size + skew cannot wrap.
constexpr size_t kNrtMaxRequest = size_t{1} << 60;

bool nrt_ours(const void* p) noexcept {
  if ((reinterpret_cast<uintptr_t>(p) & 15) != kNrtSkew) return false;
  uint64_t tag;
  std::memcpy(&tag, static_cast<const char*>(p) - kNrtSkew, sizeof tag);
  return tag == kNrtTag;
}

void* nrt_malloc(size_t size) noexcept {
  if (size > kNrtMaxRequest) return nullptr;  // NRT turns NULL into MemoryError
  try {
    char* u = static_cast<char*>(memory::allocate(size + kNrtSkew));
    std::memcpy(u, &kNrtTag, sizeof kNrtTag);
    return u + kNrtSkew;
  } catch (...) {
    return nullptr;
  }
}

// Installed for good at the first install(): frees both kinds of block, so a block keeps
// going back to the allocator that made it across any install() / uninstall().
void nrt_free(void* p) noexcept {
  if (p && nrt_ours(p))
    memory::deallocate(static_cast<char*>(p) - kNrtSkew);
  else
    PyMem_RawFree(p);
}

void* nrt_realloc(void* p, size_t size) noexcept {
  if (!p || !nrt_ours(p)) return PyMem_RawRealloc(p, size);  // stays CPython's
  const size_t have = memory::block_size(static_cast<char*>(p) - kNrtSkew) - kNrtSkew;
  if (size <= have && size >= have / 2) return p;
  void* q = nrt_malloc(size);
  if (!q) return nullptr;  // p stays valid
  std::memcpy(q, p, size < have ? size : have);
  nrt_free(p);
  return q;
}

using MallocFn = void* (*)(size_t);
using ReallocFn = void* (*)(void*, size_t);
using FreeFn = void (*)(void*);
struct NrtSysAllocator {  // the layout of TheMSys.allocator
  MallocFn malloc;
  ReallocFn realloc;
  FreeFn free;
};
NrtSysAllocator* g_nrt_slot = nullptr;

struct FindSlot {
  uintptr_t code;  // an address inside the NRT library
  NrtSysAllocator* found = nullptr;
  int matches = 0;
};

bool is_raw_triple(const NrtSysAllocator* a) {
  return a->malloc == &PyMem_RawMalloc && a->realloc == &PyMem_RawRealloc &&
         a->free == &PyMem_RawFree;
}

int scan_object(dl_phdr_info* info, size_t, void* arg) {
  auto* f = static_cast<FindSlot*>(arg);
  bool mine = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && f->code >= lo && f->code < lo + ph.p_memsz) mine = true;
  }
  if (!mine) return 0;
  // The GOT also holds the three addresses; it lies in the RELRO part, which a static never does.
  uintptr_t relro_lo = 0, relro_hi = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_GNU_RELRO) {
      relro_lo = info->dlpi_addr + ph.p_vaddr;
      relro_hi = relro_lo + ph.p_memsz;
    }
  }
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W)) continue;
    const uintptr_t lo = (info->dlpi_addr + ph.p_vaddr + 7) & ~uintptr_t{7};
    const uintptr_t hi = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
    for (uintptr_t a = lo; a + sizeof(NrtSysAllocator) <= hi; a += 8) {
      if (a >= relro_lo && a < relro_hi) continue;
      auto* cand = reinterpret_cast<NrtSysAllocator*>(a);
      if (is_raw_triple(cand)) {
        f->found = cand;
        ++f->matches;
      }
    }
  }
  return 1;  // stop: the object is found
}

using GetApiFn = void** (*)();  // NRT_get_api: NRT_api_functions*, a struct of pointers
using AllocExternalFn = void* (*)(size_t, void*);
AllocExternalFn g_alloc_external = nullptr;

// Takes NRT_MemInfo_alloc_external from NRT's API struct (`get_api` is NRT_get_api, from
// numba.core.runtime._nrt_python.c_helpers) and looks for NRT's system allocator in the
// library that holds it. Returns how many places matched: install() needs exactly one.
int nrt_attach(uintptr_t get_api) {
  g_alloc_external = reinterpret_cast<AllocExternalFn>(reinterpret_cast<GetApiFn>(get_api)()[1]);
  if (g_nrt_slot) return 1;
  FindSlot f{get_api};
  dl_iterate_phdr(scan_object, &f);
  if (f.matches == 1) g_nrt_slot = f.found;
  return f.matches;
}

// Switches NRT's malloc between the pool and CPython's raw allocator. The first call also
// stores nrt_realloc / nrt_free (before malloc: a block from nrt_malloc can only ever meet
// nrt_free). Aligned pointer stores are atomic, so threads running compiled code meanwhile
// see either the old or the new function.
void nrt_switch(bool on) {
  if (!g_nrt_slot)
    throw std::runtime_error(
        "npfast.numba: cannot find Numba's NRT allocator (set to PyMem_RawMalloc/Realloc/Free "
        "once in its runtime library); this Numba version is not supported");
  // Someone else changed NRT's allocator since (e.g. Numba's runtime module re-imported): the
  // free function might no longer accept pool blocks, so refuse rather than mix them.
  const NrtSysAllocator now = *g_nrt_slot;
  if ((now.malloc != &PyMem_RawMalloc && now.malloc != &nrt_malloc) ||
      (now.realloc != &PyMem_RawRealloc && now.realloc != &nrt_realloc) ||
      (now.free != &PyMem_RawFree && now.free != &nrt_free))
    throw std::runtime_error("npfast.numba: Numba's allocator was changed by someone else");
  __atomic_store_n(&g_nrt_slot->free, &nrt_free, __ATOMIC_RELEASE);
  __atomic_store_n(&g_nrt_slot->realloc, &nrt_realloc, __ATOMIC_RELEASE);
  __atomic_store_n(&g_nrt_slot->malloc, on ? &nrt_malloc : &PyMem_RawMalloc, __ATOMIC_RELEASE);
}

bool nrt_installed() {
  return g_nrt_slot && __atomic_load_n(&g_nrt_slot->malloc, __ATOMIC_ACQUIRE) == &nrt_malloc;
}

// How many fills nrt_memset has sent to zero_fill, for the tests (_zero_fill_calls): counted
// with a relaxed load and store, not a locked add, so a fill of a few bytes costs no more; fills
// on several threads at once may lose counts.
std::atomic<uint64_t> g_nrt_zero_fills{0};

// Numba's np.zeros is an NRT allocation followed by llvm.memset, which compiled code calls as
// `memset`; npfast.numba registers this function under that name with llvmlite, whose symbols
// the JIT linker looks up before the C library's. While install() is on, every zero fill takes
// the pool's clearing policy (memory::zero_fill, as npfast.zeros): from 32 MiB non-temporal
// stores across threads (or plain ones for a block still in cache), which took the
// pure_numba(4000) loop from 23 to ~14 ms; below that the clear from the block's end back, split
// across threads from kSplitZeroBytes, which made pure_numba(700-2000) 1.12-1.31x faster than
// the C library's forward memset (zeros5: until then only fills from 32 MiB came here).
// Anything else is the C library's memset.
void* nrt_memset(void* p, int c, size_t n) noexcept {
  if (c == 0 && nrt_installed()) {
    g_nrt_zero_fills.store(g_nrt_zero_fills.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
    try {
      memory::zero_fill(p, n);
      return p;
    } catch (...) {  // could not start threads: clear it here
    }
  }
  return std::memset(p, c, n);
}

// The external allocator behind npfast.zeros / npfast.empty in @njit code. NRT puts its
// 48-byte MemInfo at the start of the block and the array right after it; starting the block
// 16 bytes into a pool block puts the array on a 64-byte boundary.
struct NrtExternalAllocator {  // nrt_external.h's NRT_ExternalAllocator
  void* (*malloc)(size_t, void*);
  void* (*realloc)(void*, size_t, void*);
  void (*free)(void*, void*);
  void* opaque;  // non-null: zero the block
};
constexpr size_t kExtSkew = 16;

void* ext_malloc(size_t size, void* zero) noexcept {
  if (size > kNrtMaxRequest) return nullptr;
  try {
    char* u = static_cast<char*>(zero ? memory::allocate_zeroed(size + kExtSkew)
                                      : memory::allocate(size + kExtSkew));
    return u + kExtSkew;
  } catch (...) {
    return nullptr;
  }
}
void ext_free(void* p, void*) noexcept {
  if (p) memory::deallocate(static_cast<char*>(p) - kExtSkew);
}
// NRT never reallocates a MemInfo block; kept correct for the struct's contract.
void* ext_realloc(void* p, size_t size, void*) noexcept {
  if (!p) return ext_malloc(size, nullptr);
  const size_t have = memory::block_size(static_cast<char*>(p) - kExtSkew) - kExtSkew;
  if (size <= have) return p;
  void* q = ext_malloc(size, nullptr);
  if (!q) return nullptr;
  std::memcpy(q, p, have);
  ext_free(p, nullptr);
  return q;
}
int g_zero_marker = 1;
NrtExternalAllocator g_ext_empty = {ext_malloc, ext_realloc, ext_free, nullptr};
NrtExternalAllocator g_ext_zeros = {ext_malloc, ext_realloc, ext_free, &g_zero_marker};

// New MemInfos (NULL when out of memory) for npfast.empty / npfast.zeros in @njit code.
void* nrt_empty(size_t nbytes) noexcept { return g_alloc_external(nbytes, &g_ext_empty); }
void* nrt_zeros(size_t nbytes) noexcept { return g_alloc_external(nbytes, &g_ext_zeros); }

uintptr_t addr(void* p) { return reinterpret_cast<uintptr_t>(p); }

}  // namespace

NPFAST_BIND(memory) {
  m.def("_pool_stats", &stats_py);
  m.def("_pool_trim", [] { memory::trim(); });
  m.def("_pool_limit", [] { return memory::cache_limit(); });
  m.def("_pool_decay_ms", [] { return memory::decay_ms(); });
  m.def("_pool_hugepages", [] { return memory::huge_pages(); });
  m.def(
      "_pool_set_limit",
      [](nb::handle nbytes) {
        const int64_t bytes = int_arg(nbytes, "nbytes");  // None too: TypeError naming nbytes
        if (bytes < 0) throw ValueError("nbytes: must be >= 0, got " + std::to_string(bytes));
        memory::set_cache_limit(static_cast<size_t>(bytes));
      },
      nb::arg("nbytes").none());
  m.def("_pool_handler", [] { return nb::borrow(handler_capsule()); });
  m.def("_set_handler", &set_handler, nb::arg("handler").none());
  m.def("_handler_name", &handler_name);
  // The block sizes where zero_fill changes its way (tests cover the lengths around them).
  m.def("_zero_fill_bytes",
        [] { return std::make_pair(memory::kSplitZeroBytes, memory::kStreamZeroBytes); });
  m.def("_owns", [](nb::handle a) {
    Array x = as_array(a, "a");
    return memory::owns(x.view.data);
  });

  m.def("_nrt_attach", &nrt_attach);
  m.def("_nrt_switch", &nrt_switch);
  m.def("_nrt_installed", &nrt_installed);
  // True when the NRT block starting at `p` (a MemInfo address) came from the pool.
  m.def("_nrt_owns", [](uintptr_t p) { return nrt_ours(reinterpret_cast<void*>(p)); });
  m.def("_nrt_memset", [] { return addr(reinterpret_cast<void*>(&nrt_memset)); });
  // How many zero fills compiled code's memset has sent to the pool's zero_fill (tests only).
  m.def("_zero_fill_calls", [] { return g_nrt_zero_fills.load(std::memory_order_relaxed); });
  // Addresses of nrt_empty / nrt_zeros (size_t nbytes -> MemInfo*), for compiled code.
  m.def("_nrt_allocators", [] {
    return std::make_pair(addr(reinterpret_cast<void*>(&nrt_empty)),
                          addr(reinterpret_cast<void*>(&nrt_zeros)));
  });

  m.def(
      "empty",
      [](nb::handle shape, nb::handle dtype, nb::handle order) {
        return pool_array(shape, dtype, false, fortran_order(order));
      },
      nb::sig("def empty(shape: int | typing.Sequence[int], "
              "dtype: numpy.typing.DTypeLike = numpy.float64, order: str = 'C') -> numpy.ndarray"),
      nb::arg("shape").none(), nb::arg("dtype").none() = nb::none(), nb::arg("order").none() = "C",
      R"doc(A new uninitialized array whose memory comes from npfast's pool.

Like ``numpy.empty``, but a block freed earlier is reused warm (no page faults), and the
buffer returns to the pool when the array dies. Also callable inside ``@numba.njit`` code
(see ``npfast.numba``).

Parameters
----------
shape : int or sequence of ints (a 1-d integer array too)
dtype : dtype, default float64
    Any bool, integer, float or complex dtype (as ``numpy.empty``; zeros are all-bits-zero,
    which is 0 / False / 0j in each).
order : 'C' or 'F', default 'C'
    Row-major (C) or column-major (Fortran) memory, as NumPy's (inside ``@numba.njit``: 'C').

Raises
------
ValueError  for a negative dimension, a shape whose size overflows, or another order.
TypeError   for a non-integer shape or an unsupported dtype.
MemoryError when the size cannot be allocated.
)doc");
  m.def(
      "zeros",
      [](nb::handle shape, nb::handle dtype, nb::handle order) {
        return pool_array(shape, dtype, true, fortran_order(order));
      },
      nb::sig("def zeros(shape: int | typing.Sequence[int], "
              "dtype: numpy.typing.DTypeLike = numpy.float64, order: str = 'C') -> numpy.ndarray"),
      nb::arg("shape").none(), nb::arg("dtype").none() = nb::none(), nb::arg("order").none() = "C",
      R"doc(A new zero-filled array whose memory comes from npfast's pool.

Like ``numpy.zeros``. A cached block is cleared with SIMD stores (non-temporal for blocks of
32 MiB and more), which is ~30x cheaper than faulting in fresh pages; when the pool has no
block of that size it maps fresh pages, which the OS provides already zero. Also callable
inside ``@numba.njit`` code (see ``npfast.numba``).

Parameters
----------
shape : int or sequence of ints (a 1-d integer array too)
dtype : dtype, default float64
    Any bool, integer, float or complex dtype (as ``numpy.empty``; zeros are all-bits-zero,
    which is 0 / False / 0j in each).
order : 'C' or 'F', default 'C'
    Row-major (C) or column-major (Fortran) memory, as NumPy's (inside ``@numba.njit``: 'C').

Raises
------
ValueError  for a negative dimension, a shape whose size overflows, or another order.
TypeError   for a non-integer shape or an unsupported dtype.
MemoryError when the size cannot be allocated.
)doc");
}

}  // namespace py
}  // namespace npfast
