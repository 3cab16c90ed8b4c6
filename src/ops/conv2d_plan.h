// conv2d planning: the problem's geometry, the algorithm the planner chooses for it (cached),
// and one plan type per algorithm holding only what that algorithm needs (work split,
// workspace layout). The algorithms themselves are in conv2d*.cc; the data movement they
// share (padding, im2col, channels-last rows) in conv2d_layout.h.
#pragma once

#include <cstdint>

#include "npfast/conv.hpp"
#include "npfast/error.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace conv_ops {

// Single-thread throughput the conv cost models assume (ns per flop): a direct kernel or GEMM
// at a few tens of GFLOP/s. Only decides how work is split, never what is computed.
constexpr double kNsPerFlop = 0.03;
// Work items of the implicit-GEMM passes (conv2d_implicit.cc, conv_transpose2d_phase.cc): at
// least this many flops (~100 us, enough to hide the hand-off) and this many output pixels (so
// each slice of a weight panel, pulled from L2 or L3, is reused by that many tiles), small
// enough that two threads split a 56^2 layer evenly.
constexpr double kImplicitItemFlops = 4.0e6;
constexpr int64_t kImplicitItemPixels = 96;
// Whether `units` equal work units (images, or an image's row phases) split over
// available_threads() within 1/8 of an even share, and a unit's copy (`copy_bytes`, one
// buffer per thread) is at most kUnitCopyBytes: then the implicit-GEMM passes
// (conv2d_implicit.cc, conv_transpose2d_phase.cc) give each thread whole units, each copied
// into the thread's own buffer (in its own L2), rather than sharing every image's copy and
// items among the threads. Only decides who computes what, never the bits.
constexpr int64_t kUnitCopyBytes = int64_t{8} << 20;
bool even_split(int64_t units, int64_t copy_bytes);
// Parts to cut each of `images` images' `rows` output rows into, so that units (image, part)
// split over available_threads() with the slowest thread's share least: ceil(images * parts /
// threads) parts of ceil(rows / parts) rows, each costing row_ns a row plus copy_row_ns for
// each padded row it copies (its rows * stride plus the taps' halo, `reach` padded rows for
// one output row). The fewest parts within 2% of the least; parts of at least
// kImplicitItemFlops (`row_flops` a row) and kImplicitItemPixels (`row_px` a row), as a work
// item: each part streams the weight panels again (forced to 1-row parts, N=3 at 57^2 on one
// thread took 2.79 ms against 2.13 ms for whole images). 1 on one thread. Only decides who
// computes what.
int64_t row_split(int64_t images, int64_t rows, int64_t stride, int64_t reach, double row_ns,
                  double copy_row_ns, double row_flops, int64_t row_px);

// Tapered chunks of `items` work items for a parallel_for of one chunk a call: chunks of
// `grain` items while plenty are left, then ever smaller, down to one item, so that the threads
// finish within about one item of each other. With equal chunks the last one's wait is up to
// a chunk (the AVX2 stem on two threads: chunks of 4 items, ~70 us), and a caller waiting
// over 20 us is put to sleep by the pool and woken 20-45 us late (docs/threads.md). Fills
// start[0..chunks] (start[c] the first item of chunk c; `start` holds items + 1 entries) and
// returns the chunk count; one chunk of all items where grain >= items. Only decides who
// computes what.
int64_t tapered_chunks(int64_t items, int64_t grain, int64_t* start);

enum class Algo : int {
  depthwise = 0,
  direct = 1,
  gemm_1x1 = 2,
  im2col_gemm = 3,
  shifted_gemm = 4,
  implicit_gemm = 5,
  winograd = 6
};
const char* algo_name(Algo a);

// A convolution problem: (N, C, H, W) input, (O, C/groups, kH, kW) weight.
struct Problem {
  int64_t n, c, h, w, o, kh, kw;
  Conv2dParams p;
  DType dtype;
};

// What every algorithm shares: the problem's sizes and the output's.
struct Geometry {
  int64_t n, c, h, w, o, kh, kw, groups, cg, og, oh, ow;
  Conv2dParams p;
  DType dtype;
  int64_t P;  // output pixels per channel, oh * ow
  int64_t K;  // GEMM depth, cg * kh * kw
};

// Whether an algorithm reads NHWC input and writes NHWC output itself (Layout::nhwc); the
// others run on NCHW copies of the operands.
bool native_nhwc(Algo a);

// A problem's geometry (no algorithm, no plan cache: for sub-problems an algorithm is run on
// directly, as the dilated Winograd's phase images).
Geometry geometry_of(const Problem& pr);

// The planner's choice for a problem: its geometry and algorithm.
struct Plan : Geometry {
  Algo algo;
};

// The geometry and algorithm for a problem, from a small thread-safe LRU cache keyed by the
// problem and the active ISA. Assumes the problem passed conv2d_shape. The algorithm's own plan
// (plan_direct, ...) is made from it per call: a few dozen integer operations.
Plan get_plan(const Problem& pr);

