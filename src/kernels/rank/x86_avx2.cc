// The rank-filter family compiled for AVX2 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/rank/generic.h"

namespace npfast {
namespace rank {

const Table table_avx2 = avx2::rank::kTable;

}  // namespace rank
}  // namespace npfast
