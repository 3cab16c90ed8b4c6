// Machine-limit measurements (see npfast/limits.hpp).
#include "npfast/limits.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/limits/limits.h"

namespace npfast {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The active ISA's FMA probe for dtype.
limits::FmaLoopFn fma_probe(DType dtype) {
  if (dtype != DType::f32 && dtype != DType::f64)
    throw TypeError(std::string("dtype: must be float32 or float64, got ") + dtype_name(dtype));
  const limits::Table& probes = kernels<limits::Table>();
  return dtype == DType::f32 ? probes.f32_fma_loop : probes.f64_fma_loop;
}

}  // namespace

double measure_peak_flops(DType dtype, double seconds) {
  const limits::FmaLoopFn fn = fma_probe(dtype);
  const int threads = get_num_threads();
  // Calibrate iterations on one thread, then run every thread for about `seconds`.
  double sink = 0;
  int64_t iters = 1 << 16;
  for (;;) {
    const auto t0 = Clock::now();
    fn(iters, &sink);
    const double t = seconds_since(t0);
    if (t > 0.01 || iters > (int64_t{1} << 40)) {
      iters = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iters) * seconds / t));
      break;
    }
    iters *= 4;
  }
  std::atomic<int64_t> flops{0};
  std::vector<double> sinks(static_cast<size_t>(threads));
  const auto t0 = Clock::now();
  parallel_for(threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) flops += fn(iters, &sinks[static_cast<size_t>(i)]);
  });
  return static_cast<double>(flops.load()) / seconds_since(t0);
}

double measure_read_bandwidth(int64_t bytes, int repeats) {
  const int64_t n = std::max<int64_t>(bytes / 8, 1024);
  Buffer<double> buf(static_cast<size_t>(n));
  const limits::Table& probes = kernels<limits::Table>();
  probes.f64_write_stream(buf.get(), n, 1.0);
  const int64_t chunks = get_num_threads() * 8;
  const int64_t grain = (n + chunks - 1) / chunks;
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    std::vector<double> sums(static_cast<size_t>(chunks));
    const auto t0 = Clock::now();
    parallel_for(n, grain, [&](int64_t b, int64_t e) {
      sums[static_cast<size_t>(b / grain)] = probes.f64_read_stream(buf.get() + b, e - b);
    });
    best = std::max(best, static_cast<double>(n) * 8 / seconds_since(t0));
  }
  return best;
}

double measure_write_bandwidth(int64_t bytes, int repeats) {
  const int64_t n = std::max<int64_t>(bytes / 8, 1024);
  Buffer<double> buf(static_cast<size_t>(n));
  const limits::Table& probes = kernels<limits::Table>();
  probes.f64_write_stream(buf.get(), n, 0.0);  // warm: fault the pages in first
  const int64_t chunks = get_num_threads() * 8;
  const int64_t grain = ((n + chunks - 1) / chunks + 7) & ~int64_t{7};  // 64-byte chunks
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    parallel_for(n, grain,
                 [&](int64_t b, int64_t e) { probes.f64_write_stream(buf.get() + b, e - b, 2.0); });
    best = std::max(best, static_cast<double>(n) * 8 / seconds_since(t0));
  }
  return best;
}

double measure_first_touch_bandwidth(int64_t bytes) {
  const size_t len = static_cast<size_t>(std::max<int64_t>(bytes, 1 << 20));
  const auto t0 = Clock::now();
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw MemoryError("bytes: cannot map " + std::to_string(len) + " bytes");
  // One thread, as a fresh array is usually first written by one: faults serialize anyway.
  std::memset(p, 1, len);
  const double t = seconds_since(t0);
  munmap(p, len);
  return static_cast<double>(len) / t;
}

}  // namespace npfast
