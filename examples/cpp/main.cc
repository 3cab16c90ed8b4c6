// Converts a small uint8 image to float32 in [0, 1] through npfast's C++ API.
#include <cstdint>
#include <cstdio>
#include <vector>

#include <npfast/npfast.hpp>

int main() {
  std::vector<uint8_t> pixels = {0, 51, 102, 153, 204, 255};
  std::vector<float> out(pixels.size());
  npfast::View x, y;
  x.data = pixels.data();
  x.dtype = npfast::DType::u8;
  x.ndim = 1;
  x.shape[0] = static_cast<int64_t>(pixels.size());
  x.strides[0] = 1;
  y = x;
  y.data = out.data();
  y.dtype = npfast::DType::f32;
  y.strides[0] = 4;
  npfast::convert(x, y, 1.0 / 255.0, 0.0);
  std::printf("npfast %s (%s):", npfast::version(), npfast::isa_name(npfast::active_isa()));
  for (float v : out) std::printf(" %.1f", v);
  std::printf("\n");
  return out[5] == 1.0f && out[1] == 0.2f ? 0 : 1;
}
