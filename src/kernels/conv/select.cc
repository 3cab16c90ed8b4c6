// Kernel selection for the conv family.
#include <string>

#include "src/kernels/conv/conv.h"

namespace npfast {
namespace conv {

const KernelTable* kernel_table(Isa isa) {
  switch (isa) {
#define NPFAST_CONV_TABLE(name, table) \
  case Isa::name:                      \
    return &table;
#include "src/kernels/conv/kernels.inc"
#undef NPFAST_CONV_TABLE
    default:
      return nullptr;
  }
}

namespace {
Isa table_isa() {
  Isa isa = active_isa();
  if (isa == Isa::neon) isa = Isa::scalar;
  while (isa != Isa::scalar && !kernel_table(isa))
    isa = static_cast<Isa>(static_cast<int>(isa) - 1);
  return isa;
}
}  // namespace

const KernelTable& active_kernels() { return *kernel_table(table_isa()); }

const char* kernel_name(const char* kind, bool f64) {
  static thread_local std::string name;
  name = std::string("conv_") + kind + (f64 ? "_f64__" : "_f32__") + isa_name(table_isa());
  return name.c_str();
}

}  // namespace conv
}  // namespace npfast
