// The GEMM family compiled for AVX-512 F (flags from cmake/npfast_flags.cmake).
//
// 32 zmm registers: a 14 x 2-vector tile is 28 accumulators + 2 B vectors + 1 A broadcast.
// Blocking (48 KB L1d, 1-2 MB L2 per core):
//   f32 14x32: B panel KC x 32 = 24 KB, A panel 14 x KC = 10.5 KB in L1 (KC = 192);
//              A block 140 x 192 x 4 = 105 KB in L2.
//   f64 14x16: KC = 384 (BLIS's SkylakeX and Zen 4 choices are 384 and 512): the B panel
//              (48 KB) and A panel (42 KB) are read from L2 at 240 bytes per 28 FMAs, which
//              it sustains; A block 112 x 384 x 8 = 344 KB in L2; K groups of two blocks.
//              On the Zen 4 (32 KB L1d, 1 MB L2) KC 128 (B panel in L1) ran 1-6% slower
//              from 512^2 up in an interleaved A/B (docs/gemm.md, "gemm14"). B is read in
//              place up to a 384 KB K block (3 x the 128 KB of KC 128), so products whose
//              K block spans as many rows as before still read it in place.
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/gemm/generic.h"

namespace npfast {
namespace gemm_kernels {

const Table table_avx512 = {
    {avx512::gemm::ukernel<float, 14, 2>, 14, 32, 192, 140, 4096,
     avx512::gemm::ukernel<float, 14, 1>, avx512::gemm::kHeights<float, 14, 2>.data(), 128 << 10,
     768, 150.0},
    {avx512::gemm::ukernel<double, 14, 2>, 14, 16, 384, 112, 2048,
     avx512::gemm::ukernel<double, 14, 1>, avx512::gemm::kHeights<double, 14, 2>.data(), 384 << 10,
     768, 70.0},
    {avx512::gemm::gemv_dot<float>, avx512::gemm::gemv_axpy<float>},
    {avx512::gemm::gemv_dot<double>, avx512::gemm::gemv_axpy<double>},
};

}  // namespace gemm_kernels
}  // namespace npfast
