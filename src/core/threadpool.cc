// The persistent thread pool behind parallel_for.
//
// Workers wait for a new job word, spin briefly first (back-to-back kernel calls hand
// off in about a microsecond) and then sleep on a condition variable, so an idle process
// burns no CPU. A job's chunks are claimed from one atomic counter; which thread runs a chunk
// varies, what a chunk computes does not.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/threads.hpp"

namespace npfast {
namespace {

thread_local bool t_in_parallel = false;

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Pool {
 public:
  explicit Pool(int workers) { resize(workers); }
  ~Pool() { resize(0); }

  // Number of worker threads (the caller is the extra one).
  void resize(int workers) {
    std::lock_guard<std::mutex> run(run_mu_);
    stop_workers();
    // A worker starts from the job word current now, so it cannot miss the next job.
    const uint64_t word = job_.load(std::memory_order_acquire);
    for (int i = 0; i < workers; ++i)
      threads_.emplace_back([this, i, word] { worker_loop(i, word); });
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs the job if the pool is free; returns false (nothing run) if another thread holds it.
  bool try_run(int64_t n, int64_t grain, ChunkFn fn, void* ctx, int threads) {
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) return false;
    const int64_t chunks = (n + grain - 1) / grain;
    const int helpers = static_cast<int>(std::min<int64_t>({threads - 1, chunks - 1, workers()}));
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    grain_ = grain;
    chunks_ = chunks;
    next_.store(0, std::memory_order_relaxed);
    {
      // The helper count travels in the same word as the sequence number, so a worker that
      // wakes late can never pair one job's number with another job's helper count.
      std::lock_guard<std::mutex> lk(mu_);
      const uint64_t seq = (job_.load(std::memory_order_relaxed) >> 16) + 1;
      state_.store(seq << kSeqShift, std::memory_order_release);
      job_.store((seq << 16) | static_cast<uint64_t>(helpers), std::memory_order_release);
    }
    cv_work_.notify_all();
    work();
    // No chunk is left to claim. Close the job so that a helper the OS has not scheduled yet
    // stays out, and wait only for the helpers inside it (each finishing its last chunk): on
    // a busy machine the caller never waits for a thread that did no work.
    state_.fetch_or(kClosed, std::memory_order_acq_rel);
    for (int spins = 0; (state_.load(std::memory_order_acquire) & kInsideMask) != 0; ++spins) {
      if (spins < 4096)
        cpu_relax();
      else
        std::this_thread::yield();  // a helper was preempted mid-chunk: let it run
    }
    return true;
  }

 private:
  void work() {
    for (;;) {
      const int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return;
      const int64_t b = c * grain_;
      fn_(ctx_, b, std::min(b + grain_, n_));
    }
  }

  // Worker `index` joins a job when index < the job's helper count.
  void worker_loop(int index, uint64_t seen) {
    t_in_parallel = true;
    for (;;) {
      const uint64_t word = wait_for_job(seen);
      if (word == kStop) return;
      seen = word;
      if (index < static_cast<int>(word & 0xffff) && join(word >> 16)) {
        work();
        state_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  // Enters job `seq` unless it is already closed (or over).
  bool join(uint64_t seq) {
    uint64_t s = state_.load(std::memory_order_acquire);
    do {
      if ((s >> kSeqShift) != seq || (s & kClosed)) return false;
    } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                           std::memory_order_acquire));
    return true;
  }

  uint64_t wait_for_job(uint64_t seen) {
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    for (int i = 0;; ++i) {
      if (stop_.load(std::memory_order_acquire)) return kStop;
      const uint64_t word = job_.load(std::memory_order_acquire);
      if (word != seen) return word;
      cpu_relax();
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > spin_until) break;
    }
    std::unique_lock<std::mutex> lk(mu_);
    cv_work_.wait(lk, [&] {
      return stop_.load(std::memory_order_acquire) || job_.load(std::memory_order_acquire) != seen;
    });
    if (stop_.load(std::memory_order_acquire)) return kStop;
    return job_.load(std::memory_order_acquire);
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_.store(true, std::memory_order_release);
    }
    cv_work_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
    stop_.store(false, std::memory_order_release);
  }

  static constexpr uint64_t kStop = ~uint64_t{0};

  std::mutex run_mu_;  // one job at a time
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_work_;
  std::atomic<uint64_t> job_{0};  // (sequence number << 16) | helper count
  std::atomic<bool> stop_{false};

  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, grain_ = 1, chunks_ = 0;
  std::atomic<int64_t> next_{0};
  // (sequence << kSeqShift) | kClosed once the caller has finished | helpers inside the job.
  static constexpr int kSeqShift = 20;
  static constexpr uint64_t kClosed = uint64_t{1} << 19, kInsideMask = kClosed - 1;
  std::atomic<uint64_t> state_{0};
};

int env_threads() {
  if (const char* env = std::getenv("NPFAST_NUM_THREADS"); env && *env) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end == '\0' && v >= 1 && v <= kMaxThreads) return static_cast<int>(v);
  }
  return usable_cores();
}

std::atomic<int> g_threads{0};  // 0: not yet read from the environment
std::mutex g_pool_mu;
Pool* g_pool = nullptr;  // leaked at exit on purpose: joining threads in static destructors
                         // races with interpreter shutdown

Pool& pool_for(int threads) {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (!g_pool) {
    static bool registered = [] {
      // A forked child has none of the parent's threads: start afresh (the old pool object
      // is abandoned, its threads do not exist here).
      pthread_atfork(nullptr, nullptr, [] { g_pool = nullptr; });
      return true;
    }();
    (void)registered;
    g_pool = new Pool(threads - 1);
  } else if (g_pool->workers() < threads - 1) {
    g_pool->resize(threads - 1);
  }
  return *g_pool;
}

}  // namespace

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    int expected = 0;
    g_threads.compare_exchange_strong(expected, env_threads());
    n = g_threads.load(std::memory_order_relaxed);
  }
  return n;
}

void set_num_threads(int n) {
  if (n < 1 || n > kMaxThreads)
    throw ValueError("num_threads: must be between 1 and " + std::to_string(kMaxThreads) +
                     ", got " + std::to_string(n));
  g_threads.store(n, std::memory_order_relaxed);
}

void parallel_for(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = get_num_threads();
  if (threads > 1 && grain < n && !t_in_parallel) {
    Pool& pool = pool_for(threads);
    t_in_parallel = true;
    const bool ran = pool.try_run(n, grain, fn, ctx, threads);
    t_in_parallel = false;
    if (ran) return;
  }
  for (int64_t b = 0; b < n; b += grain) fn(ctx, b, std::min(b + grain, n));
}

int64_t grain_for(int64_t n, double cost_per_item_ns, int per_thread) {
  const double min_chunk_ns = 20000.0;  // a thread hand-off costs a few us; keep it < 10%
  const int threads = get_num_threads();
  const double total = static_cast<double>(n) * cost_per_item_ns;
  if (threads == 1 || total < 2 * min_chunk_ns) return std::max<int64_t>(n, 1);
  // Aim for per_thread chunks per thread for balance, but no chunk under min_chunk_ns.
  int64_t chunks = std::min<int64_t>(int64_t{threads} * std::max(per_thread, 1),
                                     static_cast<int64_t>(total / min_chunk_ns));
  chunks = std::max<int64_t>(chunks, 2);
  return std::max<int64_t>(1, (n + chunks - 1) / chunks);
}

}  // namespace npfast
