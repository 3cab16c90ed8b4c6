// Where and how soon a thread woken from a condition variable runs: the caller (pinned to CPU
// 0) stays busy, as a kernel call would, and wakes a helper after a gap; the helper is pinned to
// CPU `argv[1]` or free on CPUs 0-1 (-1). Prints the wake latency's percentiles and how often
// the helper ran on the caller's CPU. A diagnostic of the machine for docs/threads.md "wake21":
//   g++ -O2 -pthread bench/wake_latency.cc -o /tmp/wake_latency && /tmp/wake_latency -1
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

std::mutex mu;
std::condition_variable cv;
int gen = 0;
std::atomic<long> woke_ns{0};
std::atomic<int> woke_cpu{-1};
Clock::time_point posted;

void allow(std::initializer_list<int> cpus) {
  cpu_set_t m;
  CPU_ZERO(&m);
  for (int c : cpus) CPU_SET(c, &m);
  sched_setaffinity(0, sizeof m, &m);
}

void busy(std::chrono::nanoseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int helper_cpu = argc > 1 ? std::atoi(argv[1]) : -1;
  allow({0});
  std::thread helper([helper_cpu] {
    if (helper_cpu < 0)
      allow({0, 1});
    else
      allow({helper_cpu});
    int seen = 0;
    for (;;) {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait(lk, [&] { return gen != seen; });
      seen = gen;
      if (gen < 0) return;
      woke_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - posted).count();
      woke_cpu = sched_getcpu();
    }
  });
  for (double gap_ms : {0.05, 0.3, 1.0, 3.0, 10.0}) {
    const auto gap = std::chrono::nanoseconds(static_cast<long>(gap_ms * 1e6));
    std::vector<long> lat;
    int same = 0;
    for (int r = 0; r < 40; ++r) {
      busy(gap);
      woke_ns = -1;
      woke_cpu = -1;
      {
        std::lock_guard<std::mutex> lk(mu);
        posted = Clock::now();
        ++gen;
      }
      cv.notify_one();
      const auto t0 = Clock::now();
      while (woke_ns < 0 && Clock::now() - t0 < std::chrono::milliseconds(20)) {
      }
      lat.push_back(woke_ns < 0 ? 20000000 : static_cast<long>(woke_ns));
      same += woke_cpu == sched_getcpu();
      std::this_thread::sleep_for(gap);  // idle: the helper's vCPU may be descheduled
    }
    std::sort(lat.begin(), lat.end());
    std::printf(
        "gap %5.2f ms: wake latency us p10 %.1f p50 %.1f p90 %.1f max %.1f; on the "
        "caller's CPU %d/40\n",
        gap_ms, lat[4] / 1e3, lat[20] / 1e3, lat[36] / 1e3, lat[39] / 1e3, same);
  }
  {
    std::lock_guard<std::mutex> lk(mu);
    gen = -1;
  }
  cv.notify_one();
  helper.join();
}
