// Dilation-2 3x3 convolutions by Winograd on the input's phases: see forward_winograd_dilated
// (conv2d_plan.h). With dilation 2 and padding 2, output row 2i + a reads input rows
// 2(i + t - 1) + a only (t the tap), the rows of phase a, and so for columns: phase (a, b) of
// the output is the undilated 3x3 convolution, padding 1, of phase (a, b) of the input. The
// four phase images of each image are copied out side by side as a batch of 4n images, run
// through forward_winograd, and their outputs dealt back to the interleaved rows.
#include <algorithm>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/ops/conv2d_epilogue.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {

template <class T>
bool forward_winograd_dilated(const Plan& pl, const T* x, const T* w, const T* bias, bool relu,
                              T* y, const T* res) {
  const int64_t hh = pl.h / 2, ww = pl.w / 2, ph = hh * ww, P = pl.h * pl.w;
  const int64_t image_bytes = std::max(pl.c, pl.o) * P * static_cast<int64_t>(sizeof(T));
  // Images converted at a time: the phase copies of the input and of the output together
  // within the workspace bound (a batch of 64 56^2 64-channel images would take 51 MB each);
  // forward_winograd keeps its own transforms within the bound too, so the call holds up to
  // about twice it.
  const int64_t nb =
      std::clamp<int64_t>(workspace_limit() / std::max<int64_t>(2 * image_bytes, 1), 1, pl.n);
  Conv2dParams q = pl.p;
  q.dilation_h = q.dilation_w = 1;
  q.pad_top = q.pad_bottom = q.pad_left = q.pad_right = 1;
  // The range check is the whole input's, so that all batches or none run Winograd.
  const double xmax = double(max_abs(x, pl.n * pl.c * P));
  Buffer<T> xp(static_cast<size_t>(checked_mul(4 * nb * pl.c, ph, "phase images")));
  Buffer<T> yp(static_cast<size_t>(checked_mul(4 * nb * pl.o, ph, "phase images")));
  for (int64_t n0 = 0; n0 < pl.n; n0 += nb) {
    const int64_t nn = std::min(nb, pl.n - n0);
    const Geometry sub = geometry_of(Problem{4 * nn, pl.c, hh, ww, pl.o, 3, 3, q, pl.dtype});
    // Phase image 4n + 2a + b, channel c, pixel (i, j) = x[n0 + n, c, 2i + a, 2j + b].
    const int64_t planes_in = nn * pl.c;
    parallel_for(planes_in, grain_for(planes_in, 0.5 * static_cast<double>(P)),
                 [&](int64_t b0, int64_t e0) {
                   for (int64_t pc = b0; pc < e0; ++pc) {
                     const int64_t n = pc / pl.c, c = pc % pl.c;
                     for (int64_t a = 0; a < 2; ++a)
                       for (int64_t i = 0; i < hh; ++i) {
                         const T* __restrict src = x + (n0 * pl.c + pc) * P + (2 * i + a) * pl.w;
                         T* __restrict d0 = xp.get() + ((4 * n + 2 * a) * pl.c + c) * ph + i * ww;
                         T* __restrict d1 = d0 + pl.c * ph;
                         for (int64_t j = 0; j < ww; ++j) {
                           d0[j] = src[2 * j];
                           d1[j] = src[2 * j + 1];
                         }
                       }
                   }
                 });
    // With a residual, it is added (and the activation applied) when the rows are dealt back.
    // The weights are the same for every batch: only the first can fail, before y is written.
    if (!forward_winograd(plan_winograd(sub), xp.get(), w, bias, res ? false : relu, yp.get(),
                          static_cast<const T*>(nullptr), xmax))
      return false;
    const int64_t planes_out = nn * pl.o;
    parallel_for(planes_out, grain_for(planes_out, 0.5 * static_cast<double>(P)),
                 [&](int64_t b0, int64_t e0) {
                   for (int64_t po = b0; po < e0; ++po) {
                     const int64_t n = po / pl.o, o = po % pl.o, at = (n0 * pl.o + po) * P;
                     for (int64_t a = 0; a < 2; ++a)
                       for (int64_t i = 0; i < hh; ++i) {
                         const T* __restrict s0 =
                             yp.get() + ((4 * n + 2 * a) * pl.o + o) * ph + i * ww;
                         const T* __restrict s1 = s0 + pl.o * ph;
                         T* __restrict dst = y + at + (2 * i + a) * pl.w;
                         for (int64_t j = 0; j < ww; ++j) {
                           dst[2 * j] = s0[j];
                           dst[2 * j + 1] = s1[j];
                         }
                         if (res) residual_act(dst, res + at + (2 * i + a) * pl.w, pl.w, relu);
                       }
                   }
                 });
  }
  return true;
}

template bool forward_winograd_dilated<float>(const Plan&, const float*, const float*, const float*,
                                              bool, float*, const float*);
template bool forward_winograd_dilated<double>(const Plan&, const double*, const double*,
                                               const double*, bool, double*, const double*);

}  // namespace conv_ops
}  // namespace npfast
