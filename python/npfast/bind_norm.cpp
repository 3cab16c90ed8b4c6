// npfast.batch_norm and npfast.batch_norm_backward.
#include <nanobind/stl/string.h>

#include <string>
#include <utility>

#include "npfast/error.hpp"
#include "npfast/norm.hpp"
#include "python/npfast/bind.h"

namespace npfast {
namespace py {
namespace {

int64_t channels(const View& x, bool nhwc, const char* arg) {
  if (x.ndim < 2)
    throw ValueError(std::string(arg) + ": expected at least 2 dimensions (" +
                     (nhwc ? "..., C" : "N, C, ...") + "), got shape " + shape_str(x));
  return nhwc ? x.shape[x.ndim - 1] : x.shape[1];
}

nb::object batch_norm_py(nb::handle input, nb::handle running_mean, nb::handle running_var,
                         nb::handle weight, nb::handle bias, nb::handle training_arg,
                         nb::handle momentum_arg, nb::handle eps_arg, nb::handle relu,
                         nb::handle layout, nb::handle residual) {
  const bool training = bool_arg(training_arg, "training");
  Array x = as_array(input, "input", kFloatsOnly);
  const double momentum = real_arg(momentum_arg, "momentum"), eps = real_arg(eps_arg, "eps");
  Array r;
  const View* rp = optional_array(residual, "residual", kFloatsOnly, &r);
  BatchNormParams p;
  p.training = training;
  p.momentum = momentum;
  p.eps = eps;
  p.relu = bool_arg(relu, "relu");
  p.channels_last = channels_last_arg(layout);
  const int64_t c = channels(x.view, p.channels_last, "input");
  const DType t = x.view.dtype;
  if (t != DType::f32 && t != DType::f64)
    throw TypeError(std::string("input: dtype must be float32 or float64, got ") + dtype_name(t));
  // Training updates the running statistics in place: they must be the caller's own arrays of
  // exactly the right dtype and shape (never a converted copy, whose update would be lost).
  Array rm, rv;
  View rmv, rvv;
  const View *rmp = nullptr, *rvp = nullptr;
  if (training) {
    if (!running_mean.is_none()) {
      rmv = check_out(running_mean, t, 1, &c, "running_mean");
      check_no_overlap(rmv, {&x.view}, "running_mean");
      rmp = &rmv;
    }
    if (!running_var.is_none()) {
      rvv = check_out(running_var, t, 1, &c, "running_var");
      check_no_overlap(rvv, {&x.view, &rmv}, "running_var");
      rvp = &rvv;
    }
  } else {
    // Eval normalises with them: None is a missing array, as for any other array argument.
    for (const auto& [h, arg] :
         {std::pair{running_mean, "running_mean"}, std::pair{running_var, "running_var"}})
      if (h.is_none())
        throw TypeError(std::string(arg) + ": expected a (C,) array when training=False, got None");
    rmp = optional_array(running_mean, "running_mean", kFloatsOnly, &rm);
    rvp = optional_array(running_var, "running_var", kFloatsOnly, &rv);
  }
  Array w, b;
  const View* wp = optional_array(weight, "weight", kFloatsOnly, &w);
  const View* bp = optional_array(bias, "bias", kFloatsOnly, &b);
  // Training writes the running statistics while weight, bias and the residual are read
  // (probe22b: running_mean given as the weight array itself normalised with updated weights).
  if (training) {
    if (rmp) check_no_overlap(*rmp, {wp, bp, rp}, "running_mean");
    if (rvp) check_no_overlap(*rvp, {wp, bp, rp}, "running_var");
  }
  View y, sm, si;
  nb::object out = new_array(t, x.view.ndim, x.view.shape, &y);
  if (rp && rp->ndim != x.view.ndim)
    throw ValueError("residual: expected the input's shape " + shape_str(x.view) + ", got " +
                     shape_str(*rp));
  nb::object sm_o, si_o;
  if (training) {
    sm_o = new_array(t, 1, &c, &sm);
    si_o = new_array(t, 1, &c, &si);
  }
  {
    ReleaseGil release;
    batch_norm(x.view, rmp, rvp, wp, bp, p, y, training ? &sm : nullptr, training ? &si : nullptr,
               rp);
  }
  if (training) return nb::make_tuple(out, sm_o, si_o);
  return out;
}

nb::object backward_py(nb::handle grad_output, nb::handle input, nb::handle weight,
                       nb::handle save_mean, nb::handle save_invstd, nb::handle training_arg,
                       nb::handle output, nb::handle layout, nb::handle output_mask) {
  const bool training = bool_arg(training_arg, "training");
  Array gy = as_array(grad_output, "grad_output", kFloatsOnly);
  Array x = as_array(input, "input", kFloatsOnly);
  Array w, y;
  const View* wp = optional_array(weight, "weight", kFloatsOnly, &w);
  Array sm = as_array(save_mean, "save_mean", kFloatsOnly);
  Array si = as_array(save_invstd, "save_invstd", kFloatsOnly);
  const View* yp = optional_array(output, "output", kFloatsOnly, &y);
  const bool nhwc = channels_last_arg(layout);
  bool mask[3];
  mask3_arg(output_mask, "output_mask", mask);
  const int64_t c = channels(x.view, nhwc, "input");
  const DType t = x.view.dtype;
  nb::object gx_o = nb::none(), gw_o = nb::none(), gb_o = nb::none();
  View gx, gw, gb;
  if (mask[0]) gx_o = new_array(t, x.view.ndim, x.view.shape, &gx);
  if (mask[1]) gw_o = new_array(t, 1, &c, &gw);
  if (mask[2]) gb_o = new_array(t, 1, &c, &gb);
  {
    ReleaseGil release;
    batch_norm_backward(gy.view, x.view, wp, sm.view, si.view, yp, training, nhwc,
                        mask[0] ? &gx : nullptr, mask[1] ? &gw : nullptr, mask[2] ? &gb : nullptr);
  }
  return nb::make_tuple(gx_o, gw_o, gb_o);
}

// The private _relu_grad_add(dst, grad, output=None): dst += grad where not output <= 0
// (nn.BasicBlock).
void relu_grad_add_py(nb::handle dst, nb::handle grad, nb::handle output) {
  Array g = as_array(grad, "grad", kFloatsOnly);
  Array y;
  const View* yp = optional_array(output, "output", kFloatsOnly, &y);
  const View d = check_out(dst, g.view.dtype, g.view.ndim, g.view.shape, "dst");
  check_no_overlap(d, {&g.view, yp}, "dst");
  ReleaseGil release;
  relu_grad_add(g.view, yp, d);
}

// The private _fold_conv_bn(weight, conv_bias, mean, var, gamma, beta, eps) -> (w, b): an
// eval-mode BatchNorm2d folded into the convolution before it (npfast.nn), in weight's dtype.
nb::object fold_conv_bn_py(nb::handle weight, nb::handle conv_bias, nb::handle mean, nb::handle var,
                           nb::handle gamma, nb::handle beta, double eps) {
  Array w = as_array(weight, "weight", kFloatsOnly);
  Array m = as_array(mean, "mean", kFloatsOnly);
  Array v = as_array(var, "var", kFloatsOnly);
  Array cb, g, b;
  const View* cbp = optional_array(conv_bias, "conv_bias", kFloatsOnly, &cb);
  const View* gp = optional_array(gamma, "gamma", kFloatsOnly, &g);
  const View* bp = optional_array(beta, "beta", kFloatsOnly, &b);
  const int64_t o = w.view.ndim ? w.view.shape[0] : 0;
  View wo, bo;
  nb::object wo_o = new_array(w.view.dtype, w.view.ndim, w.view.shape, &wo);
  nb::object bo_o = new_array(w.view.dtype, 1, &o, &bo);
  {
    ReleaseGil release;
    fold_conv_bn(w.view, cbp, m.view, v.view, gp, bp, eps, wo, bo);
  }
  return nb::make_tuple(wo_o, bo_o);
}

}  // namespace

NPFAST_BIND(norm) {
  m.def("_fold_conv_bn", &fold_conv_bn_py, nb::arg("weight").none(), nb::arg("conv_bias").none(),
        nb::arg("mean").none(), nb::arg("var").none(), nb::arg("gamma").none(),
        nb::arg("beta").none(), nb::arg("eps"));
  m.def("_relu_grad_add", &relu_grad_add_py, nb::arg("dst").none(), nb::arg("grad").none(),
        nb::arg("output").none() = nb::none());
  m.def(
      "batch_norm", runtime_anchored<&batch_norm_py>,
      nb::sig("def batch_norm(input: numpy.typing.ArrayLike, "
              "running_mean: numpy.typing.ArrayLike | None, "
              "running_var: numpy.typing.ArrayLike | None, "
              "weight: numpy.typing.ArrayLike | None = None, "
              "bias: numpy.typing.ArrayLike | None = None, training: bool = False, "
              "momentum: float = 0.1, eps: float = 1e-05, relu: bool = False, "
              "layout: str = 'NCHW', *, "
              "residual: numpy.typing.ArrayLike | None = None) -> "
              "numpy.ndarray | tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]"),
      nb::arg("input").none(), nb::arg("running_mean").none(), nb::arg("running_var").none(),
      nb::arg("weight").none() = nb::none(), nb::arg("bias").none() = nb::none(),
      nb::arg("training").none() = false, nb::arg("momentum").none() = 0.1,
      nb::arg("eps").none() = 1e-5, nb::arg("relu").none() = false,
      nb::arg("layout").none() = "NCHW", nb::kw_only(), nb::arg("residual").none() = nb::none(),
      R"doc(Batch normalisation, as ``torch.nn.functional.batch_norm`` (plus a fused ReLU and NHWC).

``y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]``, then ``max(y, 0)`` when
``relu`` (NaN stays NaN).

Parameters
----------
input : array_like, float32 or float64
    ``(N, C, ...)`` for layout 'NCHW' (channels on axis 1), ``(..., C)`` for 'NHWC' (channels
    last, e.g. ``(N, H, W, C)``: computed natively, no transpose). Any strides.
running_mean, running_var : ndarray ``(C,)`` or None
    training=False: the statistics used (required). training=True: updated in place when given,
    ``running = (1 - momentum) * running + momentum * batch`` with the batch's unbiased variance
    (as PyTorch); they must then be writeable ndarrays of the input's dtype (never converted).
weight, bias : array_like ``(C,)``, optional
    Default 1 and 0; of the input's dtype, as every array here (a Python list is NumPy's
    float64 or int64, refused beside float32 input: pass ``np.asarray(w, x.dtype)``).
training : bool
    Normalise with the batch's statistics (mean and biased variance over every axis but the
    channel's; not exactly one value per channel, PyTorch's rule: an empty batch passes, gives
    NaN statistics and leaves the running ones as they are).
momentum, eps : float
    ``momentum`` finite (NaN and inf, which PyTorch takes, would poison the running
    statistics: AnchorValueError); any finite value, as PyTorch.
relu : bool
    Fuse ``max(y, 0)``; pass the result as ``output=`` to :func:`batch_norm_backward`.
layout : 'NCHW' or 'NHWC'
residual : array_like, the input's shape and dtype, optional (keyword only)
    Added before the ReLU: ``output = act(bn(x) + residual)`` (each step rounded, as ``y +=
    residual`` would), a ResNet block's shortcut in the element-wise pass. For the backward,
    pass ``output`` as ``output=`` of :func:`batch_norm_backward` (its mask is then the
    ReLU's). Must not overlap the result (a new array).

Returns
-------
training=False: ``output`` (the input's shape and dtype).
training=True: ``(output, save_mean, save_invstd)``, the batch mean and ``1 / sqrt(var + eps)``
(``(C,)``), which :func:`batch_norm_backward` takes.

The statistics are one pass over the data (sums of ``x - x0`` and its square in double, ``x0``
the channel's first value, so a large mean does not cancel the variance); partial sums over
fixed blocks are added in a fixed order: bitwise identical for any thread count.

Raises
------
TypeError  for non-float or mixed dtypes, a running statistic of another dtype in training, or
           eval without running statistics (None where an array is needed; also a
           RuntimeError, as PyTorch's).
ValueError for fewer than 2 dimensions, a per-channel array not of shape ``(C,)``, an unknown
           layout, training with one value per channel, one running statistic without the
           other, a non-finite or negative eps, or eps 0 in training (PyTorch's rules).
)doc");
  m.def("batch_norm_backward", runtime_anchored<&backward_py>,
        nb::sig("def batch_norm_backward(grad_output: numpy.typing.ArrayLike, "
                "input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike | None, "
                "save_mean: numpy.typing.ArrayLike, save_invstd: numpy.typing.ArrayLike, "
                "training: bool = True, output: numpy.typing.ArrayLike | None = None, "
                "layout: str = 'NCHW', "
                "output_mask: tuple[bool, bool, bool] = (True, True, True)) -> "
                "tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]"),
        nb::arg("grad_output").none(), nb::arg("input").none(), nb::arg("weight").none(),
        nb::arg("save_mean").none(), nb::arg("save_invstd").none(),
        nb::arg("training").none() = true, nb::arg("output").none() = nb::none(),
        nb::arg("layout").none() = "NCHW",
        nb::arg("output_mask").none() = nb::make_tuple(true, true, true),
        R"doc(Gradients of :func:`batch_norm`, as PyTorch's autograd.

Parameters
----------
grad_output : array_like
    The input's shape and dtype.
input, weight, layout
    As given to :func:`batch_norm` (weight None: 1).
save_mean, save_invstd : array_like ``(C,)``
    training=True: what :func:`batch_norm` returned. training=False: the running mean and
    ``1 / sqrt(running_var + eps)`` (the statistics are then constants).
training : bool
output : array_like, optional
    The forward's result when it ran with ``relu=True``: the gradient passes where it is > 0.
output_mask : 3 bools
    Which of (grad_input, grad_weight, grad_bias) to compute.

Returns
-------
(grad_input, grad_weight, grad_bias): the input's shape, ``(C,)``, ``(C,)``; ``None`` where
masked. Two passes: the per-channel sums of g and g * (x - mean) (blocks added in a fixed
order: bitwise identical for any thread count), then grad_input.

Raises
------
TypeError, ValueError naming the argument, as :func:`batch_norm`.
)doc");
}

}  // namespace py
}  // namespace npfast
