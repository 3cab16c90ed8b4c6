// The operators' view toolkit: argument checks, plane and row iteration, and strided copies.
//
// Every operator in src/ops takes Views of any strides; these are the one copy of the checks
// and data movement they share. Offsets are in bytes, as View's strides. Checks throw before
// anything is written, with messages that name the argument and its value (docs/errors).
#pragma once

#include <cstdint>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace views {

// ---------------------------------------------------------------------------------------------
// Checks. `arg` names the argument in messages ("input", "out").

// TypeError "arg: dtype must be float32 or float64, got <dtype>" unless v is f32 or f64.
void check_float(const View& v, const char* arg);
// TypeError "arg: dtype must be <t>, got <dtype>" unless v has dtype t.
void check_dtype(const View& v, DType t, const char* arg);
// ValueError "arg: shape must be <want>, got <shape>" unless v has the shape `want`.
void check_shape(const View& v, const Shape& want, const char* arg);
// check_dtype, then check_shape: an output array the caller passed in.
void check_out(const View& v, DType t, const Shape& want, const char* arg);
// An index array paired with `like` (max pooling's argmax indices): TypeError unless int64,
// ValueError "indices: shape must equal <like_name>'s <shape>, got ..." unless `like`'s shape.
void check_indices(const View& indices, const View& like, const char* like_name);

// `v`'s shape with its last two axes replaced by (h, w): the output shape of a plane operator.
Shape with_plane(const View& v, int64_t h, int64_t w);
// True when a and b agree on every axis but the last two (and on ndim).
bool same_leading(const View& a, const View& b);

// ---------------------------------------------------------------------------------------------
// Dtypes.

// f(E{}) with E the element type of dtype t: the one switch over DType for code templated on
// the element type (what f returns, with_dtype returns).
template <class F>
decltype(auto) with_dtype(DType t, F&& f) {
  switch (t) {
    case DType::u8:
      return f(uint8_t{});
    case DType::i8:
      return f(int8_t{});
    case DType::u16:
      return f(uint16_t{});
    case DType::i16:
      return f(int16_t{});
    case DType::i32:
      return f(int32_t{});
    case DType::u32:
      return f(uint32_t{});
    case DType::i64:
      return f(int64_t{});
    case DType::u64:
      return f(uint64_t{});
    case DType::f32:
      return f(float{});
    case DType::f64:
      break;
  }
  return f(double{});
}

// ---------------------------------------------------------------------------------------------
// Iteration. Rows are the 1-d slices along the last axis, planes the 2-d slices over the last
// two axes, both numbered in C order over the axes before them.

// Byte offset of index `i` over axes [0, axes) of v (C order): the start of row i when
// axes == ndim - 1, of plane i when axes == ndim - 2.
inline int64_t leading_offset(const View& v, int64_t i, int axes) {
  int64_t off = 0;
  for (int a = axes - 1; a >= 0; --a) {
    const int64_t n = v.shape[a];
    off += (i % n) * v.strides[a];
    i /= n;
  }
  return off;
}
inline int64_t row_offset(const View& v, int64_t r) { return leading_offset(v, r, v.ndim - 1); }
inline int64_t plane_offset(const View& v, int64_t p) { return leading_offset(v, p, v.ndim - 2); }

// Number of planes of an (..., H, W) view: the product of the leading axes.
inline int64_t plane_count(const View& v) {
  int64_t n = 1;
  for (int i = 0; i < v.ndim - 2; ++i) n *= v.shape[i];
  return n;
}
// Plane p of an (..., H, W) view as a 2-d (H, W) view.
View plane_view(const View& v, int64_t p);

// The planes of an (..., H, W) view (ndim >= 2): plane(p) is the first byte of plane p, its
// element (h, w) at h * sh + w * sw bytes.
struct Planes {
  View v;
  int64_t count = 1;  // number of planes
  int64_t H = 0, W = 0;
  int64_t sh = 0, sw = 0;  // row and column byte strides

  explicit Planes(const View& view);
  const char* plane(int64_t p) const {
    return static_cast<const char*>(v.data) + plane_offset(v, p);
  }
};

// `a` and `b` (same shape) with every axis merged that can be merged in both: a C-contiguous
// pair becomes 1-d. Keeps ndim >= 1.
void merge_axes(View* a, View* b);

// ---------------------------------------------------------------------------------------------
// Strided copies. Threaded over rows; each element is copied once, so the partition does not
// matter.

// v's C-contiguous strides (in bytes) into v->strides.
void set_c_strides(View* v);
// The elements of v in C order into dst (v.size() * itemsize bytes), and back.
void copy_to_contiguous(const View& v, void* dst);
void copy_from_contiguous(const void* src, const View& v);
// v itself when it is C-contiguous (or empty), else a C-contiguous copy in a pool block kept
// alive by `keep`.
View contiguous(const View& v, Buffer<char>* keep);
template <class T>
const T* contiguous(const View& v, Buffer<char>* keep) {
  return contiguous(v, keep).ptr<T>();
}

// An output pointer for a kernel that writes C-contiguous results: `v`'s own data when it is
// C-contiguous, else a pool buffer that finish() copies into `v`. A null `v`: p stays null.
template <class T>
struct OutPtr {
  const View* v;
  Buffer<T> tmp;
  T* p = nullptr;
  explicit OutPtr(const View* view) : v(view) {
    if (!v) return;
    if (v->c_contiguous()) {
      p = v->ptr<T>();
    } else {
      tmp = Buffer<T>(static_cast<size_t>(v->size()));
      p = tmp.get();
    }
  }
  void finish() {
    if (v && !v->c_contiguous()) copy_from_contiguous(p, *v);
  }
};

}  // namespace views
}  // namespace npfast
