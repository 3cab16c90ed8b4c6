// The corr2d family compiled for AVX512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/corr2d/generic.h"

namespace npfast {
namespace corr2d {

const Table table_avx512 = avx512::corr2d::kTable;

}  // namespace corr2d
}  // namespace npfast
