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

const Table& table_for(int64_t cols, bool f64) {
  const Isa top = active_table_isa();
  const Table* t = table(top);
  // x86 only (avx512 > avx2 in the enum, narrower vectors below): step down while the vectors
  // are wider than the interior, but never to the reference: a SIMD kernel's own scalar path
  // is the faster one on planes narrower than every vector.
  if (top != Isa::avx512 && top != Isa::avx2) return *t;
  for (int i = static_cast<int>(top) - 1; i > static_cast<int>(Isa::scalar); --i) {
    if ((f64 ? t->lanes_f64 : t->lanes_f32) <= cols) break;
    if (const Table* narrower = table(static_cast<Isa>(i))) t = narrower;
  }
  return *t;
}

}  // namespace pool
}  // namespace npfast
