// The persistent thread pool and its parallel loop.
//
// One pool per process, created on first use and kept; workers sleep when idle. The number of
// threads follows set_num_threads() (Python: npfast.set_num_threads, threadpoolctl), which
// defaults to the usable cores (sched_getaffinity) or the environment variable
// NPFAST_NUM_THREADS.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace npfast {

constexpr int kMaxThreads = 1024;

int get_num_threads();
// Throws ValueError unless 1 <= n <= kMaxThreads.
void set_num_threads(int n);
// Usable cores of this process (sched_getaffinity), at least 1.
int usable_cores();
// Threads one call may run on: get_num_threads() capped at the usable cores, since a thread
// beyond the cores only waits for one (and spins against the others). Cost models that pick a
// thread count (GEMM, grain_for) start from this.
int available_threads();
// Tests only: lets calls run on up to `cap` threads whatever the cores (0: the usable cores
// again), so that the pool can be stressed with more threads than cores.
void set_core_cap_for_testing(int cap);

// The least work, in ns, worth handing to another thread: a hand-off costs about a
// microsecond to a spinning worker and up to tens of microseconds to a sleeping one.
constexpr double kMinChunkNs = 20000.0;
// Work from which two threads pay where it is split into chunks that threads claim as they
// arrive (parallel_for, GEMM's items): the caller never waits for a helper that has not
// started, so a second thread costs its hand-off (about a microsecond to a spinning worker)
// rather than kMinChunkNs. GEMM's and gemv's pair rule (threads_for's pair_ns).
constexpr double kPairNs = 5000.0;

// Work below which a hand-off pays only while a helper is awake (handoff_pays). A helper asleep
// on its condition variable (idle over 300 us) joins 20-45 us late on this project's VMs (the
// wake-up of an idle vCPU) and runs its first chunk on a cold core: correlate2d 350^2 3x3
// float32 (23 us on one thread) took 35 us on two after a 1 ms pause, 12 us when the helper
// was still spinning; 500^2 (49 us) broke even, 700^2 (85 us) gained (68 us). Two
// kMinChunkNs plus two wake-ups.
constexpr double kWakeWorthNs = 2 * kMinChunkNs + 60000.0;
// Whether a helper would join a job now without a wake-up: one is not asleep on the pool's
// condition variable (it spins, or works and spins next). True while a test overrides the core cap
// (set_core_cap_for_testing), so that the partitions tests check do not depend on timing.
bool helper_awake();
// Whether handing `total_ns` of work to helpers pays now: always from kWakeWorthNs, below it
// only while a helper is awake. When it does not, the third such request of this thread's
// burst (gaps under 300 us) wakes the helpers (they spin again for 300 us), so that a loop of
// short calls runs threaded from its fourth call; a lone short call wakes nobody (the wake-up
// costs the caller about 10 us, as much as two threads save it). grain_for,
// threads_for and GEMM's pair rule ask it; results never depend on it (a serial run computes
// the same chunks, or one chunk where each output is written once).
bool handoff_pays(double total_ns);
// What the pool's back-off did since the process started (docs/threads.md, "Losing calls back
// off"): jobs handed to helpers, how many of those were judged losses, and jobs that had helpers
// to use but ran on the caller alone because of a recent loss. For benchmarks that need to tell
// a slow call from one the back-off kept serial.
struct PoolCounters {
  int64_t threaded = 0, losses = 0, serial = 0;
};
PoolCounters pool_counters();

using ChunkFn = void (*)(void* ctx, int64_t begin, int64_t end);

// Equals the serial loop
//     for (int64_t b = 0; b < n; b += grain) fn(ctx, b, min(b + grain, n));
// with the chunks run by up to available_threads() threads (the caller is one of them, and
// runs every chunk no other thread has claimed, so it never waits for a thread that has not
// started). The
// partition depends only on n and grain, never on the thread count, so a kernel that writes
// each output once from one chunk gives bitwise identical results with 1 or N threads.
// Runs serially on the caller when there is one chunk, one thread, when called from inside a
// parallel_for, or while another caller thread is using the pool. `fn` must not throw.
void parallel_for(int64_t n, int64_t grain, ChunkFn fn, void* ctx);

template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  using Fn = std::remove_reference_t<F>;
  parallel_for(
      n, grain, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Fn*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Grain for n items costing about `cost_per_item` ns each: the per-call cost model. No chunk
// costs under kMinChunkNs, so a call of total work W runs on min(available_threads(),
// W / kMinChunkNs) threads, and there are enough chunks to balance; returns n (a single chunk,
// run serially on the caller) when the whole job is too small to be worth a hand-off. The grain
// depends on the thread count: use it only where each output is written by one chunk (then results
// do not depend on the partition); a reduction across chunks needs a fixed grain. `per_thread` is
// the chunk count aimed at per thread: more where items need no per-chunk setup, so that the last
// chunk, which one thread finishes while the others wait, is short.
int64_t grain_for(int64_t n, double cost_per_item_ns, int per_thread = 4);

// Threads worth waking for `total_ns` of work that the caller splits itself (GEMM's blocks,
// conv2d's bands): grain_for's rule counted in threads. One below `pair_ns` (two kMinChunkNs: a
// hand-off would cost more than it saves; less where work is claimed item by item, GEMM's
// pair rule) or while handoff_pays says no, else one per kMinChunkNs, at least two, at most
// `available`.
int threads_for(double total_ns, int available = available_threads(),
                double pair_ns = 2 * kMinChunkNs);

// True inside a parallel_for's chunk (a pool worker, or the caller running a threaded job):
// a parallel_for there runs serially on this thread, so a cost model splitting work for
// threads should plan for one.
bool in_parallel_for();

}  // namespace npfast
