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
  npfast::py::bind_all(m);
}
