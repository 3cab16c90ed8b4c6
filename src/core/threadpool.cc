// The persistent thread pool behind parallel_for.
//
// Workers wait for a new job word, spin briefly first (back-to-back kernel calls hand off in
// about a microsecond, and so do the calls of a network's forward, a few tens of microseconds
// of Python apart) and then sleep on a condition variable, so an idle process burns no
// CPU and leaves the cores to other pools. A job's chunks are claimed from one atomic counter;
// which thread runs a chunk varies, what a chunk computes does not. The caller claims chunks
// like any helper, so a helper that has not started yet is never waited for; it waits only for
// helpers inside a chunk, and a call whose helpers ran slower than the caller alone would have
// (other pools or processes hold the cores) makes the next calls run on the caller alone for a
// while (see docs/threads.md).
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/spin.h"

namespace npfast {
namespace {

thread_local bool t_in_parallel = false;
thread_local pid_t t_tid = 0;  // this thread's id, once asked

using Clock = std::chrono::steady_clock;

// CPU time of the calling thread: unlike the wall clock, it excludes time the thread waited
// for a core, so it measures what the caller's chunks cost.
inline int64_t thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Every few microseconds of spinning: false once `until` has passed, else yields the core to
// any other runnable thread first. A spinner that shares its core with the thread it waits for
// (the scheduler often wakes a helper onto the caller's core when the others are busy), or
// with another pool's worker, would otherwise hold that core for its whole spin.
inline bool keep_spinning(Clock::time_point until) {
  if (Clock::now() > until) return false;
  sched_yield();
  return true;
}

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Where a pool helper runs relative to its callers. The kernel of this project's 2-vCPU VMs
// runs a woken thread on the waker's vCPU while the other sits idle (sched_vcpu_pack: a
// condition-variable wake landed there 21-40 times in 40), and its balancer pulls an idle
// spinning thread back there: the helper then preempted its caller or queued behind it, and a
// 96^3 gaussian on two threads took its one-thread time call after call (docs/threads.md
// "wake21"). So a helper that finds itself on its caller's CPU when it takes a seat in a job
// moves off it, and from then on, while idle (spinning or asleep), keeps off the CPU of the
// last caller that posted it a job: its affinity is its own without that CPU. In a job it has
// its whole affinity, so that when another process takes its core it can still move to the
// caller's while the caller sleeps waiting for it. Taking back the CPU it kept off, it changes
// nothing else in its mask, and takes it back only where its caller may run there, so a mask
// set from outside meanwhile (taskset -a, a cpuset) stands. Where woken threads go to idle
// CPUs this costs one sched_getcpu() a job (and one for the caller); from a helper's first job
// on its caller's CPU (which may also happen by chance elsewhere), about five affinity calls a
// job (~4 us on this VM, three while it holds its seat: the caller may run a short job's
// chunks alone meanwhile).
// Counts set_num_threads calls, and the thread that made the last: a helper widens its mask by
// that thread's once after each (HelperPlace::follow_setter).
std::atomic<uint32_t> g_affinity_epoch{0};
std::atomic<pid_t> g_affinity_from{0};

class HelperPlace {
 public:
  // A new worker, kept off its creator's CPU until its first job (started there, a new helper
  // waited 3.4 ms behind its caller in one trace); `mask`: the affinity the creator gives it,
  // where off() >= 0.
  static HelperPlace off_creator(cpu_set_t* mask) {
    HelperPlace s;
    const int cpu = sched_getcpu();
    if (cpu < 0 || !s.read(&s.home_) || !CPU_ISSET(cpu, &s.home_) || CPU_COUNT(&s.home_) < 2)
      return s;
    *mask = s.home_;
    CPU_CLR(cpu, mask);
    s.off_ = cpu;
    return s;
  }
  // A worker inherits its creator's mask: one made while its caller was pinned to a CPU kept
  // that CPU alone after the pin was lifted (probe24a: {0} for good on 2 CPUs). After each
  // set_num_threads (which re-reads the usable cores and wakes the workers) a helper adds the
  // setter's CPUs to its mask, once, on waking or at its next seat. Only adds: handing it the
  // setter's mask pinned every helper to a setter pinned at that moment (review24), as
  // review21c's cut did; and no lock, which a fork could leave held.
  void follow_setter() {
    const uint32_t e = g_affinity_epoch.load(std::memory_order_acquire);
    if (disabled_ || e == epoch_) return;
    epoch_ = e;
    cpu_set_t now, theirs, both;
    const pid_t from = g_affinity_from.load(std::memory_order_relaxed);
    if (!read(&now) || sched_getaffinity(from, sizeof theirs, &theirs) != 0) return;
    CPU_OR(&both, &now, &theirs);
    if (!CPU_EQUAL(&both, &now)) sched_setaffinity(0, sizeof both, &both);
  }

