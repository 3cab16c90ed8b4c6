#include "npfast/view.hpp"

#include <cstring>
#include <string>

#include "npfast/threads.hpp"
#include "src/core/views.h"

namespace npfast {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::u8:
      return "uint8";
    case DType::i8:
      return "int8";
    case DType::u16:
      return "uint16";
    case DType::i16:
      return "int16";
    case DType::i32:
      return "int32";
    case DType::i64:
      return "int64";
    case DType::f32:
      return "float32";
    case DType::f64:
      return "float64";
    case DType::u32:
      return "uint32";
    case DType::u64:
      return "uint64";
  }
  return "?";
}

int64_t View::size() const {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= shape[i];
  return n;
}

bool View::contiguous_inner(int n) const {
  int64_t expect = static_cast<int64_t>(itemsize(dtype));
  for (int i = ndim - 1; i >= ndim - n; --i) {
    if (shape[i] != 1 && strides[i] != expect) return false;
    expect *= shape[i];
  }
  return true;
}

int64_t Shape::size() const {
  int64_t n = 1;
  for (int i = 0; i < ndim; ++i) n *= dims[i];
  return n;
}

Shape shape_of(const View& v) {
  Shape s;
  s.ndim = v.ndim;
  for (int i = 0; i < v.ndim; ++i) s.dims[i] = v.shape[i];
  return s;
}

bool has_shape(const View& v, const Shape& s) {
  if (v.ndim != s.ndim) return false;
  for (int i = 0; i < s.ndim; ++i)
    if (v.shape[i] != s.dims[i]) return false;
  return true;
}

std::string shape_str(const Shape& s) {
  std::string r = "(";
  for (int i = 0; i < s.ndim; ++i) {
    if (i) r += ", ";
    r += std::to_string(s.dims[i]);
  }
  if (s.ndim == 1) r += ",";
  return r + ")";
}

std::string shape_str(const View& v) { return shape_str(shape_of(v)); }

