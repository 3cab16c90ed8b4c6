// The conv family compiled for AVX2+FMA (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/conv/generic.h"

namespace npfast {
namespace conv {

const Table table_avx2 = avx2::conv::kTable;

}  // namespace conv
}  // namespace npfast