  int off() const { return off_; }

  // After taking a seat in a job posted from CPU `caller`, before joining it.
  void enter(int caller, pid_t caller_tid) {
    if (disabled_) return;
    follow_setter();
    if (off_ >= 0) {
      // Idle, kept off a CPU: that CPU added back to its mask as it finds it, where the
      // caller's mask has it. Nothing else is added or taken away, so a mask set from outside
      // meanwhile stands: probe21f's `taskset -a` put every thread on the one CPU a helper was
      // kept on, and a first version, restoring a remembered mask, took the other back; a
      // second, cutting the mask to the caller's, kept a helper on the one CPU its caller had
      // been pinned to for a while (review21c: the 96^3 gaussian then at its one-thread time).
      cpu_set_t now, allowed;
      if (!read(&now)) return;
      if (sched_getaffinity(caller_tid, sizeof allowed, &allowed) != 0 &&
          sched_getaffinity(getpid(), sizeof allowed, &allowed) != 0)
        CPU_SET(off_, &allowed);  // the caller and the main thread gone: back as it was
      if (CPU_ISSET(off_, &allowed) && !CPU_ISSET(off_, &now)) {
        CPU_SET(off_, &now);
        sched_setaffinity(0, sizeof now, &now);  // (refused: the CPU is no longer allowed)
      }
      off_ = -1;
    }
    if (caller < 0 || sched_getcpu() != caller) return;
    packs_ = true;
    cpu_set_t others;
    if (!without(caller, &others)) return;
    // Moved off at once (the call migrates its thread), then the whole affinity back (or,
    // refused, kept off until the next seat).
    if (sched_setaffinity(0, sizeof others, &others) == 0 &&
        sched_setaffinity(0, sizeof home_, &home_) != 0)
      off_ = caller;
  }

  // After leaving the job posted from CPU `caller`: kept off it while idle, once the kernel
  // has been seen packing.
  void leave(int caller) {
    if (disabled_ || !packs_ || caller < 0) return;
    cpu_set_t others;
    if (without(caller, &others) && sched_setaffinity(0, sizeof others, &others) == 0)
      off_ = caller;
  }

 private:
  bool read(cpu_set_t* m) {
    disabled_ = disabled_ || sched_getaffinity(0, sizeof *m, m) != 0;  // > CPU_SETSIZE CPUs
    return !disabled_;
  }
  // The current affinity (into home_) without `cpu`, where that leaves one.
  bool without(int cpu, cpu_set_t* others) {
    if (!read(&home_) || !CPU_ISSET(cpu, &home_) || CPU_COUNT(&home_) < 2) return false;
    *others = home_;
    CPU_CLR(cpu, others);
    return true;
  }

