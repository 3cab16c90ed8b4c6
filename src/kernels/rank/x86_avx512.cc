// The rank-filter family compiled for AVX512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/rank/generic.h"

namespace npfast {
namespace rank {

const Table table_avx512 = avx512::rank::kTable;

}  // namespace rank
}  // namespace npfast
