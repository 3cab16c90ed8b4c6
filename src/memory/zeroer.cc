// The zeroer thread (see zeroer.h).
#include "src/memory/zeroer.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "npfast/threads.hpp"

namespace npfast {
namespace memory {
namespace {

struct Zeroer {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool pending = false;  // a put() since the thread last looked for work
};

// Replaced (the old one leaked) in a fork() child, whose copy may hold a waiter that the
// child does not have.
Zeroer* g_zeroer = new Zeroer;

bool enabled_by_env() {
  static const bool on = [] {
    const char* env = std::getenv("NPFAST_POOL_ZERO_AHEAD");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return on;
}

std::atomic<bool> g_off_for_testing{false};
std::atomic<Central*> g_woken_for{nullptr};  // the cache the thread serves, once woken


void run(Zeroer* z, Central* cen) {
  sched_param sp{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);  // best effort
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(z->mu);
      z->cv.wait(lk, [z] { return z->pending; });
      z->pending = false;
    }
    while (Header* h = zero_ahead_on() ? cen->begin_zeroing() : nullptr) {
      // Plain stores, as zero_fill() below kStreamZeroBytes: the block (<= kZeroAheadMax)
      // stays in the shared cache for the caller's first touch.
      std::memset(user_of(h), 0, h->size);
      cen->end_zeroing(h);
    }
  }
}

}  // namespace

bool zero_ahead_on() {
  return enabled_by_env() && !g_off_for_testing.load(std::memory_order_relaxed) &&
         available_threads() >= 2;
}

void set_zero_ahead_for_testing(bool on) {
  g_off_for_testing.store(!on, std::memory_order_relaxed);
  Central* cen = g_woken_for.load(std::memory_order_acquire);
  for (int i = 0; !on && cen && cen->zeroing() && i < 10000; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void wake_zeroer(Central* cen) {
  if (!zero_ahead_on()) return;
  g_woken_for.store(cen, std::memory_order_release);
  Zeroer* z = g_zeroer;
  std::lock_guard<std::mutex> lk(z->mu);
  z->pending = true;
  if (z->started) {
    z->cv.notify_one();
    return;
  }
  // Signals stay with the threads that expect them (Python's main thread).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  z->started = true;  // once: without a thread the callers keep clearing their own blocks
  try {
    std::thread(run, z, cen).detach();
  } catch (...) {
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void zeroer_before_fork() { g_zeroer->mu.lock(); }
void zeroer_after_fork_parent() { g_zeroer->mu.unlock(); }
void zeroer_after_fork_child() { g_zeroer = new Zeroer; }

}  // namespace memory
}  // namespace npfast
