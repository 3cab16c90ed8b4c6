// Non-owning strided views: what every npfast operator takes.
//
// A View is a pointer, a dtype, a shape and byte strides, exactly NumPy's array model, so a
// NumPy array (any order, negative strides, zero strides) maps onto one without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "npfast/error.hpp"

namespace npfast {

// New values go at the end: kernel tables index by the first eight.
enum class DType : uint8_t { u8, i8, u16, i16, i32, i64, f32, f64, u32, u64 };

constexpr size_t itemsize(DType t) {
  switch (t) {
    case DType::u8:
    case DType::i8:
      return 1;
    case DType::u16:
    case DType::i16:
      return 2;
    case DType::i32:
    case DType::u32:
    case DType::f32:
      return 4;
    case DType::i64:
    case DType::u64:
    case DType::f64:
      return 8;
  }
  return 0;
}

// NumPy's name for the dtype ("float32", ...), for messages.
const char* dtype_name(DType t);

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::u8;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::i8;
}
template <>
constexpr DType dtype_of<uint16_t>() {
  return DType::u16;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::i16;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}
template <>
constexpr DType dtype_of<uint32_t>() {
  return DType::u32;
}
template <>
constexpr DType dtype_of<uint64_t>() {
  return DType::u64;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}

struct View {
  static constexpr int kMaxDims = 8;

  void* data = nullptr;
  DType dtype = DType::f64;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};  // in bytes, as NumPy

  int64_t size() const;  // number of elements; shapes were checked not to overflow
  bool empty() const { return size() == 0; }
  // True when the innermost `n` dimensions are C-contiguous.
  bool contiguous_inner(int n) const;
  bool c_contiguous() const { return contiguous_inner(ndim); }

  template <class T>
  T* ptr() const {
    return static_cast<T*>(data);
  }
  // Byte stride of axis i in elements; valid when strides[i] is a multiple of the itemsize
  // (always so for arrays npfast creates; ops copy otherwise).
  int64_t elem_stride(int i) const { return strides[i] / static_cast<int64_t>(itemsize(dtype)); }
};

// An array shape: what every public *_shape function returns, and what the Python layer
// allocates results from.
struct Shape {
  int ndim = 0;
  int64_t dims[View::kMaxDims] = {};

  int64_t operator[](int i) const { return dims[i]; }
  int64_t size() const;  // number of elements
};

// The shape of a view.
Shape shape_of(const View& v);
// True when `v` has exactly the shape `s`.
bool has_shape(const View& v, const Shape& s);

// A shape written the NumPy way, "(3, 4)", for messages.
std::string shape_str(const View& v);
std::string shape_str(const Shape& s);

}  // namespace npfast
