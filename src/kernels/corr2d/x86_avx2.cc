// The corr2d family compiled for AVX2 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/corr2d/generic.h"

namespace npfast {
namespace corr2d {

const Table table_avx2 = avx2::corr2d::kTable;

}  // namespace corr2d
}  // namespace npfast
