// Shared by the bind_<family>.cpp files: registration, and the conversion between NumPy arrays
// and npfast views. Bindings stay thin: convert, release the GIL, call the operator.
#pragma once

#include <nanobind/nanobind.h>

#define NO_IMPORT_ARRAY
#define PY_ARRAY_UNIQUE_SYMBOL npfast_ARRAY_API
#include <numpy/arrayobject.h>

#include <optional>
#include <string>

#include "npfast/border.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace py {

namespace nb = nanobind;

// The GIL released for a kernel's run (every binding's `ReleaseGil release;` around the C++
// call), taken back when the scope ends. A daemon thread must not wait for the GIL once the
// interpreter finalizes: CPython 3.11's take_gil then ends the thread with pthread_exit, whose
// forced unwinding through this destructor (noexcept) and nanobind's catch-all aborted the
// process at exit ("terminate called without an active exception", probe19e; torch aborts the
// same way, NumPy's C frames unwind). So from npfast's atexit hook on (`_exiting`, registered
// at import: it runs before the finalization begins, after the non-daemon threads are joined),
// a thread other than the one finalizing (which later atexit callbacks may still run npfast
// on) parks for good when it enters or leaves a kernel, as CPython 3.14 parks its own; the
// process exits around it.
class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {
    if (exiting()) park();
  }
  ~ReleaseGil() {
    if (exiting()) park();
    PyEval_RestoreThread(state_);
  }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

  // The atexit hook: from now on threads park rather than take the GIL back; the caller's GIL
  // is let go for `grace_ms`, so threads already waiting for it get it now, return to Python
  // and park at their next call, before the finalization can end them.
  static void begin_exit(int grace_ms);

 private:
  static bool exiting();
  [[noreturn]] static void park();
  PyThreadState* state_;
};

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

// An array's data block traced by tracemalloc in NumPy's domain (np.lib.tracemalloc_domain,
// where NumPy's allocation wrappers trace theirs), so memory profilers see npfast's arrays
// (probe21e: tracemalloc missed npfast.zeros and every operator's pool-backed result); a
// no-op while tracemalloc is off.
void trace_data(const void* block, size_t bytes);
void untrace_data(const void* block);

// An input array: a reference that keeps it alive while the GIL is released, and its view.
struct Array {
  nb::object ref;
  View view;
};

// Like np.asarray(obj) (no copy for an ndarray); TypeError naming `arg` for object, string
// and other dtypes npfast has no kernels for (the message ends with `accepts`, what the caller
// takes), or for what NumPy cannot turn into an array. Dtypes are resolved by kind and item
// size, so np.longlong is int64 and np.uint (on LP64) is uint64.
Array as_array(nb::handle obj, const char* arg,
               const char* accepts = "npfast takes float32, float64 and integer arrays");
constexpr const char* kFloatsOnly = "float32 or float64 arrays only";
// An optional array argument (a bias): nullptr for None, else as_array's view, kept in `a`.
const View* optional_array(nb::handle obj, const char* arg, const char* accepts, Array* a);
// np.dtype(obj) mapped to npfast's DType; TypeError naming `arg` otherwise.
DType as_dtype(nb::handle obj, const char* arg);
// np.dtype(obj) for a plain bool, integer, float or complex dtype (new reference; the byte
// order as given); TypeError naming `arg` for anything else (objects, strings, structured,
// datetimes).
PyArray_Descr* numpy_descr(nb::handle obj, const char* arg);
// NumPy dtype object for a DType.
nb::object numpy_dtype(DType t);

// A new C-contiguous ndarray whose buffer comes from npfast's pool (and goes back to it when
// the array dies). `view` receives its view. `page_offset` (a multiple of 64 below 4096, or -1
// for the pool's own placement): where the data starts within its page, for an operator
// whose speed depends on the distance from its input (corr2d_output_page_offset); it costs up
// to 4 KiB of slack in the block.
nb::object new_array(DType t, int ndim, const int64_t* shape, View* view, int64_t page_offset = -1);

// Checks a caller's `out=`: an ndarray of exactly this dtype and shape, writeable, aligned and
// not overlapping any of `inputs`. Returns its view; never converts (a mismatched `out` is an
// error, not a write into a temporary).
View check_out(nb::handle out, DType t, int ndim, const int64_t* shape, const char* arg);

// Either the caller's `out` (checked) or a new pool array.
nb::object out_or_new(nb::handle out, DType t, int ndim, const int64_t* shape, View* view,
                      const char* arg = "out", int64_t page_offset = -1);