// Bound on the padded-input workspaces (bytes; default 32 MiB), read by the algorithm plans
// (batch_images) when they are made, at every call. For tests, which use a tiny bound to
// exercise batching. Returns the previous bound.
int64_t set_workspace_limit(int64_t bytes);
// The bound now (forward_winograd_dilated's batches of phase copies read it too).
int64_t workspace_limit();

// Direct and depthwise kernels (conv2d.cc) over the padded, phase-split input of conv.h.
struct DirectPlan : Geometry {
  bool depthwise;               // one input and one output channel per group
  int64_t hp, wq, xrow, plane;  // padded rows, columns per phase, row and plane elements
  int64_t ocb;                  // output channels per kernel call (1, 4 or the ISA's tile)
  int64_t nob;                  // output-channel blocks per group
  int64_t rows_per_item, row_items;
  double item_ns;        // estimated cost of one work item, for grain_for
  int64_t batch_images;  // images per padded batch (bounded in bytes)
};
DirectPlan plan_direct(const Geometry& g);

// GEMM on im2col column blocks, or on the input itself for 1x1 (conv2d.cc); also the
// backward's grad_weight and col2im grad_input.
struct GemmPlan : Geometry {
  bool pointwise;       // 1x1, stride 1, unpadded: the input is the GEMM operand
  int64_t nb, nblocks;  // output pixels per column block, blocks per image
  // grad_weight: fixed partial sums per group, units (image, block) per partial
  int64_t wslots, units_per_slot;
};
GemmPlan plan_gemm(const Geometry& g);

// The output computed over wide rows of wpad = ow + reach columns (those >= ow discarded), so
// that each tap's operand is the padded input shifted by a constant: hq x wpad padded pixels
// per channel (per stride phase).
struct WideRows : Geometry {
  int64_t wpad, hq;
};

// Shifted GEMM (conv2d_shifted.cc): per channel, stride_h*stride_w phase planes of hq x wpad,
// or, for stride 1, `expand` = kw shifted copies of the padded plane (one GEMM per kernel row
// with depth cg*kw); `lcopy` elements per copy; column blocks of snb pixels.
struct ShiftedPlan : WideRows {
  int64_t lcopy, expand, sK, sP, snb, snblocks;
  int64_t swslots, sunits_per_slot;  // grad_weight partials
  int64_t batch_images;
};
ShiftedPlan plan_shifted(const Geometry& g);

// Implicit GEMM over padded channels-last phase planes (conv2d_implicit.cc). Along an axis
// with stride 1 and dilation d the output splits into f = d phases (output rows a, a+d, ...),
// each an undilated convolution of the input phase it reads; along a strided axis f = 1 and
// the rows are split into stride_h row-phase planes of wrow = stride_w * wpad pixels, so
// output pixel p of a phase reads pixel stride_w * p + (a tap's constant). wpad and hq are the
// wide row and the rows of one phase's problem (oh2 x ow2 outputs, dilation edh x edw inside).
struct ImplicitPlan : WideRows {
  int64_t fh, fw;    // output phases per axis
  int64_t oh2, ow2;  // output rows and columns of one phase
  int64_t edh, edw;  // dilation within a phase
  int64_t wrow;      // pixels per row of a plane
  int64_t plane_px;  // pixels per plane, slack included
  int64_t image_px;  // pixels per image: fh * fw * stride_h planes
  int64_t batch_images;
  int64_t wslots;  // grad_weight partials: a fixed split of the images (weight_slots)
};
ImplicitPlan plan_implicit(const Geometry& g);

// Winograd F(2x2, 3x3) (conv2d_winograd.cc).
struct WinogradPlan : Geometry {
  int64_t batch_images;
};
WinogradPlan plan_winograd(const Geometry& g);

// y = act(conv(x, w) + bias + res) with all arrays C-contiguous; bias and res may be null (res:
// y's shape and layout). Runs the algorithm the plan chose.
template <class T>
void forward(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y,
             const T* res = nullptr);

