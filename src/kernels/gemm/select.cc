// Kernel selection for the GEMM family.
#include "src/kernels/gemm/gemm.h"

namespace npfast {
namespace gemm_kernels {

const KernelSet* kernel_set(Isa isa) {
  switch (isa) {
#define NPFAST_GEMM_SET(name, set) \
  case Isa::name:                  \
    return &set;
#include "src/kernels/gemm/kernels.inc"
#undef NPFAST_GEMM_SET
    default:
      return nullptr;
  }
}

const KernelSet& active_kernel_set() {
  const KernelSet* table[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i) table[i] = kernel_set(static_cast<Isa>(i));
  return *select_kernel(table);
}

}  // namespace gemm_kernels
}  // namespace npfast
