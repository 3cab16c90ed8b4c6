#include "npfast/view.hpp"

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

std::string shape_str(const View& v) {
  std::string s = "(";
  for (int i = 0; i < v.ndim; ++i) {
    if (i) s += ", ";
    s += std::to_string(v.shape[i]);
  }
  if (v.ndim == 1) s += ",";
  return s + ")";
}

}  // namespace npfast
