// The filter1d family compiled for AVX-512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/filter1d/generic.h"

namespace npfast {
namespace filter1d {

const Table table_avx512 = avx512::filter1d::kTable;

}  // namespace filter1d
}  // namespace npfast
