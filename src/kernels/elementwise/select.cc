// Kernel selection for the elementwise family.
#include <string>

#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace elementwise {
namespace {

int index_of(DType t, const DType* list, int n) {
  for (int i = 0; i < n; ++i)
    if (list[i] == t) return i;
  return -1;
}

struct IsaKernels {
  const ConvertTable* convert;
  const ConvertTable* convert_stream;
  const NormalizeTable* normalize;
  ZeroFn zero_stream;
  const GatherTable* gather;
};

IsaKernels kernels_for(Isa isa) {
  switch (isa) {
#define NPFAST_ELEMENTWISE_ISA(name, suffix)                                  \
  case Isa::name:                                                             \
    return {&convert_##suffix, &convert_stream_##suffix, &normalize_##suffix, \
            zero_stream_##suffix, &gather_##suffix};
#include "src/kernels/elementwise/kernels.inc"
#undef NPFAST_ELEMENTWISE_ISA
    default:
      return {nullptr, nullptr, nullptr, nullptr, nullptr};
  }
}

}  // namespace

ConvertFn convert_kernel(Isa isa, DType src, DType dst, bool stream) {
  const int s = index_of(src, kConvertSources, 8), d = index_of(dst, kConvertDests, 3);
  const IsaKernels k = kernels_for(isa);
  const ConvertTable* t = stream ? k.convert_stream : k.convert;
  return (s < 0 || d < 0 || !t) ? nullptr : (*t)[s][d];
}

ConvertFn convert_kernel(DType src, DType dst, bool stream) {
  ConvertFn table[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i)
    table[i] = convert_kernel(static_cast<Isa>(i), src, dst, stream);
  return select_kernel(table);
}

NormalizeFn normalize_kernel(Isa isa, DType dst) {
  const NormalizeTable* t = kernels_for(isa).normalize;
  if (!t || (dst != DType::f32 && dst != DType::f64)) return nullptr;
  return (*t)[dst == DType::f32 ? 0 : 1];
}

NormalizeFn normalize_kernel(DType dst) {
  NormalizeFn table[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i) table[i] = normalize_kernel(static_cast<Isa>(i), dst);
  return select_kernel(table);
}

GatherFn gather_kernel(Isa isa, DType dst) {
  const GatherTable* t = kernels_for(isa).gather;
  if (!t || (dst != DType::f32 && dst != DType::f64)) return nullptr;
  return (*t)[dst == DType::f32 ? 0 : 1];
}

GatherFn gather_kernel(DType dst) {
  GatherFn table[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i) table[i] = gather_kernel(static_cast<Isa>(i), dst);
  return select_kernel(table);
}

void stream_fence() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_sfence();
#endif
}

ZeroFn zero_stream_kernel(Isa isa) { return kernels_for(isa).zero_stream; }

ZeroFn zero_stream_kernel() {
  ZeroFn table[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i) table[i] = zero_stream_kernel(static_cast<Isa>(i));
  return select_kernel(table);
}

const char* convert_kernel_name(DType src, DType dst) {
  // Names are built once per (isa, src, dst) and kept.
  static thread_local std::string name;
  const char* short_names[] = {"u8", "i8", "u16", "i16", "i32", "i64", "f32", "f64"};
  Isa isa = active_isa();
  while (isa != Isa::scalar && !convert_kernel(isa, src, dst))
    isa = static_cast<Isa>(static_cast<int>(isa) - 1);
  name = std::string("convert_") + short_names[static_cast<int>(src)] + "_" +
         short_names[static_cast<int>(dst)] + "__" + isa_name(isa);
  return name.c_str();
}

}  // namespace elementwise
}  // namespace npfast
