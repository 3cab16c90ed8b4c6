// Shared by the bind_<family>.cpp files: registration, and the conversion between NumPy arrays
// and npfast views. Bindings stay thin: convert, release the GIL, call the operator.
#pragma once

#include <nanobind/nanobind.h>

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL npfast_ARRAY_API
#include <numpy/arrayobject.h>

#include <optional>
#include <string>

#include "npfast/view.hpp"

namespace npfast {
namespace py {

namespace nb = nanobind;

// Each bind file registers its family with NPFAST_BIND(name) { ...m.def(...)... }; the module
// init calls them in name order.
using BindFn = void (*)(nb::module_&);
struct Registrar {
  Registrar(const char* name, BindFn fn);
};
void bind_all(nb::module_& m);

#define NPFAST_BIND(name)                                                            \
  static void npfast_bind_##name(::npfast::py::nb::module_& m);                      \
  static ::npfast::py::Registrar npfast_registrar_##name(#name, npfast_bind_##name); \
  static void npfast_bind_##name(::npfast::py::nb::module_& m)

// An input array: a reference that keeps it alive while the GIL is released, and its view.
struct Array {
  nb::object ref;
  View view;
};

// Like np.asarray(obj) (no copy for an ndarray); TypeError naming `arg` for object, string
// and other dtypes npfast has no kernels for, or for what NumPy cannot turn into an array.
Array as_array(nb::handle obj, const char* arg);
// np.dtype(obj) mapped to npfast's DType; TypeError naming `arg` otherwise.
DType as_dtype(nb::handle obj, const char* arg);
// NumPy dtype object for a DType.
nb::object numpy_dtype(DType t);

// A new C-contiguous ndarray whose buffer comes from npfast's pool (and goes back to it when
// the array dies). `view` receives its view.
nb::object new_array(DType t, int ndim, const int64_t* shape, View* view);

// Checks a caller's `out=`: an ndarray of exactly this dtype and shape, writeable, aligned and
// not overlapping any of `inputs`. Returns its view; never converts (a mismatched `out` is an
// error, not a write into a temporary).
View check_out(nb::handle out, DType t, int ndim, const int64_t* shape, const char* arg);

// Either the caller's `out` (checked) or a new pool array.
nb::object out_or_new(nb::handle out, DType t, int ndim, const int64_t* shape, View* view,
                      const char* arg = "out");

// Raises ValueError when `out` shares memory with any input (kernels read and write at once).
void check_no_overlap(const View& out, std::initializer_list<const View*> inputs,
                      const char* arg = "out");

// py_repr() of a Python object, for messages.
std::string py_repr(nb::handle obj);

}  // namespace py
}  // namespace npfast
