// Conv kernels: the direct kernel on a 3-channel 3x3 stride-1 layer (an image stem) producing
// one call's output channels over a 32 x 64 output plane (GFLOP/s); its channels-last form
// producing 16 channels of the same plane.
#include <vector>

#include "src/kernels/conv/conv.h"
#include "tests/cpp/bench.h"

namespace npfast {
namespace conv {
namespace {

void direct_impl(benchmark::State& state, DirectFn<float> kernel, int64_t ob, bool nhwc) {
  DirectArgs<float> a{};
  a.c = 3, a.kh = a.kw = 3, a.sh = a.sw = a.dh = a.dw = 1;
  a.ow = 64, a.oy0 = 0, a.oy1 = 32, a.ob = ob;
  a.ys = nhwc ? ob : 32 * 64;
  a.hp = 32 + 2;
  a.wq = a.ow + 2 + kColumnSlack;
  std::vector<float> x(a.c * a.hp * a.wq, 0.5f), w(a.c * 9 * a.ob, 0.25f), y(a.ob * 32 * 64);
  std::vector<int64_t> taps(a.c * 9);
  direct_taps(a, taps.data());
  a.x = x.data(), a.w = w.data(), a.y = y.data(), a.taps = taps.data();
  for (auto _ : state) {
    kernel(a);
    benchmark::DoNotOptimize(y.data());
  }
  set_rate(state, "FLOP", 2.0 * a.ob * 32 * 64 * a.c * 9);
}

void direct(benchmark::State& state, const Table& t) {
  direct_impl(state, t.f32_conv_direct, t.direct_ob, false);
}

void direct_nhwc(benchmark::State& state, const Table& t) {
  direct_impl(state, t.f32_conv_direct_nhwc, 16, true);
}

const bool kDirect =
    register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_conv_direct), "c3_3x3_32x64", direct);
const bool kDirectNhwc = register_per_isa<Table>(NPFAST_KERNEL_BASE(Table, f32_conv_direct_nhwc),
                                                 "c3_3x3_32x64_o16", direct_nhwc);

}  // namespace
}  // namespace conv
}  // namespace npfast
