// Elementwise kernels: uint8 -> float32 conversion of 256 Ki elements, in cache (GB/s read
// plus written), a 2000-element uint8 line to double and back (the ndimage line buffers), the
// float32 absmax of 200 Ki elements (a 64-channel 56^2 image, 800 KB in L2: GB/s read), the float32
// finite check of 16 rows of 500, and the streaming zero fill of 4 MiB.
#include <vector>

#include "src/kernels/elementwise/elementwise.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace elementwise {
namespace {

constexpr int64_t kN = 256 * 1024;

void convert(benchmark::State& state, const Table& t) {
  const ConvertFn fn = convert_kernel(t, DType::u8, DType::f32);
  std::vector<uint8_t> x(kN, 7);
  std::vector<float> y(kN);
  for (auto _ : state) {
    fn(kN, x.data(), y.data(), 0.5, 1.0);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "bytes", kN * (1.0 + sizeof(float)));
}

// The ndimage filters' line buffers: a 2000-element uint8 row to double and back (the trunc
// kernel, SciPy's cast), in L1 (GB/s read plus written).
void line_to_f64(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 2000;
  const ConvertFn fn = convert_kernel(t, DType::u8, DType::f64);
  std::vector<uint8_t> x(n, 7);
  std::vector<double> y(n);
  for (auto _ : state) {
    fn(n, x.data(), y.data(), 1.0, 0.0);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "bytes", n * (1.0 + sizeof(double)));
}

void line_trunc(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 2000;
  const TruncFn fn = trunc_kernel(t, DType::u8);
  std::vector<double> x(n, 7.5);
  std::vector<uint8_t> y(n);
  for (auto _ : state) {
    fn(n, x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "bytes", n * (1.0 + sizeof(double)));
}

void absmax(benchmark::State& state, const Table& t) {
  constexpr int64_t n = 64 * 56 * 56;
  std::vector<float> x(n, 0.25f);
  for (auto _ : state) benchmark::DoNotOptimize(t.f32_absmax(n, x.data()));
  set_rate(state, "bytes", n * double(sizeof(float)));
}

// The corr2d operator's check: 16 rows of 500 floats (a group of a 500-wide image) a call.
void finite(benchmark::State& state, const Table& t) {
  constexpr int64_t rows = 16, n = 500;
  std::vector<float> x(rows * n, 0.25f);
  const float* ptr[rows];
  for (int64_t r = 0; r < rows; ++r) ptr[r] = x.data() + r * n;
  for (auto _ : state) benchmark::DoNotOptimize(t.f32_finite(rows, n, ptr));
  set_rate(state, "bytes", rows * n * double(sizeof(float)));
}

void zero(benchmark::State& state, const Table& t) {
  std::vector<char> buf(4 << 20);
  for (auto _ : state) {
    t.x8_zero_stream(buf.size(), buf.data());
    benchmark::DoNotOptimize(buf.data());
  }
  set_rate(state, "bytes", static_cast<double>(buf.size()));
}

// The convert field is a table by dtype pair (elementwise.h): the entry's name spells the pair.
const bool kConvert = register_per_isa<Table>("u8_f32_convert", "256Ki", convert);
const bool kLineF64 = register_per_isa<Table>("u8_f64_convert", "2000", line_to_f64);
const bool kLineTrunc = register_per_isa<Table>("f64_u8_trunc", "2000", line_trunc);
const bool kAbsMax =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_absmax), "200Ki", absmax);
const bool kFinite =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_finite), "16x500", finite);
const bool kZero = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, x8_zero_stream), "4MiB", zero);

}  // namespace
}  // namespace elementwise
}  // namespace npfast
