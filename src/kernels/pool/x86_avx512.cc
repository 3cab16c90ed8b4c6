// The pooling family compiled for AVX512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/pool/generic.h"

namespace npfast {
namespace pool {

const Table table_avx512 = avx512::pool::kTable;

}  // namespace pool
}  // namespace npfast
