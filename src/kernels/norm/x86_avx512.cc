// The normalisation family compiled for AVX-512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/norm/generic.h"

namespace npfast {
namespace norm {

const Table table_avx512 = avx512::norm::kTable;

}  // namespace norm
}  // namespace npfast
