// The GEMM engine behind npfast::gemm, exposed to the tests and benchmarks with its knobs.
#pragma once

#include <cstdint>

#include "src/kernels/gemm/gemm.h"

namespace npfast {
namespace gemm_detail {

// Knobs the automatic plan normally sets (tests force each path; -1 = automatic).
struct Options {
  int pack_a = -1;   // 1: pack A panels; 0: read A in place (edge panels are still packed)
  int pack_b = -1;   // 1: pack B panels; 0: read B in place when not transposed
  int threads = -1;  // chunks the work may be split into; -1: the cost model decides
};

// K block for depth k: k split into ceil(k / kc_max) nearly equal blocks. It depends on k and
// the kernel only, so the reduction order of each element of C is fixed by (k, ISA).
int64_t k_block(int64_t k, int kc_max);

// Time of a (m, n, k) product on one core, in ns, for a kernel that runs `flops_per_ns` there
// (Ukernel::flops_per_ns).
double gemm_ns(int64_t m, int64_t n, int64_t k, double flops_per_ns);

// Threads the cost model gives a (m, n, k) product with `available` threads: threads_for its
// gemm_ns, and two from a lower threshold (a GEMM item's hand-off costs less than kMinChunkNs).
int gemm_threads(int64_t m, int64_t n, int64_t k, int available, double flops_per_ns);

template <class T>
void gemm_run(const gemm_kernels::Ukernel<T>& uk, const Options& opt, bool trans_a, bool trans_b,
              int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
              int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace gemm_detail
}  // namespace npfast
