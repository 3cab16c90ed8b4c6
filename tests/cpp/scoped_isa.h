// Sets the active ISA for one scope and restores the previous one on exit, also when an
// assertion returns early, so a cap cannot leak into later tests.
#pragma once

#include "npfast/dispatch.hpp"

namespace npfast {

class ScopedIsa {
 public:
  explicit ScopedIsa(Isa isa) : before_(active_isa()) { set_active_isa(isa); }
  ~ScopedIsa() { set_active_isa(before_); }
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  Isa before_;
};

}  // namespace npfast
