#include "npfast/dispatch.hpp"
#include "src/kernels/limits/limits.h"

namespace npfast {
namespace limits {

const Table* table(int isa) {
  switch (static_cast<Isa>(isa)) {
    case Isa::scalar:
      return &reference;
#if defined(__x86_64__)
    case Isa::avx2:
      return &avx2;
    case Isa::avx512:
      return &avx512;
#endif
    default:
      return nullptr;
  }
}

}  // namespace limits
}  // namespace npfast
