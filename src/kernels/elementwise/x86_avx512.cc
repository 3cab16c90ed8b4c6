// The elementwise family compiled for AVX512 (flags from cmake/npfast_flags.cmake).
#include "src/core/simd/x86_avx512.h"

#define NPFAST_TARGET avx512
#include "src/kernels/elementwise/generic.h"

namespace npfast {
namespace elementwise {

const ConvertTable& convert_avx512 = avx512::elementwise::kConvertTable;
const ConvertTable& convert_stream_avx512 = avx512::elementwise::kConvertStreamTable;
const NormalizeTable& normalize_avx512 = avx512::elementwise::kNormalizeTable;
const ZeroFn zero_stream_avx512 = avx512::elementwise::zero_stream;
const GatherTable& gather_avx512 = avx512::elementwise::kGatherTable;

}  // namespace elementwise
}  // namespace npfast