namespace views {

void check_float(const View& v, const char* arg) {
  if (v.dtype != DType::f32 && v.dtype != DType::f64)
    throw TypeError(std::string(arg) + ": dtype must be float32 or float64, got " +
                    dtype_name(v.dtype));
}

void check_dtype(const View& v, DType t, const char* arg) {
  if (v.dtype != t)
    throw TypeError(std::string(arg) + ": dtype must be " + dtype_name(t) + ", got " +
                    dtype_name(v.dtype));
}

void check_shape(const View& v, const Shape& want, const char* arg) {
  if (!has_shape(v, want))
    throw ValueError(std::string(arg) + ": shape must be " + shape_str(want) + ", got " +
                     shape_str(v));
}

void check_out(const View& v, DType t, const Shape& want, const char* arg) {
  check_dtype(v, t, arg);
  check_shape(v, want, arg);
}

void check_indices(const View& indices, const View& like, const char* like_name) {
  check_dtype(indices, DType::i64, "indices");
  if (!has_shape(indices, shape_of(like)))
    throw ValueError("indices: shape must equal " + std::string(like_name) + "'s " +
                     shape_str(like) + ", got " + shape_str(indices));
}

Shape with_plane(const View& v, int64_t h, int64_t w) {
  Shape s = shape_of(v);
  s.dims[v.ndim - 2] = h;
  s.dims[v.ndim - 1] = w;
  return s;
}

bool same_leading(const View& a, const View& b) {
  if (a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim - 2; ++i)
    if (a.shape[i] != b.shape[i]) return false;
  return true;
}

View plane_view(const View& v, int64_t p) {
  View x = v;
  x.data = static_cast<char*>(v.data) + plane_offset(v, p);
  x.ndim = 2;
  for (int i = 0; i < 2; ++i) {
    x.shape[i] = v.shape[v.ndim - 2 + i];
    x.strides[i] = v.strides[v.ndim - 2 + i];
  }
  return x;
}

Planes::Planes(const View& view) : v(view), count(plane_count(view)) {
  H = v.shape[v.ndim - 2];
  W = v.shape[v.ndim - 1];
  sh = v.strides[v.ndim - 2];
  sw = v.strides[v.ndim - 1];
}

void merge_axes(View* a, View* b) {
  int out = 0;
  View ra = *a, rb = *b;
  for (int i = 0; i < a->ndim; ++i) {
    if (a->shape[i] == 1 && a->ndim > 1) continue;  // size-1 axes carry no stride information
    if (out > 0 && ra.strides[out - 1] == a->shape[i] * a->strides[i] &&
        rb.strides[out - 1] == b->shape[i] * b->strides[i]) {
      ra.shape[out - 1] *= a->shape[i];
      rb.shape[out - 1] *= b->shape[i];
      ra.strides[out - 1] = a->strides[i];
      rb.strides[out - 1] = b->strides[i];
      continue;
    }
    ra.shape[out] = a->shape[i];
    rb.shape[out] = b->shape[i];
    ra.strides[out] = a->strides[i];
    rb.strides[out] = b->strides[i];
    ++out;
  }
  if (out == 0) {  // every axis had size 1
    ra.shape[0] = rb.shape[0] = 1;
    ra.strides[0] = static_cast<int64_t>(itemsize(a->dtype));
    rb.strides[0] = static_cast<int64_t>(itemsize(b->dtype));
    out = 1;
  }
  ra.ndim = rb.ndim = out;
  *a = ra;
  *b = rb;
}

void set_c_strides(View* v) {
  int64_t s = static_cast<int64_t>(itemsize(v->dtype));
  for (int i = v->ndim - 1; i >= 0; --i) {
    v->strides[i] = s;
    s *= v->shape[i];
  }
}

namespace {

// dst[j * ds] = src[j * ss] for j < n, elements of `item` bytes (strides in bytes, any
// alignment): a fixed-size copy per element, which compiles to one load and store.
template <size_t N>
void copy_elems_n(char* dst, int64_t ds, const char* src, int64_t ss, int64_t n) {
  for (int64_t j = 0; j < n; ++j) std::memcpy(dst + j * ds, src + j * ss, N);
}
void copy_elems(char* dst, int64_t ds, const char* src, int64_t ss, int64_t n, int64_t item) {
  switch (item) {
    case 1:
      return copy_elems_n<1>(dst, ds, src, ss, n);
    case 2:
      return copy_elems_n<2>(dst, ds, src, ss, n);
    case 4:
      return copy_elems_n<4>(dst, ds, src, ss, n);
    default:
      return copy_elems_n<8>(dst, ds, src, ss, n);
  }
}

// Copies between v's elements (any strides) and their C-order layout at `flat`: into it when
// `to_flat`, else back. Threaded over the rows along the last axis.
void copy_flat(const View& v, char* flat, bool to_flat) {
  if (v.empty()) return;
  const int64_t item = static_cast<int64_t>(itemsize(v.dtype));
  if (v.ndim == 0) {
    char* s = static_cast<char*>(v.data);
    std::memcpy(to_flat ? flat : s, to_flat ? s : flat, static_cast<size_t>(item));
    return;
  }
  const int64_t cols = v.shape[v.ndim - 1], cs = v.strides[v.ndim - 1];
  const int64_t rows = v.size() / cols;
  char* const base = static_cast<char*>(v.data);
  parallel_for(rows, grain_for(rows, 0.5 * static_cast<double>(cols)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      char* s = base + row_offset(v, r);
      char* f = flat + r * cols * item;
      if (cs == item) {
        std::memcpy(to_flat ? f : s, to_flat ? s : f, static_cast<size_t>(cols * item));
        continue;
      }
      if (to_flat)
        copy_elems(f, item, s, cs, cols, item);
      else
        copy_elems(s, cs, f, item, cols, item);
    }
  });
}

}  // namespace

void copy_to_contiguous(const View& v, void* dst) { copy_flat(v, static_cast<char*>(dst), true); }

void copy_from_contiguous(const void* src, const View& v) {
  copy_flat(v, static_cast<char*>(const_cast<void*>(src)), false);
}

View contiguous(const View& v, Buffer<char>* keep) {
  if (v.c_contiguous() || v.empty()) return v;
  *keep = Buffer<char>(static_cast<size_t>(v.size()) * itemsize(v.dtype));
  copy_to_contiguous(v, keep->get());
  View c = v;
  c.data = keep->get();
  set_c_strides(&c);
  return c;
}

}  // namespace views

}  // namespace npfast
