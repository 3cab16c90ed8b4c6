// Batch normalisation with torch.nn.functional.batch_norm semantics (src/ops/batch_norm.cc).
//
// Arrays are (N, C, ...) with the channels on axis 1 (channels_last = false), or (..., C) with
// the channels last (NHWC); float32 or float64, every array of the input's dtype, any strides.
// Per-channel arrays are 1-d of length C.
#pragma once

#include "npfast/view.hpp"

namespace npfast {

struct BatchNormParams {
  bool training = false;  // batch statistics (and a running-statistics update), else running ones
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch statistic
  double eps = 1e-5;      // added to the variance
  bool relu = false;      // fused max(y, 0) on the output (NaN stays NaN)
  bool channels_last = false;
};

// y = act((x - mean) * invstd * weight + bias) per channel. Training: mean and the biased
// variance of the batch (over every axis but the channel's), computed in one pass (sums of
// x - x0 in double, x0 the channel's first element, so a large mean does not cancel the
// variance), and, when given, running_mean / running_var updated in place with the unbiased
// variance (as PyTorch); save_mean / save_invstd (optional, (C,)) receive the batch mean and
// 1 / sqrt(var + eps). Eval: the running statistics, which must be given. `weight` / `bias`
// may be null (1 and 0). `residual` (optional, the input's shape and dtype, any strides, not
// overlapping out) is added before the activation: y = act(bn(x) + residual), each step
// rounded (a ResNet block's shortcut and ReLU in the element-wise pass). Reductions are in a
// fixed order: bitwise identical for any thread count. Everything is checked (ValueError /
// TypeError naming the argument) before any write.
void batch_norm(const View& input, const View* running_mean, const View* running_var,
                const View* weight, const View* bias, const BatchNormParams& p, const View& out,
                const View* save_mean, const View* save_invstd, const View* residual = nullptr);

// Gradients of batch_norm given grad_output (input's shape). save_mean / save_invstd are the
// forward's (training), or the running mean and 1 / sqrt(running_var + eps) (eval: then the
// statistics are constants and grad_input = grad_output * weight * invstd). `output` is the
// forward's result when it had relu (its > 0 entries pass the gradient), else null. Each of
// grad_input (input's shape), grad_weight, grad_bias ((C,)) may be null (not computed).
void batch_norm_backward(const View& grad_output, const View& input, const View* weight,
                         const View& save_mean, const View& save_invstd, const View* output,
                         bool training, bool channels_last, const View* grad_input,
                         const View* grad_weight, const View* grad_bias);

// dst += grad where output > 0 (everywhere when output is null), each sum rounded once: the
// gradient of relu(body + shortcut) that a residual block's shortcut adds to its body's input
// gradient (npfast.nn.BasicBlock), in one threaded pass. dst is C-contiguous, float32 or
// float64; grad and output have its shape and dtype, any strides, and do not overlap it.
void relu_grad_add(const View& grad, const View* output, const View& dst);

// The weight and bias of the one convolution equal to batch_norm(conv(x)) in eval mode
// (npfast.nn's folded forward): per output channel o, s = gamma[o] / sqrt(var[o] + eps),
// w_out[o] = weight[o] * s, b_out[o] = (conv_bias[o] - mean[o]) * s + beta[o], in float64 and
// rounded once to w_out's dtype, operation for operation NumPy's float64 form (so the same
// bits). weight is (O, ...) of any float dtype and strides; the per-channel arrays (O,) of any
// float dtype; conv_bias, gamma and beta may be null (0, 1, 0). w_out has weight's shape,
// b_out is (O,), both C-contiguous of one float dtype.
void fold_conv_bn(const View& weight, const View* conv_bias, const View& mean, const View& var,
                  const View* gamma, const View* beta, double eps, const View& w_out,
                  const View& b_out);

}  // namespace npfast
