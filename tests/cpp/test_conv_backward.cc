// conv2d_backward's residual, and conv_transpose2d's fast paths, on outputs that are not
// C-contiguous: paths Python never takes (it always allocates the gradients), reachable from
// C++ callers.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "npfast/conv.hpp"
#include "npfast/view.hpp"
#include "tests/cpp/view2d.h"

namespace npfast {
namespace {

View contiguous_view(float* data, std::vector<int64_t> shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = sizeof(float);
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return make_view(data, DType::f32, shape, strides);
}

// Stride 1 adds the residual in the transposed convolution's epilogue; stride 2 (col2im) has
// no epilogue, so the residual is added afterwards, through the strided fallback.
class Conv2dBackward : public ::testing::TestWithParam<int64_t> {};

TEST_P(Conv2dBackward, ResidualIntoStridedGradInput) {
  const int64_t n = 2, c = 3, h = 7, w = 6, o = 4, k = 3, s = GetParam();
  const int64_t oh = (h + 2 - k) / s + 1, ow = (w + 2 - k) / s + 1;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto fill = [&](std::vector<float>& v) {
    for (float& x : v) x = u(rng);
  };
  std::vector<float> x(n * c * h * w), wt(o * c * k * k), gy(n * o * oh * ow), res(n * c * h * w);
  fill(x);
  fill(wt);
  fill(gy);
  fill(res);
  Conv2dParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  p.stride_h = p.stride_w = s;
  const View vx = contiguous_view(x.data(), {n, c, h, w});
  const View vw = contiguous_view(wt.data(), {o, c, k, k});
  const View vgy = contiguous_view(gy.data(), {n, o, oh, ow});
  const View vres = contiguous_view(res.data(), {n, c, h, w});

  // The reference: grad_input alone, then the residual added (one rounding per element).
  std::vector<float> want(n * c * h * w);
  const View vwant = contiguous_view(want.data(), {n, c, h, w});
  conv2d_backward(vgy, vx, vw, p, &vwant, nullptr, nullptr);
  for (size_t i = 0; i < want.size(); ++i) want[i] += res[i];

  // grad_input every other element of a wider buffer (its last axis strided), prefilled with
  // a marker that must survive between the elements.
  const float marker = 12345.f;
  std::vector<float> wide(2 * n * c * h * w, marker);
  const int64_t f = sizeof(float);
  const View vgx = make_view(wide.data(), DType::f32, {n, c, h, w},
                             {2 * c * h * w * f, 2 * h * w * f, 2 * w * f, 2 * f});
  conv2d_backward(vgy, vx, vw, p, &vgx, nullptr, nullptr, &vres);
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(wide[2 * i], want[i]) << "element " << i;
    ASSERT_EQ(wide[2 * i + 1], marker) << "gap after element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Strides, Conv2dBackward, ::testing::Values(1, 2));

// The 4x4 stride-2 layer (16 -> 16 channels) takes the phase forward, the Winograd
// grad_input and the phase im2col grad_weight; each written into every other element of a wider
// buffer must give the contiguous call's bits and leave the gaps alone.
TEST(ConvTranspose2d, StridedOutputsTakeTheFastPathsBits) {
  const int64_t n = 2, c = 16, h = 4, w = 4, o = 16, k = 4;
  const int64_t oh = (h - 1) * 2 - 2 + k, ow = (w - 1) * 2 - 2 + k;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto filled = [&](int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float& x : v) x = u(rng);
    return v;
  };
  std::vector<float> x = filled(n * c * h * w), wt = filled(c * o * k * k),
                     gy = filled(n * o * oh * ow);
  Conv2dParams p;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
  p.stride_h = p.stride_w = 2;
  const View vx = contiguous_view(x.data(), {n, c, h, w});
  const View vw = contiguous_view(wt.data(), {c, o, k, k});
  const View vgy = contiguous_view(gy.data(), {n, o, oh, ow});
  const float marker = 12345.f;
  const int64_t f = sizeof(float);
  // Contiguous results, then the same call into a view with every axis's stride doubled.
  auto check = [&](std::vector<int64_t> shape, auto call) {
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    std::vector<float> want(static_cast<size_t>(count)),
        wide(static_cast<size_t>(2 * count), marker);
    call(contiguous_view(want.data(), shape));
    std::vector<int64_t> strides(shape.size());
    for (size_t i = shape.size(), s = 2 * f; i-- > 0; s *= shape[i])
      strides[i] = static_cast<int64_t>(s);
    call(make_view(wide.data(), DType::f32, shape, strides));
    for (int64_t i = 0; i < count; ++i) {
      ASSERT_EQ(wide[2 * i], want[i]) << "element " << i;
      ASSERT_EQ(wide[2 * i + 1], marker) << "gap after element " << i;
    }
  };
  check({n, o, oh, ow}, [&](const View& out) { conv_transpose2d(vx, vw, nullptr, p, 0, 0, out); });
  check({n, c, h, w}, [&](const View& gx) {
    conv_transpose2d_backward(vgy, vx, vw, p, 0, 0, &gx, nullptr, nullptr);
  });
  check({c, o, k, k}, [&](const View& gw) {
    conv_transpose2d_backward(vgy, vx, vw, p, 0, 0, nullptr, &gw, nullptr);
  });
}

}  // namespace
}  // namespace npfast
