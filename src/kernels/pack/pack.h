// Packing kernel family: the data movement that lays operands out for the GEMM and conv
// microkernels (register-blocked transposes).
//
// Contracts (T is float or double; strides are in elements, any value >= the row length):
//   transpose(s, ss, d, ds, rows, cols)
//            d[j * ds + i] = s[i * ss + j] for i < rows, j < cols. Reads only those elements
//            of s, writes only those of d; s and d must not overlap.
//   pack_rows6(x, ld, kc, dst)
//            dst[p * 6 + i] = x[i * ld + p] for i < 6, p < kc: six rows of kc contiguous
//            elements into one transposed 6-wide panel (the AVX2 GEMM's MR).
// Both are exact copies, so every path (vector body, scalar edges, reference) gives the same
// bits. SSE2, which every x86-64 has, is the only ISA used: no runtime dispatch; elsewhere
// the scalar loops run. Kernels are pure: no allocation, no threads, no exceptions.
//
// The bodies are inline (x86_sse2.h) because the callers pass compile-time widths (the GEMM's
// MR and NR) that the compiler folds into the loops; reference.cc holds the scalar oracles.
#pragma once

#include <cstdint>

namespace npfast {
namespace pack {

template <class T>
inline void transpose(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols);
template <class T>
inline void pack_rows6(const T* x, int64_t ld, int64_t kc, T* dst);

// The scalar oracles (element by element), for tests; instantiated for float and double.
template <class T>
void transpose_reference(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows, int64_t cols);
template <class T>
void pack_rows6_reference(const T* x, int64_t ld, int64_t kc, T* dst);

}  // namespace pack
}  // namespace npfast

#include "src/kernels/pack/x86_sse2.h"
