// npfast error hierarchy.
//
// Every public entry point validates its arguments before it touches memory and reports a
// problem by throwing one of these. The Python bindings map them one to one onto Python's
// ValueError / TypeError / MemoryError. Messages name the argument and the offending value,
// e.g. "stride: must be >= 1, got 0".
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace npfast {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A value or a shape is wrong (Python ValueError).
class ValueError : public Error {
 public:
  using Error::Error;
};
// A type or a dtype is wrong (Python TypeError).
class TypeError : public Error {
 public:
  using Error::Error;
};
// A size cannot be represented or allocated (Python MemoryError).
class MemoryError : public Error {
 public:
  using Error::Error;
};

// Overflow-checked size arithmetic. All shape math is done in int64; a product or sum that
// does not fit raises MemoryError naming `what` (the quantity being computed).
int64_t checked_mul(int64_t a, int64_t b, const char* what);
int64_t checked_add(int64_t a, int64_t b, const char* what);

// Floor division that is right for negative numerators (C++ `/` truncates toward zero).
constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace npfast
