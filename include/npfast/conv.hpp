// 2-D convolution with torch.nn.functional.conv2d semantics.
//
// The operators take 4-D views of float32 or float64, any strides: (N, C, H, W), or
// (N, H, W, C) with Conv2dParams::layout = Layout::nhwc (channels-last; the weight stays
// (O, C/groups, kH, kW) in both, as torch's channels_last weight is still OIHW logically). The
// Python layer adds the batch axis for unbatched input and parses the padding strings.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {

// Geometry of a convolution. Padding is per side (PyTorch's padding="same" with an even
// kernel pads one more on the bottom/right than on the top/left).
enum class Layout : int { nchw = 0, nhwc = 1 };

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  // Axis order of the input, output and their gradients (never of the weight).
  Layout layout = Layout::nchw;
};

enum class Activation : int { none = 0, relu = 1 };

// Output shape (N, O, OH, OW), or (N, OH, OW, O) for Layout::nhwc, for the given input and
// params; throws ValueError (naming the argument) for any invalid geometry: stride/dilation
// < 1, negative padding, groups < 1 or not dividing the channels, weight channels != C /
// groups, kernel larger than the padded input. `input` is (N, C, H, W) (or (N, H, W, C)) and
// `weight` (O, C/groups, kH, kW).
Shape conv2d_shape(const View& input, const View& weight, const View* bias, const Conv2dParams& p);

// Padding that keeps H x W for stride 1 (padding="same"): total d*(k-1), the odd one on the
// bottom/right, as PyTorch does.
void conv2d_same_padding(int64_t kh, int64_t kw, int64_t dh, int64_t dw, Conv2dParams* p);

// out = act(conv2d(input, weight) + bias + residual). `bias` and `residual` may be null. `out`
// is (N, O, OH, OW) of the input dtype, any strides, not overlapping the inputs; `residual`
// (a ResNet block's shortcut) has out's shape and dtype, any strides, and is added after the
// bias (each sum rounded, then the activation). Checks everything (conv2d_shape, dtypes,
// shapes) before writing. Threads with the pool; bitwise identical for any thread count.
void conv2d(const View& input, const View& weight, const View* bias, const Conv2dParams& p,
            const View& out, Activation act = Activation::none, const View* residual = nullptr);

// Gradients of conv2d(input, weight, bias) given grad_output (N, O, OH, OW). Each of
// grad_input (N, C, H, W), grad_weight (O, C/groups, kH, kW), grad_bias (O,) may be null
// (not computed). grad_weight and grad_bias are reduced over N and space in a fixed order:
// results are bitwise identical for any thread count. `residual` (optional, the input's shape
// and dtype, any strides, not overlapping grad_input) is added to grad_input, one rounding per
// element as a separate addition (up to the sign of a zero sum), in the algorithm's epilogue
// where it has one: the gradient a residual connection adds to the layer's input gradient.
void conv2d_backward(const View& grad_output, const View& input, const View& weight,
                     const Conv2dParams& p, const View* grad_input, const View* grad_weight,
                     const View* grad_bias, const View* residual = nullptr);

// Name of the algorithm the planner picks for this forward problem ("depthwise", "direct",
// "gemm_1x1", "im2col_gemm"), for tests and config().
const char* conv2d_algorithm(const View& input, const View& weight, const Conv2dParams& p);

// The scalar oracle: direct 7-loop convolution accumulating in double. `input`, `weight`,
// `bias` (may be null) and `out` as for conv2d. For tests.
void conv2d_reference(const View& input, const View& weight, const View* bias,
                      const Conv2dParams& p, const View& out);

// ---------------------------------------------------------------------------------------------
// Transposed convolution (torch.nn.functional.conv_transpose2d): the adjoint of conv2d.
// `input` is (N, C_in, H, W) ((N, H, W, C_in) with p.layout = Layout::nhwc), `weight`
// (C_in, C_out/groups, kH, kW) in both layouts (PyTorch's layout, which is conv2d's weight
// layout for the convolution going the other way), `bias` (C_out,) or null.
// `p` holds the stride, dilation, groups, layout and the (symmetric) padding; output_padding
// adds rows and columns at the bottom/right and must be smaller than the stride or the dilation
// (as PyTorch). Output (N, C_out, OH, OW) (or (N, OH, OW, C_out)),
// OH = (H-1)*sh - 2*ph + dh*(kH-1) + oph + 1.
//
// The forward and grad_weight run each output phase of the stride as a stride-1 correlation on
// a channels-last copy of the input (src/ops/conv_transpose2d_phase.h; few-channel NCHW layers
// use conv2d_backward's grad_input and grad_weight instead), the backward's grad_input is a
// conv2d forward in the same layout. Bitwise identical for any thread count.
Shape conv_transpose2d_shape(const View& input, const View& weight, const View* bias,
                             const Conv2dParams& p, int64_t output_padding_h,
                             int64_t output_padding_w);
void conv_transpose2d(const View& input, const View& weight, const View* bias,
                      const Conv2dParams& p, int64_t output_padding_h, int64_t output_padding_w,
                      const View& out);
// Gradients given grad_output (N, C_out, OH, OW) (NHWC: (N, OH, OW, C_out)); grad_input like
// input, grad_weight like weight, grad_bias (C_out,), each may be null (not computed).
void conv_transpose2d_backward(const View& grad_output, const View& input, const View& weight,
                               const Conv2dParams& p, int64_t output_padding_h,
                               int64_t output_padding_w, const View* grad_input,
                               const View* grad_weight, const View* grad_bias);

}  // namespace npfast
