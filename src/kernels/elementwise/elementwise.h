// Elementwise kernel family: types, the registry, and the selector.
//
// Contract of a convert kernel `convert_<src>_<dst>__<isa>`:
//   n       number of elements (>= 0)
//   x       n contiguous source elements (any alignment)
//   y       n contiguous destination elements (any alignment; must not overlap x unless x == y
//           and both types have the same size)
//   scale, offset
//           y[i] = cast(fma(double(x[i]), scale, offset)); the cast to float rounds to nearest,
//           the cast to uint8 rounds half to even and saturates, NaN -> 0.
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstdint>

#include "npfast/dispatch.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace elementwise {

using ConvertFn = void (*)(int64_t n, const void* x, void* y, double scale, double offset);

// Source and destination dtypes the kernels cover.
constexpr DType kConvertSources[] = {DType::u8,  DType::i8,  DType::u16, DType::i16,
                                     DType::i32, DType::i64, DType::f32, DType::f64};
constexpr DType kConvertDests[] = {DType::f32, DType::f64, DType::u8};

// Kernel for (src, dst) on `isa`, or null when that ISA has none (or the pair is unsupported).
ConvertFn convert_kernel(Isa isa, DType src, DType dst);
// The kernel the dispatcher uses now (active ISA, falling back to narrower ones).
ConvertFn convert_kernel(DType src, DType dst);
// Kernel name, for config() and tests: "convert_u8_f32__avx512".
const char* convert_kernel_name(DType src, DType dst);

// Per-ISA tables, defined in reference.cc and x86_*.cc: [src index][dst index].
using ConvertTable = ConvertFn[8][3];
extern const ConvertTable convert_reference;
extern const ConvertTable& convert_avx2;
extern const ConvertTable& convert_avx512;

}  // namespace elementwise
}  // namespace npfast
