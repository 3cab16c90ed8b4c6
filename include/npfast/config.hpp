// Build facts, for npfast.config().
#pragma once

namespace npfast {

const char* version();     // "0.1.0"
const char* compiler();    // e.g. "GCC 12.2.0"
const char* build_type();  // CMake build type, e.g. "Release"

}  // namespace npfast