  cpu_set_t home_;         // the affinity it has in a job
  int off_ = -1;           // while idle: the CPU left out of home_, if any
  bool packs_ = false;     // it has started a job on its caller's CPU: the kernel packs
  bool disabled_ = false;  // the affinity calls fail here
  uint32_t epoch_ = g_affinity_epoch.load(std::memory_order_relaxed);  // widened as of
};

inline int64_t ns_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
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
    cpu_set_t mask;
    const HelperPlace start = HelperPlace::off_creator(&mask);
    for (int i = 0; i < workers; ++i) {
      threads_.emplace_back([this, word, start] { worker_loop(word, start); });
      if (start.off() >= 0)
        pthread_setaffinity_np(threads_.back().native_handle(), sizeof mask, &mask);
    }
    nworkers_.store(workers, std::memory_order_release);
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Whether some worker is not asleep on the condition variable: it spins (or works, and spins
  // next), so it joins a job without a wake-up (see handoff_pays).
  bool any_awake() const {
    return asleep_.load(std::memory_order_acquire) < nworkers_.load(std::memory_order_acquire);
  }

  // Wakes the sleeping workers without a job: each spins for kWorkerSpinUs again, so that the
  // calls that follow hand off in a microsecond.
  void wake() {
    if (asleep_.load(std::memory_order_acquire) == 0) return;
    {
      std::lock_guard<std::mutex> lk(mu_);
      ++poke_;
    }
    cv_work_.notify_all();
  }
  PoolCounters counters() const {
    return {counters_.threaded.load(std::memory_order_relaxed),
            counters_.losses.load(std::memory_order_relaxed),
            counters_.serial.load(std::memory_order_relaxed)};
  }

  // Runs the job if the pool is free; returns false (nothing run) if another thread holds it.
  bool try_run(int64_t n, int64_t grain, ChunkFn fn, void* ctx, int threads) {
    std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
    if (!run.owns_lock()) return false;
    const int64_t chunks = (n + grain - 1) / grain;
    int helpers = static_cast<int>(std::min<int64_t>({threads - 1, chunks - 1, workers()}));
    if (helpers > 0 && serial_until_ != Clock::time_point{}) {
      // A recent call lost to busy cores: the caller runs the jobs of the serial stretch.
      if (Clock::now() < serial_until_) {
        helpers = 0;
        counters_.serial.fetch_add(1, std::memory_order_relaxed);
      } else {
        serial_until_ = Clock::time_point{};
      }
    }
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    grain_ = grain;
    chunks_ = chunks;
    next_.store(0, std::memory_order_relaxed);
    if (helpers == 0) {
      work();
      return true;
    }
    const Clock::time_point start = Clock::now();
    caller_cpu_.store(sched_getcpu(), std::memory_order_relaxed);  // published with the job
    caller_tid_.store(t_tid ? t_tid : (t_tid = gettid()), std::memory_order_relaxed);
    counters_.threaded.fetch_add(1, std::memory_order_relaxed);
    seats_.store(helpers, std::memory_order_relaxed);
    {
      // The sequence number is published with the seats: a worker that wakes late can never
      // take a seat of one job and then join another.
      std::lock_guard<std::mutex> lk(mu_);
      const uint64_t seq = job_.load(std::memory_order_relaxed) + 1;
      state_.store(seq << kSeqShift, std::memory_order_release);
      job_.store(seq, std::memory_order_release);
    }
    // Wake only as many sleepers as there are seats (spinning workers need no wake-up).
    if (helpers >= workers())
      cv_work_.notify_all();
    else
      for (int i = 0; i < helpers; ++i) cv_work_.notify_one();
    // The caller's chunks are timed by its CPU clock, which is a system call (0.37 us on the
    // Zen 5 VM, two per job: 13% of a 96^3 f32 product on two threads). A job shorter than
    // kLossSlackNs can never be judged a loss, so after one (back-to-back short jobs) the
    // next is timed by the wall clock; should it run long, it is judged on that (a helper that
    // did not get a core still shows; the caller's own wait for a core does not).
    const bool cpu_clock = time_cpu_;
    const int64_t cpu0 = cpu_clock ? thread_cpu_ns() : 0;
    const int64_t own = work();
    const int64_t own_ns = cpu_clock ? thread_cpu_ns() - cpu0 : ns_since(start);
    // No chunk is left to claim. Close the job so that a helper the OS has not scheduled yet
    // stays out, and wait only for the helpers inside it (each finishing its last chunk).
    if ((state_.fetch_or(kClosed, std::memory_order_acq_rel) & kInsideMask) != 0) wait_inside();
    const int64_t total_ns = ns_since(start);
    time_cpu_ = static_cast<double>(total_ns) >= kLossSlackNs / 2;
    judge(own, own_ns, total_ns);
    return true;
  }

 private:
  // Runs unclaimed chunks until none is left; returns how many this thread ran.
  int64_t work() {
    int64_t ran = 0;
    for (;; ++ran) {
      const int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks_) return ran;
      const int64_t b = c * grain_;
      fn_(ctx_, b, std::min(b + grain_, n_));
    }
  }

  // The caller waits for the helpers still inside: a short spin (a helper finishing its last
  // chunk usually takes microseconds), then asleep, so that a helper preempted on the caller's
  // own core gets that core back instead of a spinning caller.
  void wait_inside() {
    const Clock::time_point until = Clock::now() + std::chrono::microseconds(20);
    for (int i = 0;; ++i) {
      if ((state_.load(std::memory_order_acquire) & kInsideMask) == 0) return;
      cpu_relax();
      if ((i & 63) == 63 && !keep_spinning(until)) break;
    }
    std::unique_lock<std::mutex> lk(done_mu_);
    cv_done_.wait(lk, [&] { return (state_.load(std::memory_order_acquire) & kInsideMask) == 0; });
  }

