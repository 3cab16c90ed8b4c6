// Restores the thread count and the core cap (set_core_cap_for_testing) on any way out of a
// scope, also when an assertion returns early, so a test's settings cannot leak into later ones.
#pragma once

#include "npfast/threads.hpp"

namespace npfast {

class ScopedThreads {
 public:
  ScopedThreads() : before_(get_num_threads()) {}
  // Lets `threads` run on up to `cap` cores for the scope (beyond this machine's, for tests).
  ScopedThreads(int threads, int cap) : ScopedThreads() {
    set_core_cap_for_testing(cap);
    set_num_threads(threads);
  }
  ~ScopedThreads() {
    set_core_cap_for_testing(0);
    set_num_threads(before_);
  }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int before_;
};

}  // namespace npfast
