// Machine-limit probes compiled for AVX2.
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/limits/generic.h"

namespace npfast {
namespace limits {

const Table table_avx2 = avx2::limits::kTable;

}  // namespace limits
}  // namespace npfast
