// grad_input of a 4x4 stride-2 transposed convolution (NCHW) by Winograd F(2x2, 2x2) on the
// polyphase split of grad_output (conv_transpose2d_winograd.cc).
//
// grad_input = conv2d(grad_output, weight, stride 2). Split grad_output into its 2 x 2 phases
// (even / odd rows and columns): each phase meets a 2 x 2 sub-kernel of the 4 x 4 one at
// consecutive offsets, so grad_input is the sum over the four phases of stride-1 2 x 2
// correlations of 16 x 16 planes. F(2x2, 2x2) computes a 2 x 2 block of a 2 x 2 correlation
// from a 3 x 3 input tile with 9 products instead of 16, and the transforms are linear, so the
// four phases and all channels add up in the transformed domain: per image, 9 GEMMs
// M[pos] (C x tiles) = U[pos] (C x 4*O) V[pos] (4*O x tiles), 0.56x the direct GEMM's flops.
// The transforms' coefficients are 0 and +-1 (points 0, -1, infinity), so the error is that of
// a few more additions per product.
#pragma once

#include <cstdint>

namespace npfast {
namespace convt {

// grad_input's problem: grad_output (n, o, oh, ow), weight (c, o, 4, 4), grad_input
// (n, c, h, w), all C-contiguous NCHW, stride 2, padding (ph, pw), no output_padding.
struct WinogradGi {
  int64_t n, o, oh, ow, c, h, w, ph, pw;
};

// Whether the Winograd path runs it: h and w even (whole 2 x 2 output tiles), channels
// enough for the GEMMs to outweigh the transforms (>= 16 each way), and one image's
// transforms of bounded size (a thread holds them).
bool winograd_gi_fits(const WinogradGi& s);

// gi = conv2d(gy, w, stride 2, padding (ph, pw)). One image per work item: the same bits for
// any thread count.
template <class T>
void grad_input_winograd(const WinogradGi& s, const T* gy, const T* w, T* gi);

}  // namespace convt
}  // namespace npfast
