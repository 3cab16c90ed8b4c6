// Kernel selection for the pooling family.
#include "src/kernels/pool/pool.h"

namespace npfast {
namespace pool {

const Table* table(Isa isa) {
  switch (isa) {
#define NPFAST_POOL_TABLE(name, t) \
  case Isa::name:                  \
    return &t;
#include "src/kernels/pool/kernels.inc"
#undef NPFAST_POOL_TABLE
    default:
      return nullptr;
  }
}

Isa active_table_isa() {
  const Table* t[kNumIsas];
  for (int i = 0; i < kNumIsas; ++i) t[i] = table(static_cast<Isa>(i));
  const Table* chosen = select_kernel(t);
  for (int i = 0; i < kNumIsas; ++i)
    if (t[i] == chosen) return static_cast<Isa>(i);
  return Isa::scalar;
}

const Table& active_table() { return *table(active_table_isa()); }

}  // namespace pool
}  // namespace npfast