// Raises ValueError when `out` shares memory with any input (kernels read and write at once);
// null inputs (absent optional arrays) are skipped.
void check_no_overlap(const View& out, std::initializer_list<const View*> inputs,
                      const char* arg = "out");

// The one argument parser: every binding (and, through _pair / _int, npfast.nn and npfast.dask)
// converts integer and PyTorch-style pair arguments here.
//
// Any integer (operator.index: Python and NumPy ints), never a bool or a float: TypeError
// naming `arg` otherwise, ValueError when it does not fit in int64.
int64_t int_arg(nb::handle v, const char* arg);
// A real number (float, int or a NumPy real scalar), else TypeError naming `arg`.
double real_arg(nb::handle v, const char* arg);
// A flag: True / False, or a NumPy bool (PyTorch refuses those; npfast takes what NumPy code
// hands on), else TypeError naming `arg` (PyTorch's rule: 1 and "yes" are refused).
bool bool_arg(nb::handle v, const char* arg);
// A sequence that is not a string, bytes or ndarray (the tuples and lists PyTorch takes).
bool is_sequence(nb::handle v);
// PyTorch's pair rule (torch.nn.modules.utils._pair): an int, or a sequence of one int (used
// for both) or two ints, as (height, width). Returns false, leaving `out` alone, for None or
// an empty sequence (the caller's default, or its error); ValueError for a longer sequence.
bool pair_arg(nb::handle v, const char* arg, int64_t out[2]);
// pair_arg where no default exists: TypeError for None, ValueError for ().
void required_pair(nb::handle v, const char* arg, int64_t out[2]);
// layout="NCHW" (also None) or "NHWC": true for channels-last; ValueError naming `layout` and
// the value otherwise.
bool channels_last_arg(nb::handle layout);

// The torch-style image bindings: a 4-d (N, C, H, W) or 3-d unbatched (C, H, W) `arg`
// (ValueError naming it otherwise; `channels` names C in the message, worded (N, H, W, C) for
// `channels_last`), and the unbatched form viewed as (1, C, H, W) for the operators (other
// ranks unchanged).
void check_image_ndim(const View& v, const char* arg, const char* channels = "C",
                      bool channels_last = false);
View batched(const View& v);

// npfast.ndimage's operators: a mode code as _ndimage_support.MODES gives it (Border's values;
// ValueError naming `mode` otherwise), and the caller's output array (any supported dtype, the
// input's shape), which is the input itself or does not overlap it.
Border border_code(int mode);
View ndimage_output(nb::handle output, const Array& x);

// output_mask=: a sequence (not a string) of exactly 3 truth values; ValueError naming `arg`
// otherwise.
void mask3_arg(nb::handle v, const char* arg, bool out[3]);

// A shape: a sequence of min_nd to max_nd non-negative ints, as a View of dtype `t` with no
// data (for the *_shape functions).
View shape_arg(nb::handle v, const char* arg, DType t, int min_nd, int max_nd);

// Where the anchor (PyTorch; scipy.ndimage for some arguments) raises RuntimeError for a bad
// argument value or dtype, npfast raises one of two classes that are both npfast's class and
// the anchor's, so code written against either (`except RuntimeError`, `except ValueError` /
// `except TypeError`) catches them: npfast.AnchorValueError (ValueError and RuntimeError),
// npfast.AnchorTypeError (TypeError and RuntimeError). The Python modules raise the same
// classes. Bind a function whose ValueError/TypeError all become these as
//   m.def("conv2d", runtime_anchored<&conv2d_py>, ...);
// or raise one directly with raise_anchor_error.
[[noreturn]] void raise_anchor_error(bool type_error, const char* what);
template <auto F>
struct RuntimeAnchored;
template <class R, class... A, R (*F)(A...)>
struct RuntimeAnchored<F> {
  static R call(A... args) {
    try {
      return F(args...);
    } catch (const TypeError& e) {
      raise_anchor_error(true, e.what());
    } catch (const ValueError& e) {
      raise_anchor_error(false, e.what());
    }
  }
};
template <auto F>
constexpr auto runtime_anchored = &RuntimeAnchored<F>::call;
// Creates the two classes on the module (module init).
void add_anchor_errors(nb::module_& m);

// py_repr() of a Python object, for messages.
std::string py_repr(nb::handle obj);

}  // namespace py
}  // namespace npfast
