// The pack family's scalar oracles (contract: pack.h).
#include "src/kernels/pack/pack.h"

namespace npfast {
namespace pack {

template <class T>
void transpose_reference(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) d[j * ds + i] = s[i * ss + j];
}

template <class T>
void pack_rows6_reference(const T* x, int64_t ld, int64_t kc, T* dst) {
  for (int64_t p = 0; p < kc; ++p)
    for (int i = 0; i < 6; ++i) dst[p * 6 + i] = x[i * ld + p];
}

template void transpose_reference<float>(const float*, int64_t, float*, int64_t, int64_t, int64_t);
template void transpose_reference<double>(const double*, int64_t, double*, int64_t, int64_t,
                                          int64_t);
template void pack_rows6_reference<float>(const float*, int64_t, int64_t, float*);
template void pack_rows6_reference<double>(const double*, int64_t, int64_t, double*);

}  // namespace pack
}  // namespace npfast
