// The normalisation family compiled for AVX2 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/norm/generic.h"

namespace npfast {
namespace norm {

const Table table_avx2 = avx2::norm::kTable;

}  // namespace norm
}  // namespace npfast
