// The conv family compiled for AVX-512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/conv/generic.h"

namespace npfast {
namespace conv {

const Table table_avx512 = avx512::conv::kTable;

}  // namespace conv
}  // namespace npfast
