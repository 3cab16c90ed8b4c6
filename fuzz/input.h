// Turns the fuzzer's bytes into shapes, strides, parameters and data for a harness.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "npfast/view.hpp"

namespace npfast {
namespace fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}

  template <class T>
  T take() {
    T v{};
    const size_t k = n_ < sizeof(T) ? n_ : sizeof(T);
    std::memcpy(&v, p_, k);
    p_ += k;
    n_ -= k;
    return v;
  }
  // An integer in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(take<uint64_t>() % span);
  }
  // Mostly small values with the occasional huge or negative one: the sizes that crashed
  // other libraries (0, 1, 2^31, 2^55, negative).
  int64_t size_like() {
    switch (take<uint8_t>() % 16) {
      case 0:
        return -range(1, 1 << 20);
      case 1:
        return int64_t{1} << range(20, 62);
      case 2:
        return 0;
      default:
        return range(1, 12);
    }
  }
  bool empty() const { return n_ == 0; }

 private:
  const uint8_t* p_;
  size_t n_;
};

// A strided view of `ndim` dims with arbitrary (possibly negative or zero) strides over a
// buffer that covers every element it addresses; the buffer is filled from the input.
struct Array {
  std::vector<unsigned char> storage;
  View view;
};

// Returns false (nothing to run) for an axis longer than `max_extent` or over 4 MiB of buffer.
inline bool make_array(Input& in, DType dtype, int ndim, const int64_t* shape, Array* out,
                       int64_t max_extent = 64) {
  View& v = out->view;
  v.dtype = dtype;
  v.ndim = ndim;
  const int64_t item = static_cast<int64_t>(itemsize(dtype));
  int64_t lo = 0, hi = 0, count = 1;
  for (int i = ndim - 1; i >= 0; --i) {
    if (shape[i] < 0 || shape[i] > max_extent) return false;
    v.shape[i] = shape[i];
    // stride in elements: -3..3 times the natural one, sometimes 0
    const int64_t mult = in.range(-2, 3);
    v.strides[i] = mult * count * item;
    if (shape[i] > 0) {
      const int64_t span = (shape[i] - 1) * v.strides[i];
      (span < 0 ? lo : hi) += span;
    }
    count *= shape[i] > 0 ? shape[i] : 1;
  }
  const int64_t bytes = hi - lo + item;
  if (bytes > (int64_t{1} << 22)) return false;
  out->storage.resize(static_cast<size_t>(bytes));
  for (auto& b : out->storage) b = in.take<uint8_t>();
  v.data = out->storage.data() - lo;
  return true;
}

}  // namespace fuzz
}  // namespace npfast
