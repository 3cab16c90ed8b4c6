#include "npfast/config.hpp"

namespace npfast {

const char* version() { return NPFAST_VERSION; }

const char* compiler() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "unknown";
#endif
}

const char* build_type() { return NPFAST_BUILD_TYPE; }

}  // namespace npfast
