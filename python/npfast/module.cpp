// The extension module npfast._npfast: NumPy's C API, error mapping, and the family bindings.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#define PY_ARRAY_UNIQUE_SYMBOL npfast_ARRAY_API
#include <numpy/arrayobject.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "npfast/error.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

std::vector<std::pair<const char*, BindFn>>& registry() {
  static std::vector<std::pair<const char*, BindFn>> r;
  return r;
}

}  // namespace

namespace {
PyObject* g_anchor_value_error = nullptr;
PyObject* g_anchor_type_error = nullptr;

PyObject* new_error(const char* name, PyObject* base, const char* doc) {
  nb::object bases = nb::steal(PyTuple_Pack(2, base, PyExc_RuntimeError));
  if (!bases) throw nb::python_error();
  PyObject* t = PyErr_NewExceptionWithDoc(name, doc, bases.ptr(), nullptr);
  if (!t) throw nb::python_error();
  return t;  // kept for the life of the process
}
}  // namespace

void add_anchor_errors(nb::module_& m) {
  g_anchor_value_error = new_error(
      "npfast.AnchorValueError", PyExc_ValueError,
      "A bad argument value where the anchor (PyTorch, scipy.ndimage) raises RuntimeError: a "
      "ValueError (npfast's class) and a RuntimeError (the anchor's).");
  g_anchor_type_error =
      new_error("npfast.AnchorTypeError", PyExc_TypeError,
                "A bad argument type or dtype where the anchor (PyTorch, scipy.ndimage) raises "
                "RuntimeError: a TypeError (npfast's class) and a RuntimeError (the anchor's).");
  m.attr("AnchorValueError") = nb::borrow(g_anchor_value_error);
  m.attr("AnchorTypeError") = nb::borrow(g_anchor_type_error);
}

void raise_anchor_error(bool type_error, const char* what) {
  PyErr_SetString(type_error ? g_anchor_type_error : g_anchor_value_error, what);
  throw nb::python_error();
}

Registrar::Registrar(const char* name, BindFn fn) { registry().emplace_back(name, fn); }

void bind_all(nb::module_& m) {
  auto& r = registry();
  std::sort(r.begin(), r.end(),
            [](const auto& a, const auto& b) { return std::strcmp(a.first, b.first) < 0; });
  for (auto& [name, fn] : r) fn(m);
}

}  // namespace py
}  // namespace npfast

NB_MODULE(_npfast, m) {
  if (_import_array() < 0) throw nanobind::python_error();
  nanobind::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const npfast::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const npfast::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const npfast::MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });
  npfast::py::add_anchor_errors(m);
  npfast::py::bind_all(m);
}
