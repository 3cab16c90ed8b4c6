// The GEMM family compiled for AVX2+FMA (flags from cmake/npfast_flags.cmake).
//
// 16 ymm registers: a 6 x 2-vector tile is 12 accumulators + 2 B vectors + 1 A broadcast.
// Blocking (Zen 4/5 class: 32-48 KB L1d, 0.5-1 MB L2 per core, shared L3):
//   f32 6x16: B panel KC x 16 = 16 KB and A panel 6 x KC = 6 KB in L1; A block MC x KC = 144 KB
//             in L2; B block KC x NC in L3.
//   f64 6x8:  KC = 192: B panel 12 KB, A panel 9 KB (KC = 256 measured 2x slower: 28 KB
//             of panels crowd a 32 KB L1); A block 144 x 192 x 8 = 216 KB.
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/gemm/generic.h"

namespace npfast {
namespace gemm_kernels {
namespace {

const KernelSet kSet = {
    {avx2::gemm::ukernel<float, 6, 2>, 6, 16, 256, 144, 4080, "f32_gemm_6x16__avx2"},
    {avx2::gemm::ukernel<double, 6, 2>, 6, 8, 192, 144, 2040, "f64_gemm_6x8__avx2"},
    avx2::gemm::fma_probe,
};

}  // namespace

const KernelSet& kernels_avx2 = kSet;

}  // namespace gemm_kernels
}  // namespace npfast