  // A call whose helpers made it slower than the caller alone would have been (the CPU time
  // of the caller's chunks times all chunks) means the helpers did not get cores: the jobs of
  // the next stretch of time run on the caller. The stretch is at least twice the last one
  // (losses in a row) and long enough that this loss is at most kProbeCost of it (a helper
  // preempted inside a chunk by another process can make a call several times slower: a 1.7 ms
  // matmul took 4-6 ms beside a busy process), but no longer than kMaxSerialNs, so cores that
  // are free again are used within ~50 ms. It is time, not a count of calls: a count set by a
  // short job's loss (a 0.1 ms packing or copy step preempted) kept the next 20-250 jobs on one
  // thread however long they were, whole multi-millisecond GEMM and conv passes among them.
  // A win halves the next stretch rather than resetting it: on a machine that is busy on and
  // off, one lucky call does not restart the probing at one call.
  void judge(int64_t own, int64_t own_ns, int64_t total_ns) {
    if (own == 0) return;  // the helpers ran every chunk: no pace to compare with
    const double alone_ns =
        static_cast<double>(own_ns) * static_cast<double>(chunks_) / static_cast<double>(own);
    const double total = static_cast<double>(total_ns);
    if (total > 1.15 * alone_ns + kLossSlackNs) {
      counters_.losses.fetch_add(1, std::memory_order_relaxed);
      const double pay_back = (total - alone_ns) / kProbeCost;
      serial_ns_ = std::min(std::max(2.0 * serial_ns_, pay_back), kMaxSerialNs);
      serial_until_ = Clock::now() + std::chrono::nanoseconds(static_cast<int64_t>(serial_ns_));
    } else {
      serial_ns_ /= 2;
    }
  }

