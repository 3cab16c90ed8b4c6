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

const ConvertTable* table_for(Isa isa) {
  switch (isa) {
#define NPFAST_CONVERT_TABLE(name, table) \
  case Isa::name:                         \
    return &table;
#include "src/kernels/elementwise/kernels.inc"
#undef NPFAST_CONVERT_TABLE
    default:
      return nullptr;
  }
}

}  // namespace

ConvertFn convert_kernel(Isa isa, DType src, DType dst) {
  const int s = index_of(src, kConvertSources, 8), d = index_of(dst, kConvertDests, 3);
  const ConvertTable* t = table_for(isa);
  return (s < 0 || d < 0 || !t) ? nullptr : (*t)[s][d];
}

ConvertFn convert_kernel(DType src, DType dst) {
  ConvertFn table[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i) table[i] = convert_kernel(static_cast<Isa>(i), src, dst);
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
