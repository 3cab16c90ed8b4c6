// The GEMM family compiled for AVX2+FMA (flags from cmake/npfast_flags.cmake).
//
// 16 ymm registers: a 6 x 2-vector tile is 12 accumulators + 2 B vectors + 1 A broadcast.
// Blocking (Zen 4/5 class: 32-48 KB L1d, 0.5-1 MB L2 per core, shared L3):
//   f32 6x16: B panel KC x 16 = 16 KB and A panel 6 x KC = 6 KB in L1; A block MC x KC = 144 KB
//             in L2; B block KC x NC in L3.
//   f64 6x8:  B panel 256 x 8 x 8 = 16 KB, A panel 12 KB in L1; A block 96 x 256 x 8 = 192 KB.
//             (KC 128-384 and MC 48-288 swept at 512^2 and 1000^2: within the noise of this
//             shared VM; these are BLIS's Haswell/Zen values.)
// fn_rows (gathered A rows) for the implicit-GEMM convolution: 6 rows divide neither 28 nor the
// 29-30 pixel wide rows of its strided and dilated 56^2 layers. AVX-512's MR = 14 divides 28,
// and its table has none (14 row pointers would not stay in registers).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/gemm/generic.h"

namespace npfast {
namespace gemm_kernels {

const Table table_avx2 = {
    {avx2::gemm::ukernel<float, 6, 2>, 6, 16, 256, 144, 4080, avx2::gemm::ukernel<float, 6, 1>,
     avx2::gemm::kHeights<float, 6, 2>.data(), 0, 0, 100.0, avx2::gemm::ukernel_rows<float, 6, 2>},
    {avx2::gemm::ukernel<double, 6, 2>, 6, 8, 256, 96, 2040, avx2::gemm::ukernel<double, 6, 1>,
     avx2::gemm::kHeights<double, 6, 2>.data(), 0, 0, 50.0, avx2::gemm::ukernel_rows<double, 6, 2>},
    {avx2::gemm::gemv_dot<float>, avx2::gemm::gemv_axpy<float>},
    {avx2::gemm::gemv_dot<double>, avx2::gemm::gemv_axpy<double>},
};

// The AVX-512 tile shapes (14x32 f32, 14x16 f64) built from AVX2 vectors: slow (the tile
// spills) but runnable here, so the tests drive the operator through the exact panel widths
// and blocking of the AVX-512 set on a machine without AVX-512.
const Table table_avx512_geometry_on_avx2 = {
    {avx2::gemm::ukernel<float, 14, 4>, 14, 32, 192, 140, 4096, avx2::gemm::ukernel<float, 14, 2>,
     avx2::gemm::kHeights<float, 14, 4>.data(), 128 << 10, 768, 150.0},
    {avx2::gemm::ukernel<double, 14, 4>, 14, 16, 384, 112, 2048, avx2::gemm::ukernel<double, 14, 2>,
     avx2::gemm::kHeights<double, 14, 4>.data(), 384 << 10, 768, 70.0},
};

}  // namespace gemm_kernels
}  // namespace npfast
