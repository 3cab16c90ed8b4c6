// The filter1d family compiled for AVX2 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/filter1d/generic.h"

namespace npfast {
namespace filter1d {

const Table table_avx2 = avx2::filter1d::kTable;

}  // namespace filter1d
}  // namespace npfast
