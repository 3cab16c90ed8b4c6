// The elementwise family compiled for AVX512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/elementwise/generic.h"

namespace npfast {
namespace elementwise {

const Table table_avx512 = avx512::elementwise::kTable;

}  // namespace elementwise
}  // namespace npfast
