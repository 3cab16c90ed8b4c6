// Internals shared by the 3-D matmul (matmul.cc) and its N-D broadcast wrapper (matmul_nd.cc):
// one wording for the shape errors both report.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {
namespace ops {

// ValueError naming b: a's last dimension ka and b's inner dimension kb differ.
[[noreturn]] void matmul_inner_mismatch(const View& a, const View& b, int64_t ka, int64_t kb);
// ValueError naming b: batch dimensions da and db are unequal and neither is 1; `what` says
// which ("batch sizes differ", or for N-D "batch dimensions do not broadcast").
[[noreturn]] void matmul_batch_mismatch(const View& a, const View& b, int64_t da, int64_t db,
                                        const char* what);

}  // namespace ops
}  // namespace npfast
