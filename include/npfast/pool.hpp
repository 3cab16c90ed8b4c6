// 2-D pooling with PyTorch's semantics (torch.nn.functional.max_pool2d, avg_pool2d,
// max_unpool2d, adaptive_avg_pool2d, and the max/avg backward passes).
//
// Inputs are (N, C, H, W), (C, H, W) or (H, W) float32/float64 views with any strides (a 2-D
// view is one plane); outputs are C-contiguous views of the shape the matching *_shape function
// returns (same leading axes, then OH, OW). Every function checks all its arguments before it
// writes anything and throws ValueError / TypeError naming the argument and its value.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {

struct Pool2dArgs {
  int64_t kernel[2] = {1, 1};    // (kH, kW) >= 1
  int64_t stride[2] = {1, 1};    // >= 1
  int64_t padding[2] = {0, 0};   // 0 <= padding <= kernel / 2
  int64_t dilation[2] = {1, 1};  // >= 1 (average pooling: must be 1)
  bool ceil_mode = false;
  // max_pool2d / avg_pool2d (and their *_shape): input and output are channels-last,
  // (N, H, W, C) or (H, W, C), as torch's channels_last tensors. The other operators ignore it.
  bool channels_last = false;
};

// PyTorch's pooled length of an axis of n elements (pooling_output_shape), checked to be >= 1;
// `axis` names the axis in messages ("height", "width").
int64_t pool_output_length(int64_t n, int64_t kernel, int64_t stride, int64_t padding,
                           int64_t dilation, bool ceil_mode, const char* axis);

// Max pooling. `indices`, when given, is an int64 view of the output's shape that receives
// PyTorch's argmax indices ih * W + iw within each plane.
Shape max_pool2d_shape(const View& input, const Pool2dArgs& a);
void max_pool2d(const View& input, const Pool2dArgs& a, const View& out, const View* indices);

// Average pooling; divisor_override 0 means none.
Shape avg_pool2d_shape(const View& input, const Pool2dArgs& a);
void avg_pool2d(const View& input, const Pool2dArgs& a, bool count_include_pad,
                int64_t divisor_override, const View& out);

// grad_input (C-contiguous, the input's shape, overwritten) = the scatter-add of grad_output
// at `indices` (int64, grad_output's shape). ValueError for an index outside its plane, found
// before anything is written. channels_last: all three (N, H, W, C) or (H, W, C), as the
// forward call with layout 'NHWC' took and returned them (indices within each channel's plane).
void max_pool2d_backward(const View& grad_output, const View& indices, const View& grad_input,
                         bool channels_last = false);

// grad_input (C-contiguous, the forward input's shape, overwritten) of avg_pool2d with these
// arguments (a.channels_last: grad_output and grad_input channels-last); grad_output must have
// the forward output's shape.
void avg_pool2d_backward(const View& grad_output, const Pool2dArgs& a, bool count_include_pad,
                         int64_t divisor_override, const View& grad_input);

// Max unpooling. output_size: null, or the (OH, OW) to use instead of the default
// (H - 1) * stride - 2 * padding + kernel, within stride of it (PyTorch's rule).
Shape max_unpool2d_shape(const View& input, const View& indices, const Pool2dArgs& a,
                         const int64_t* output_size);
// out (C-contiguous, the *_shape result) is zeroed, then out[plane][indices[i]] = input[i] in
// order (a repeated index keeps the last value). ValueError for an index outside [0, OH*OW),
// found before anything is written.
void max_unpool2d(const View& input, const View& indices, const View& out);

// Adaptive average pooling; an output length of -1 keeps the input's.
Shape adaptive_avg_pool2d_shape(const View& input, int64_t out_h, int64_t out_w);
void adaptive_avg_pool2d(const View& input, const View& out);

// The global average of a C-contiguous channels-last (N, H, W, C) float array over H and W
// into out (N, C), C >= 2: per (n, c) the pixels summed in order in the input's dtype, then
// divided by H * W in float64 and rounded: NumPy's bits for x.mean(axis=(1, 2)) (npfast.nn's
// ResNet head; the pooling above averages in PyTorch's order). Other layouts and C == 1, where
// NumPy's order differs, raise ValueError. out C-contiguous.
Shape global_mean_nhwc_shape(const View& input);
void global_mean_nhwc(const View& input, const View& out);

}  // namespace npfast