  void worker_loop(uint64_t seen, HelperPlace place) {
    t_in_parallel = true;
    for (;;) {
      const uint64_t word = wait_for_job(seen, place);
      if (word == kStop) return;
      seen = word;
      if (seats_.fetch_sub(1, std::memory_order_acq_rel) > 0) {
        const int caller = caller_cpu_.load(std::memory_order_relaxed);
        place.enter(caller, caller_tid_.load(std::memory_order_relaxed));
        if (join(word)) {
          work();
          leave();
        }
        place.leave(caller);
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

  void leave() {
    const uint64_t before = state_.fetch_sub(1, std::memory_order_acq_rel);
    if ((before & kClosed) && (before & kInsideMask) == 1) {
      // The last one out of a closed job: the caller may be asleep in wait_inside.
      std::lock_guard<std::mutex> lk(done_mu_);
      cv_done_.notify_one();
    }
  }

  // Spins, then sleeps until a new job, a stop, or a wake() (then spins again).
  uint64_t wait_for_job(uint64_t seen, HelperPlace& place) {
    for (;;) {
      place.follow_setter();
      const Clock::time_point spin_until = Clock::now() + std::chrono::microseconds(kWorkerSpinUs);
      for (int i = 0;; ++i) {
        if (stop_.load(std::memory_order_acquire)) return kStop;
        const uint64_t word = job_.load(std::memory_order_acquire);
        if (word != seen) return word;
        cpu_relax();
        if ((i & 63) == 63 && !keep_spinning(spin_until)) break;
      }
      place.follow_setter();  // (a set_num_threads while it spun: its wake() came before)
      // Idle from here: the blocks its chunks freed go to the shared cache, where trim() and
      // other threads reach them (they stayed in this thread's cache, counted as cached).
      memory::flush_thread_cache();
      std::unique_lock<std::mutex> lk(mu_);
      const uint64_t poke = poke_;
      asleep_.fetch_add(1, std::memory_order_acq_rel);
      cv_work_.wait(lk, [&] {
        return stop_.load(std::memory_order_acquire) ||
               job_.load(std::memory_order_acquire) != seen || poke_ != poke;
      });
      asleep_.fetch_sub(1, std::memory_order_acq_rel);
      if (stop_.load(std::memory_order_acquire)) return kStop;
      const uint64_t word = job_.load(std::memory_order_acquire);
      if (word != seen) return word;
    }
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
  // How long an idle worker spins (yielding) before it sleeps. The calls of a network's forward
  // are 40-100 us of Python and planning apart (ResNet eval, 11 jobs a forward); a worker asleep
  // by then joined each job 27-60 us late (the wake-up of a VM's idle vCPU), a quarter of a
  // 200 us job, and its chunks finished that much after the caller's. Spinning through the
  // gap, it joined in 0.1-0.6 us. It yields every few microseconds, so a thread that wants its
  // core gets it; an idle process still sleeps within 0.3 ms.
  static constexpr int kWorkerSpinUs = 300;
  static constexpr double kMaxSerialNs = 50e6;
  static constexpr double kProbeCost = 0.15;
  // A helper woken from sleep joins 20-45 us late on this project's VMs and runs its first
  // chunk slowly on a core that was idle: a short job (a padding copy of 2 x 25 us) then takes
  // up to 70 us against 54 us alone. That is wake-up cost, not a busy core, and with a few
  // microseconds of slack it was judged a loss: the stretch then kept the call's long job
  // (a 1.5 ms convolution) on one thread, the helper fell asleep again, and the next call's
  // short job lost again, so a quiet 2-core machine stayed serial indefinitely. A helper
  // preempted inside a chunk costs milliseconds (a scheduler slice), far above this slack.
  static constexpr double kLossSlackNs = 50e3;

  std::mutex run_mu_;  // one job at a time
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_work_;
  std::atomic<uint64_t> job_{0};  // the job's sequence number
  std::atomic<bool> stop_{false};
  std::atomic<int> seats_{0};                 // helpers the job still takes
  std::atomic<int> nworkers_{0}, asleep_{0};  // workers, and those asleep in wait_for_job
  uint64_t poke_ = 0;                         // wake()s so far; guarded by mu_
  std::mutex done_mu_;
  std::condition_variable cv_done_;
  // The serial stretch (see judge()): its length and its end, and the clock of the next job;
  // guarded by run_mu_.
  double serial_ns_ = 0;
  bool time_cpu_ = true;  // time the caller's chunks by its CPU clock (see try_run)
  Clock::time_point serial_until_{};
  struct {
    std::atomic<int64_t> threaded{0}, losses{0}, serial{0};
  } counters_;  // pool_counters()

  std::atomic<int> caller_cpu_{-1};   // the CPU the current job's caller posted it from
  std::atomic<pid_t> caller_tid_{0};  // and its thread
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
    while (*end == ' ' || *end == '\t' || *end == '\n') ++end;  // "4 " as " 4" (probe22d)
    if (end != env && *end == '\0' && v >= 1 && v <= kMaxThreads) return static_cast<int>(v);
    // Said, as the pool's variables are (probe19e: 0, 1025 or "abc" took the cores silently).
    std::fprintf(stderr,
                 "npfast: ignoring NPFAST_NUM_THREADS=%s (expected an integer from 1 to %d)\n", env,
                 kMaxThreads);
  }
  return usable_cores();
}

std::atomic<int> g_threads{0};  // 0: not yet read from the environment
std::mutex g_pool_mu;
// Written under g_pool_mu; read without it where a call only asks (helper_awake), so that a
// fork while another thread holds the mutex cannot leave that read waiting in the child.
std::atomic<Pool*> g_pool{nullptr};  // leaked at exit on purpose: joining threads in static
                                     // destructors races with interpreter shutdown

Pool& pool_for(int threads) {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  Pool* pool = g_pool.load(std::memory_order_relaxed);
  if (!pool) {
    static bool registered = [] {
      // A forked child has none of the parent's threads: start afresh (the old pool object
      // is abandoned, its threads do not exist here), and its one thread has a new id.
      pthread_atfork(nullptr, nullptr, [] {
        g_pool.store(nullptr, std::memory_order_relaxed);
        t_tid = 0;
      });
      return true;
    }();
    (void)registered;
    pool = new Pool(threads - 1);
    g_pool.store(pool, std::memory_order_release);
  } else if (pool->workers() < threads - 1) {
    pool->resize(threads - 1);
  }
  return *pool;
}

}  // namespace

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
// Threads a call may run on at most: the usable cores (read on first use and again at each
// set_num_threads, so a changed affinity is seen), or a test's override.
std::atomic<int> g_cores{0}, g_cap_override{0};

int core_cap() {
  if (const int o = g_cap_override.load(std::memory_order_relaxed)) return o;
  int c = g_cores.load(std::memory_order_relaxed);
  if (c == 0) {
    c = usable_cores();
    g_cores.store(c, std::memory_order_relaxed);
  }
  return c;
}
}  // namespace

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
  g_cores.store(usable_cores(), std::memory_order_relaxed);
  g_affinity_from.store(t_tid ? t_tid : (t_tid = gettid()), std::memory_order_relaxed);
  g_affinity_epoch.fetch_add(1, std::memory_order_release);
  if (Pool* pool = g_pool.load(std::memory_order_acquire)) pool->wake();  // (follow_setter)
}

int available_threads() { return std::max(1, std::min(get_num_threads(), core_cap())); }

void set_core_cap_for_testing(int cap) {
  g_cap_override.store(std::clamp(cap, 0, kMaxThreads), std::memory_order_relaxed);
}

void parallel_for(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = available_threads();
  if (threads > 1 && grain < n && !t_in_parallel) {
    Pool& pool = pool_for(threads);
    t_in_parallel = true;
    const bool ran = pool.try_run(n, grain, fn, ctx, threads);
    t_in_parallel = false;
    if (ran) return;
  }
  for (int64_t b = 0; b < n; b += grain) fn(ctx, b, std::min(b + grain, n));
}

PoolCounters pool_counters() {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  const Pool* pool = g_pool.load(std::memory_order_acquire);
  return pool ? pool->counters() : PoolCounters{};
}

bool in_parallel_for() { return t_in_parallel; }

// This thread's current burst of short work kept on the caller (handoff_pays): when the last
// was, and how many; a gap of kBurstNs (a helper's spin) ends a burst.
thread_local int64_t t_last_short_ns = 0;
thread_local int t_shorts = 0;
constexpr int64_t kBurstNs = 300000;

bool helper_awake() {
  if (g_cap_override.load(std::memory_order_relaxed) != 0) return true;
  const Pool* pool = g_pool.load(std::memory_order_acquire);  // any_awake reads atomics only
  return pool != nullptr && pool->any_awake();
}

bool handoff_pays(double total_ns) {
  if (total_ns >= kWakeWorthNs || t_in_parallel || helper_awake()) return true;
  // Short work and no helper awake: this call runs on the caller. The wake-up itself costs the
  // caller about 10 us on this project's VMs (the system call that wakes an idle vCPU), as
  // much as a 350^2 3x3 correlate saves on two threads, so a lone short call wakes nobody. The
  // third short request of a burst wakes the helpers, and the calls after it hand off to them
  // (the third, not the second: one call may ask twice, a padding step and its main items).
  const int64_t now = now_ns();
  t_shorts = now - t_last_short_ns < kBurstNs ? t_shorts + 1 : 1;
  t_last_short_ns = now;
  const int threads = available_threads();
  if (threads > 1 && t_shorts >= 3) pool_for(threads).wake();
  return false;
}

int threads_for(double total_ns, int available, double pair_ns) {
  if (available <= 1 || total_ns < pair_ns || !handoff_pays(total_ns)) return 1;
  return std::max(2, static_cast<int>(std::min<double>(available, total_ns / kMinChunkNs)));
}

int64_t grain_for(int64_t n, double cost_per_item_ns, int per_thread) {
  const int threads = available_threads();
  const double total = static_cast<double>(n) * cost_per_item_ns;
  if (threads == 1 || total < 2 * kMinChunkNs || !handoff_pays(total))
    return std::max<int64_t>(n, 1);
  // Aim for per_thread chunks per thread for balance, but no chunk under kMinChunkNs: the
  // chunk count, and with it the threads that get work, is min(threads, total / kMinChunkNs).
  int64_t chunks = std::min<int64_t>(int64_t{threads} * std::max(per_thread, 1),
                                     static_cast<int64_t>(total / kMinChunkNs));
  // A whole number of chunks per thread: 3 equal chunks on 2 threads take two chunks' time,
  // where 2 larger ones take one and a half (a 256^2 float64 median 3 on 2 threads: 1.39x its
  // one-thread speed in 3 chunks, 1.8x in 2; docs/ndimage-speed.md "net16").
  if (chunks > threads) chunks = chunks / threads * threads;
  chunks = std::max<int64_t>(chunks, 2);
  return std::max<int64_t>(1, (n + chunks - 1) / chunks);
}

}  // namespace npfast