template <class T>
void forward_shifted(const ShiftedPlan& pl, const T* x, const T* w, const T* bias, bool relu, T* y);
template <class T>
void forward_implicit(const ImplicitPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                      T* y);
// Winograd's value range. The transforms add and subtract operands the direct sum only
// multiplies: an inf and a -inf term (or inf - inf in a transform) give NaN where the direct
// sum keeps the inf, a NaN spreads over a whole tile, and sums of values near the dtype's
// largest overflow where the direct sum stays finite. So the Winograd paths run only where
// every operand is finite and small enough that no transformed value, product, sum or output
// can overflow (then neither can the direct sum, whose bound is smaller); elsewhere the
// direct algorithm, which gives PyTorch's infs and NaNs. A transform's gain is the largest
// absolute row sum of its matrix, squared for two dimensions: |V| <= in * max|x|,
// |U| <= weight * max|w|, |y| <= out * max|M| with |M| <= depth * max|V| * max|U|.
// weight_peak bounds the weight transform's intermediates, which can exceed its result: G's
// rows (1/2 1/2 1/2) are computed as 0.5 * (g0 + g1 + g2), whose sum before the halving reaches
// 3 max|w| in the first pass and 4.5 max|w| in the second.
struct WinogradGains {
  double in, weight, weight_peak, out;
};
// F(2x2, 3x3): B^T rows (1 0 -1 0), (0 1 1 0), ... sum 2; G rows (1/2 1/2 1/2) 3/2 (summed
// before the halving: 3, so 4.5 in two passes); A^T rows (1 1 1 0) 3.
constexpr WinogradGains kWinogradF23{4.0, 2.25, 4.5, 9.0};
// F(2x2, 2x2) (conv_transpose2d_winograd.cc): B^T, G and A^T rows sum 2 (no halving).
constexpr WinogradGains kWinogradF22{4.0, 4.0, 4.0, 4.0};
// The largest |w| a Winograd layer of GEMM depth `depth` (the channels summed) takes when
// max|x| = xmax: the bounds above times a slack for rounding, exp((depth + 16) * eps), within
// the dtype's largest value (so an infinite or NaN weight always fails `|w| <= limit`).
// Negative where xmax itself is out of range (NaN, inf, or its transform could overflow):
// every weight fails.
double winograd_weight_limit(const WinogradGains& g, int64_t depth, double xmax, DType dtype);
// Largest |x[i]| of n contiguous elements, a NaN if one is NaN (the elementwise absmax kernel
// on blocks in parallel; exact, so the same for any thread count).
template <class T>
T max_abs(const T* x, int64_t n);
// Whether a Winograd layer of GEMM depth `depth` takes input x (nx elements) and weights w
// (nw): winograd_weight_limit of max_abs(x), against max_abs(w). For the layers whose weights
// are not transformed in a pass of their own (forward_winograd checks them as it transforms).
template <class T>
bool winograd_operands_fit(const WinogradGains& g, int64_t depth, const T* x, int64_t nx,
                           const T* w, int64_t nw);

// Returns false, having written nothing, when the operands are out of Winograd's range (a
// weight fails winograd_weight_limit of max|x|, checked as the weights are transformed): the
// caller runs another algorithm. xmax: max|x| where the caller knows it (max_abs), else
// negative: then found from the channels-last copy where it covers the batch, else by a pass.
template <class T>
bool forward_winograd(const WinogradPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                      T* y, const T* res = nullptr, double xmax = -1.0);
// Dilation 2, padding 2, NCHW, even sizes (winograd_dilated_fits, with the channel counts of
// Winograd): output phase (a, b) (rows a + 2i, columns b + 2j) is the undilated 3x3
// convolution, padding 1, of input phase (a, b), so forward_winograd runs on the four phase
// images (conv2d_dilated.cc), 2.25x fewer multiply-adds than the implicit GEMM's phases.
// Returns false, having written nothing, as forward_winograd.
bool winograd_dilated_fits(const Geometry& g);
template <class T>
bool forward_winograd_dilated(const Plan& pl, const T* x, const T* w, const T* bias, bool relu,
                              T* y, const T* res = nullptr);

// grad_weight of the shifted path: gW = sum over (image, block) of gY_wide * shifted_x^T, with
// the same fixed-order partial sums as the im2col path.
template <class T>
void grad_weight_shifted(const ShiftedPlan& pl, const T* x, const T* gy, T* gw);
// grad_weight on the implicit GEMM's channels-last copy (conv2d_implicit.cc), where
// implicit_grad_weight_fits: one group, no dilation, a batch that splits into at least 4 fixed
// slots; x and gy in pl.p.layout (NCHW or NHWC).
template <class T>
void grad_weight_implicit(const ImplicitPlan& pl, const T* x, const T* gy, T* gw);
bool implicit_grad_weight_fits(const ImplicitPlan& pl);

// "(a, b)": the pairs (stride, padding, dilation, kernel) the convolutions' messages name.
std::string pair_str(int64_t a, int64_t b);

// Runs f, a convolution's work; a MemoryError from its workspace, which follows the padded input,
// is rethrown naming what sized it (the allocator's "the OS refused N bytes" names nothing;
// probe18c: dilation and padding 10**6 on an 8x8 image asked for 66 TB).
std::string workspace_message(const char* what, const char* op, const View& input,
                              const Conv2dParams& p);
template <class F>
void naming_workspace(const char* op, const View& input, const Conv2dParams& p, F&& f) {
  try {
    f();
  } catch (const MemoryError& e) {
    throw MemoryError(workspace_message(e.what(), op, input, p));
  }
}

}  // namespace conv_ops
}  // namespace npfast
