// Helpers shared by the implicit-GEMM passes (conv2d_implicit.cc, conv_transpose2d_phase.cc).
#pragma once

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

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

// Work a pass needs once before its items, run inside the items' job by the first thread to
// get there (the weight packing of a pass whose work items are whole units). On the caller
// before the job, the helpers only started waking once it was done (20-45 us from sleep), so
// the call took both in turn; in the job, they overlap. A thread that arrives while another
// runs it waits for that thread, which has started (its wait is at most the work's length);
// a serial run does it in its first chunk.
class OnceInJob {
 public:
  template <class F>
  void run(F&& f) {
    int idle = 0;
    if (state_.compare_exchange_strong(idle, 1, std::memory_order_acquire)) {
      f();
      state_.store(2, std::memory_order_release);
      return;
    }
    for (int i = 1; state_.load(std::memory_order_acquire) != 2; ++i) {
      // Yield now and then: the thread it waits for may share this core on a loaded machine.
      if (i % 64 == 0) sched_yield();
      __builtin_ia32_pause();
    }
  }

 private:
  std::atomic<int> state_{0};
};

// As OnceInJob for work in `parts` independent parts: each thread arriving takes the next part
// not yet taken until none is left, then waits until all are done. A thread that arrives late
// finds the work done (or partly, and helps); on one thread it is a serial loop. For work long
// enough that one thread doing it all would hold the others waiting (the Winograd weight
// transform, ~0.2 ms).
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
      __builtin_ia32_pause();
    }
  }

 private:
  const int64_t parts_;
  std::atomic<int64_t> next_{0}, done_{0};
};

}  // namespace conv_ops
}  // namespace npfast
