// Helpers shared by the implicit-GEMM passes (conv2d_implicit.cc, conv_transpose2d_phase.cc).
#pragma once

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "src/core/spin.h"

namespace npfast {
namespace conv_ops {

// An item of an implicit-GEMM pass stores its NCHW output rows at its end, a few pixels into
// each of og planes: lines seldom still cached (the stride-2 64->128 layer writes 3.2 MB), and
// a core has only a few such write misses in flight (they took ~10% of that layer). The item
// asks for them during its products instead, a few per microkernel call (ahead), so they
// arrive while the tiles compute: the cache lines of `rows` output rows (row_bytes each,
// row_step apart) in `planes` planes (plane_bytes apart) from `first`.
class LinesAhead {
 public:
  LinesAhead(const void* first, int64_t planes, int64_t plane_bytes, int64_t rows, int64_t row_step,
             int64_t row_bytes)
      : first_(static_cast<const char*>(first)),
        planes_(planes),
        plane_bytes_(plane_bytes),
        rows_(planes > 0 ? rows : 0),
        row_step_(row_step),
        row_bytes_(row_bytes) {}
  void ahead(int64_t count) {
    for (; count > 0 && r_ < rows_; --count) {
      // The row's lines from its first byte, the last one by its last byte (any alignment).
      __builtin_prefetch(
          first_ + o_ * plane_bytes_ + r_ * row_step_ + std::min(off_, row_bytes_ - 1), 1, 1);
      if ((off_ += 64) < row_bytes_ + 63) continue;
      off_ = 0;
      if (++o_ < planes_) continue;
      o_ = 0;
      ++r_;
    }
  }
  int64_t lines() const { return planes_ * rows_ * ((row_bytes_ + 63) / 64 + 1); }

 private:
  const char* first_;
  int64_t planes_, plane_bytes_, rows_, row_step_, row_bytes_;
  int64_t r_ = 0, o_ = 0, off_ = 0;
};

// Work a pass needs before its items, in `parts` independent parts, run inside the items' job
// (the weight packing or transform of a pass whose work items are whole units). On the caller
// before the job, the helpers only started waking once it was done (20-45 us from sleep), so
// the call took both in turn; in the job, they overlap. Each thread arriving takes the next
// part not yet taken until none is left, then waits until all are done: a thread that arrives
// late finds the work done (or partly, and helps), its wait is at most one part's length (the
// threads it waits for have started), and on one thread it is a serial loop. Several parts
// for work long enough that one thread doing it all would hold the others waiting (the
// Winograd weight transform, ~0.2 ms).
class PartsInJob {
 public:
  explicit PartsInJob(int64_t parts) : parts_(parts) {}
  template <class F>
  void run(F&& f) {
    for (int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < parts_;
         i = next_.fetch_add(1, std::memory_order_relaxed)) {
      f(i);
      done_.fetch_add(1, std::memory_order_release);
    }
    for (int i = 1; done_.load(std::memory_order_acquire) != parts_; ++i) {
      if (i % 64 == 0) sched_yield();  // the thread it waits for may share this core
      cpu_relax();
    }
  }

 private:
  const int64_t parts_;
  std::atomic<int64_t> next_{0}, done_{0};
};

// PartsInJob for work in one part (the first thread to get there runs it).
class OnceInJob {
 public:
  template <class F>
  void run(F&& f) {
    once_.run([&](int64_t) { f(); });
  }

 private:
  PartsInJob once_{1};
};

}  // namespace conv_ops
}  // namespace npfast
