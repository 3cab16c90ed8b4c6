// The 4x4 stride-2 transposed convolution (NCHW) by Winograd F(2x2, 2x2) on phases
// (conv_transpose2d_winograd.cc): its forward on the output's phases, its grad_input on
// grad_output's.
//
// Along one axis a 4-tap stride-2 layer splits into two phases (even / odd rows of the strided
// side) each meeting a 2-tap sub-kernel at consecutive offsets, so either direction is a sum
// of stride-1 2 x 2 correlations of planes of half the size:
//   forward     output phase (a, b) = the 2 x 2 correlation of the input with the sub-kernel
//               of taps (k0 + 2, k0) (flipped), k0 = (a + p) mod 2: four correlations;
//   grad_input  = conv2d(grad_output, weight, stride 2) = the sum over grad_output's four
//               phases of correlations with the sub-kernels (k0, k0 + 2).
// F(2x2, 2x2) computes a 2 x 2 block of a 2 x 2 correlation from a 3 x 3 input tile with 9
// products instead of 16, and the transforms are linear, so sums over channels (and over the
// phases for grad_input) add up in the transformed domain: per image and position (u, v) of
// the 3 x 3, a GEMM, 0.56x the direct GEMM's flops. The transforms' coefficients are 0 and
// +-1 (points 0, -1, infinity), so the error is that of a few more additions per product.
#pragma once

#include <cstdint>

namespace npfast {
namespace convt {

// The layer: input (n, c, h, w), weight (c, o, 4, 4), output (n, o, oh, ow), all
// C-contiguous NCHW, stride 2, padding (ph, pw), no output_padding. The forward maps input to
// output; grad_input maps the output's gradient to the input's.
struct WinogradLayer {
  int64_t n, o, oh, ow, c, h, w, ph, pw;
};

// Whether the Winograd path runs the forward / grad_input: whole 2 x 2 tiles (oh and ow
// multiples of 4 / h and w even), channels enough for the GEMMs to outweigh the transforms
// (>= 16 each way), tiles enough to fill the GEMMs' columns (>= 4/5 of them; see the .cc) and
// one image's transforms of bounded size (a thread holds them).
bool winograd_fwd_fits(const WinogradLayer& s);
bool winograd_gi_fits(const WinogradLayer& s);

// y = conv_transpose2d(x, w, stride 2, padding (ph, pw)) + bias (null: none). Fixed work
// items (an image, or two small ones): the same bits for any thread count.
template <class T>
void forward_winograd(const WinogradLayer& s, const T* x, const T* w, const T* bias, T* y);

// gi = conv2d(gy, w, stride 2, padding (ph, pw)). Fixed work items, as the forward's.
template <class T>
void grad_input_winograd(const WinogradLayer& s, const T* gy, const T* w, T* gi);

}  // namespace convt
}  // namespace npfast
