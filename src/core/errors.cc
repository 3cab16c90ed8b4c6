#include "npfast/error.hpp"

#include <string>

namespace npfast {

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) {
    throw MemoryError(std::string(what) + ": size overflows int64 (" + std::to_string(a) + " * " +
                      std::to_string(b) + ")");
  }
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    throw MemoryError(std::string(what) + ": size overflows int64 (" + std::to_string(a) + " + " +
                      std::to_string(b) + ")");
  }
  return r;
}

}  // namespace npfast
