// The elementwise family compiled for AVX2 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx2.h"

#define NPFAST_TARGET avx2
#include "src/kernels/elementwise/generic.h"

namespace npfast {
namespace elementwise {

const ConvertTable& convert_avx2 = avx2::elementwise::kConvertTable;
const ConvertTable& convert_stream_avx2 = avx2::elementwise::kConvertStreamTable;
const NormalizeTable& normalize_avx2 = avx2::elementwise::kNormalizeTable;
const ZeroFn zero_stream_avx2 = avx2::elementwise::zero_stream;
const GatherTable& gather_avx2 = avx2::elementwise::kGatherTable;

}  // namespace elementwise
}  // namespace npfast
