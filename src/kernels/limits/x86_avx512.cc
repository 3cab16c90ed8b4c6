// Machine-limit probes compiled for AVX512.
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/limits/generic.h"

namespace npfast {
namespace limits {

const Table table_avx512 = avx512::limits::kTable;

}  // namespace limits
}  // namespace npfast
