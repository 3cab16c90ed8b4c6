// conv_transpose2d by output phases (conv_transpose2d_phase.cc): for stride s, the output rows
// y = s*m + r of one phase r read input rows m + (r + pad - ky*d) / s for the taps ky with
// ky*d = r + pad (mod s) only, so each of the sh x sw output phases is a plain stride-1
// correlation of the input with its own sub-kernel (2x2 of a 4x4 stride-2 kernel). All phases
// read one padded channels-last copy of the input, as the implicit GEMM does (A rows read in
// place, no col2im scatter, none of the zero taps of a zero-stuffed input); the phases'
// outputs are interleaved when stored. The backward's grad_weight is the same sum with the
// pixels as the depth.
#pragma once

#include <cstdint>

#include "npfast/conv.hpp"
#include "npfast/memory.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace convt {

// A tap of one phase: kernel element (ky, kx), read `pix` padded pixels after the output
// pixel's own position in the padded copy.
struct Tap {
  int64_t ky, kx, pix;
};
// A K segment of a phase: `len` contiguous elements of A starting `a_off` elements after the
// output pixel's row, paired with the phase's weight rows from k0 (k = (tap, channel)).
struct Segment {
  int64_t a_off, k0, len;
};

struct PhasePlan {
  int64_t n, c, h, w, o, kh, kw, groups, cg, og, oh, ow, sh, sw;
  Layout layout;
  int64_t pad_top, pad_left;  // of the channels-last copy
  int64_t hq, wpad;           // its rows (data and zero rows) and pixels a row
  int64_t image_px;           // pixels per image, zero slack included
  int mr, nr;                 // microkernel tile (nr: the half-width kernel's where used)
  bool narrow;
  // Per phase ph = rh * sw + rw: output rows and columns, taps [tap0[ph], tap0[ph + 1]),
  // runs of taps on adjacent pixels [run0[ph], run0[ph + 1]) (the weight gradient's row
  // blocks) and the same runs cut to the microkernel's K block, segs [seg0[ph], seg0[ph + 1])
  // (the forward's K segments).
  Buffer<int64_t> ph_oh, ph_ow, tap0, run0, seg0;
  Buffer<Tap> taps;
  Buffer<Segment> runs, segs;
};

// The plan for input (n, c, h, w), weight (c, o/groups, kh, kw), params p (symmetric padding
// pad_top / pad_left) and output size (oh, ow) (output_padding included), dtype t.
PhasePlan plan_phases(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                      const Conv2dParams& p, int64_t oh, int64_t ow, DType t);

// Whether the phase path runs this problem: for NHWC (it is the native NHWC kernel) and for
// NCHW with enough channels a group that the GEMM tiles fill (the GEMM + col2im and conv2d
// paths stay for the few-channel layers); not for strides of more than 64 phases (NHWC then
// runs conv2d's paths on NCHW copies).
bool use_phases(int64_t cin_per_group, const Conv2dParams& p);

// y = conv_transpose2d(x, w) + bias, x and y C-contiguous in the plan's layout, w
// (c, og, kh, kw) contiguous, bias null or (o,).
template <class T>
void forward(const PhasePlan& pl, const T* x, const T* w, const T* bias, T* y);

// gw (c, og, kh, kw) = the weight gradient given x and gy (C-contiguous, the plan's layout).
// Images are split into fixed slots summed in order: the same bits for any thread count.
// Returns whether two slices of gw are finite, gw[:, 0] and each group's first channel
// gw[g * cg], checked as the slots' sum writes them: a non-finite input pixel of channel c that
// meets a tap makes gw[c, o] non-finite for every o, and a non-finite grad_output pixel in a
// phase with taps makes gw[c, o] non-finite for every c of o's group, so false when either is
// there (and may be, too, where finite operands' sums overflow).
template <class T>
bool grad_weight(const PhasePlan& pl, const T* x, const T* gy, T* gw);

}  // namespace convt
}  // namespace npfast
