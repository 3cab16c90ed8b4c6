// Build facts and the kernels in use, for npfast.config().
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace npfast {

const char* version();     // "0.1.0"
const char* compiler();    // e.g. "GCC 12.2.0"
const char* build_type();  // CMake build type, e.g. "Release"

// The kernel each operator dispatches to at the active ISA, as (operator, kernel) pairs such as
// ("matmul_f32", "f32_gemm_14x32__avx512"); names follow docs/naming.md.
std::vector<std::pair<std::string, std::string>> kernel_names();

}  // namespace npfast
