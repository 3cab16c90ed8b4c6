// The 4x4 stride-2 transposed convolution by Winograd F(2x2, 2x2) on phases: see
// conv_transpose2d_winograd.h.
//
// Along one axis (padding p) the layer's output row m' = 2m - p + k takes input row m through
// kernel element k. 1-D F(2, 2) of a 2-tap correlation y0 = d0 g0 + d1 g1, y1 = d1 g0 + d2 g1:
//   B^T d = (d0 - d1, d1, d2 - d1),  G g = (g0, g0 + g1, g1),  A^T m = (m0 + m1, m1 + m2),
// exact in exact arithmetic. In 2-D, V = B^T d B per tile and channel, U = G g G^T per channel
// pair, and a tile's output is A^T (sum over channels (and phases) of U . V) A: per position
// (u, v) a GEMM M[pos] = U[pos] V[pos], conv2d's microkernel with the transformed weights
// packed in MR-row panels and V's rows (tiles contiguous) read in place as B. M's rows are the
// output channels, so the output transform writes NCHW rows directly.
//   grad_input: phase a of grad_output (rows of parity a) holds the taps k0 = (a + p) mod 2 and
// k0 + 2, and grad_input rows (2t, 2t + 1) read its grad_output rows 4t + k0 - p + 2u, u = 0..2,
// through g = (w[k0], w[k0 + 2]); the four phases are summed in the GEMM (k = (phase, o)).
//   forward: output phase a (rows 2j + a) holds the same taps k0 = (a + p) mod 2 and k0 + 2:
// output row 2j + a reads input rows j + e - 1 and j + e (e = (a + p) div 2) through
// g = (w[k0 + 2], w[k0]), so its tile (rows 2t, 2t + 1 of the phase) reads input rows
// 2t + e - 1 + u, u = 0..2 (-1 and h, past the input, are zero). Four GEMMs a position, one a
// phase (k = c).
#include "src/ops/conv_transpose2d_winograd.h"

#include <algorithm>
#include <cassert>

#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
#include "src/kernels/conv/conv.h"
#include "src/kernels/gemm/gemm.h"
#include "src/ops/conv2d_implicit.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace convt {
namespace {

constexpr int64_t kPos = 9;  // the 3 x 3 transformed positions (u, v), pos = 3u + v
// Bound on the elements of each of one image's V and M: 8 MB each in float32 (16 MB a thread
// for both), twice that in float64.
constexpr int64_t kMaxTransform = int64_t{1} << 21;
// The GEMM kernels' widest NR (32: float32 on AVX-512): the tile count V and M are
// padded to is at most the next multiple of it. The path rules below (fills_columns,
// image_group) pad to it on every ISA and dtype.
constexpr int64_t kMaxNr = 32;

// Phase a's first tap along an axis with padding p (its second is k0 + 2).
int64_t first_tap(int64_t a, int64_t p) { return (a + p) % 2; }

// The F(2x2, 2x2) transform kernels of the conv family (conv.h: B^T along one axis of rows
// of tiles; A^T M A of tiles into output rows).
template <class T>
struct Transforms {
  conv::Wino2InFn<T> in;
  conv::Wino2OutFn<T> out;
};
template <class T>
Transforms<T> transforms() {
  const conv::Table& k = kernels<conv::Table>();
  return {of<T>(k.f32_conv_wino2_in, k.f64_conv_wino2_in),
          of<T>(k.f32_conv_wino2_out, k.f64_conv_wino2_out)};
}

// Transformed weights of row tile rt (rows [rt * mr, rt * mr + mr) of `rows`) as panels
// up[pos][row tile][k][mr] (nrt row tiles, depth K); kernel(row, k, g) gives the 2 x 2
// correlation kernel g[r][q] of a row and k, rows past `rows` are zero. U = G g G^T: G along
// the kernel's rows, then along its columns.
template <class T, class Kernel>
void pack_panel(int64_t rows, int64_t K, int64_t mr, int64_t nrt, int64_t rt, const Kernel& kernel,
                T* up) {
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < mr; ++i) {
      const int64_t row = rt * mr + i;
      T g[2][2] = {};
      if (row < rows) kernel(row, k, g);
      const T t[3][2] = {
          {g[0][0], g[0][1]}, {g[0][0] + g[1][0], g[0][1] + g[1][1]}, {g[1][0], g[1][1]}};
      for (int64_t u = 0; u < 3; ++u) {
        const T uv[3] = {t[u][0], t[u][0] + t[u][1], t[u][1]};
        for (int64_t v = 0; v < 3; ++v) up[(((3 * u + v) * nrt + rt) * K + k) * mr + i] = uv[v];
      }
    }
}

// The 9 GEMMs of one image: M[pos] (rows x tp, m[(pos * rows + r) * tp + tile]) =
// U[pos] (pack_panel's panels, depth K) V[pos] (K x tp, v[(pos * K + k) * tp + tile]); the
// ntiles columns computed, in the NR-column panels that hold them (an odd batch's last item of
// two images uses half of tp: the panels past its tiles would be all padding), V's columns to
// the last panel's end zero. K in pieces of at most the kernel's K block, a fixed split: the
// same sums anywhere.
template <class T>
void products(const gemm_kernels::Ukernel<T>& uk, const T* up, int64_t rows, int64_t K, const T* v,
              int64_t tp, int64_t ntiles, T* m) {
  const int64_t MR = uk.mr, NR = uk.nr, nrt = (rows + MR - 1) / MR;
  const int64_t panels = (ntiles + NR - 1) / NR;
  const int64_t pieces = (K + uk.kc - 1) / uk.kc;
  for (int64_t pos = 0; pos < kPos; ++pos)
    for (int64_t t = 0; t < panels; ++t) {
      const int64_t cols = std::min(NR, ntiles - t * NR);
      assert(cols >= 1 && (t + 1) * NR <= tp);  // the kernels take 1 <= nr <= NR (gemm.h)
      for (int64_t rt = 0; rt < nrt; ++rt) {
        const int64_t nr = std::min(MR, rows - rt * MR);
        const T* ap = up + (pos * nrt + rt) * K * MR;
        T* cp = m + (pos * rows + rt * MR) * tp + t * NR;
        for (int64_t p = 0; p < pieces; ++p) {
          const int64_t k0 = p * K / pieces, k1 = (p + 1) * K / pieces;
          // A last row tile of nr < MR rows: the kernel of its height (same arithmetic).
          uk.for_rows(nr)(k1 - k0, ap + k0 * MR, 1, MR, v + (pos * K + k0) * tp + t * NR, tp, cp,
                          tp, nr, cols, T(1), p == 0 ? T(0) : T(1));
        }
      }
    }
}

// The spare columns [used, end) of V's rows: zeros (B panels read all NR columns). The
// padding to tp, and in an odd batch's last item of two images the second image's.
template <class T>
void zero_columns(T* v, int64_t rows, int64_t tp, int64_t used, int64_t end) {
  for (int64_t r = 0; r < rows; ++r) std::fill(v + r * tp + used, v + r * tp + end, T(0));
}

// Scratch of one thread: an input plane with zeros around it (pp; the zeros are written
// once), its row transforms (erow), V and M; V's columns past the tiles zero (B panels read
// all NR columns).
template <class T>
struct Scratch {
  Buffer<T> pp, erow, v, m;
  Scratch(int64_t pp_size, int64_t erow_size, int64_t v_rows, int64_t m_size, int64_t tp,
          int64_t ntiles)
      : pp(static_cast<size_t>(pp_size)),
        erow(static_cast<size_t>(erow_size)),
        v(static_cast<size_t>(v_rows * tp)),
        m(static_cast<size_t>(m_size)) {
    std::fill(pp.get(), pp.get() + pp_size, T(0));
    std::fill(erow.get(), erow.get() + erow_size, T(0));
    zero_columns(v.get(), v_rows, tp, ntiles, tp);
  }
};

// ---- grad_input ----

// erow holds the row transforms of grad_output row r at row R = r + ph (zero rows around), as
// [b][e][R mod 4][R div 4][tw] (e the transformed column), th + 1 rows a class: a column
// transform reads rows 4tm + const for tm = 0..th-1, which this puts side by side (one loop
// of th * tw; row by row the loops were tw = 8 long and took twice the time).
inline int64_t erow_rows(const WinogradLayer& s) { return s.h / 2 + 1; }

// V[pos][k][tile] (rows of tp elements from v, tile = tm * tw + tl, k = (2a + b) * o + oc) of
// image gy_n.
template <class T>
void gi_input_transform(const WinogradLayer& s, const Transforms<T>& tf, const T* gy_n, int64_t tp,
                        Scratch<T>* sc, T* v) {
  const int64_t th = s.h / 2, tw = s.w / 2, K = 4 * s.o, qw = tw + 2;
  const int64_t cls_size = erow_rows(s) * tw;  // one (b, e, class) of erow
  T* pp = sc->pp.get();
  T* erow = sc->erow.get();
  for (int64_t oc = 0; oc < s.o; ++oc) {
    // grad_output column x is padded column x + pw, pp's [(x + pw) mod 4][row][(x + pw) div 4].
    const T* plane = gy_n + oc * s.oh * s.ow;
    for (int64_t p = 0; p < 4; ++p) {
      const int64_t i0 = (s.pw - p + 3) / 4, i1 = (s.ow + s.pw - p + 3) / 4;
      for (int64_t r = 0; r < s.oh; ++r) {
        T* __restrict dst = pp + (p * s.oh + r) * qw;
        const T* __restrict src = plane + r * s.ow;
        for (int64_t i = i0; i < i1; ++i) dst[i] = src[4 * i + p - s.pw];
      }
    }
    // Row pass: grad_output column 4t + k0 - pw + 2v of phase b is padded column
    // 4t + k0 + 2v: pp's column phase (k0 + 2v) mod 4, element t + (k0 + 2v) div 4 (strided,
    // the pass ran element by element); the rows of one class R mod 4 at a time.
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t cls = 0; cls < 4; ++cls) {
        const int64_t j0 = std::max<int64_t>(0, (s.ph - cls + 3) / 4);
        const int64_t j1 = (s.ph + s.oh - cls + 3) / 4;
        if (j1 <= j0) continue;
        const T* d[3];
        for (int64_t v = 0; v < 3; ++v) {
          const int64_t col = first_tap(b, s.pw) + 2 * v;
          d[v] = pp + (col % 4 * s.oh + 4 * j0 + cls - s.ph) * qw + col / 4;
        }
        T* e0 = erow + (12 * b + cls) * cls_size + j0 * tw;
        tf.in(d[0], d[1], d[2], 4 * qw, j1 - j0, tw, e0, e0 + 4 * cls_size, e0 + 8 * cls_size, tw);
      }
    // Column pass: grad_output rows 4tm + k0 - ph + 2u of phase a, erow rows 4tm + k0 + 2u.
    for (int64_t a = 0; a < 2; ++a) {
      const int64_t k0 = first_tap(a, s.ph);
      const T* du[3];
      for (int64_t b = 0; b < 2; ++b) {
        const int64_t k = (2 * a + b) * s.o + oc;
        for (int64_t e = 0; e < 3; ++e) {
          for (int64_t u = 0; u < 3; ++u)
            du[u] = erow + ((3 * b + e) * 4 + (k0 + 2 * u) % 4) * cls_size + (k0 + 2 * u) / 4 * tw;
          T* v0 = v + (e * K + k) * tp;  // pos (0, e), (1, e), (2, e)
          tf.in(du[0], du[1], du[2], 0, 1, th * tw, v0, v0 + 3 * K * tp, v0 + 6 * K * tp, tp);
        }
      }
    }
  }
}

// ---- forward ----

// erow holds the row transforms of padded input row R (input row R - 1) for output column
// phase b as [b][e][R mod 2][R div 2][tw]: a column transform of output row phase a reads
// rows 2tm + e_a + u for tm = 0..th-1, side by side in one class.
inline int64_t fwd_cls_rows(const WinogradLayer& s) { return (s.h + 3) / 2; }
// pp holds the input plane with a zero row and column around it, its padded columns split by
// parity, [column mod 2][row][column div 2] (the row pass reads every other column: strided,
// it ran element by element), this many elements a row.
inline int64_t fwd_half_width(const WinogradLayer& s) { return (s.w + 3) / 2; }

// V[phase][pos][c][tile] (phase = 2a + b, rows of tp elements from v, tile = tm * tw + t) of
// image x_n.
template <class T>
void fwd_input_transform(const WinogradLayer& s, const Transforms<T>& tf, const T* x_n, int64_t tp,
                         Scratch<T>* sc, T* v) {
  const int64_t th = s.oh / 4, tw = s.ow / 4, hp = s.h + 2, hw = fwd_half_width(s);
  const int64_t cls_size = fwd_cls_rows(s) * tw, vph = kPos * s.c * tp;
  T* pp = sc->pp.get();
  T* erow = sc->erow.get();
  for (int64_t c = 0; c < s.c; ++c) {
    // Input column x is padded column x + 1: odd x to the even columns, even x to the odd.
    const T* plane = x_n + c * s.h * s.w;
    for (int64_t r = 0; r < s.h; ++r) {
      T* __restrict even = pp + (r + 1) * hw;
      T* __restrict odd = pp + (hp + r + 1) * hw;
      const T* __restrict src = plane + r * s.w;
      for (int64_t k = 0; k < s.w / 2; ++k) {
        odd[k] = src[2 * k];
        even[k + 1] = src[2 * k + 1];
      }
      if (s.w % 2 != 0) odd[s.w / 2] = src[s.w - 1];
    }
    // Row pass: phase b's tile t reads padded columns 2t + e_b + v, v = 0..2: column phase
    // (e_b + v) mod 2, its element t + (e_b + v) div 2, the rows of one class R mod 2 at a
    // time.
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t cls = 0; cls < 2; ++cls) {
        const T* d[3];
        for (int64_t v = 0; v < 3; ++v) {
          const int64_t col = (b + s.pw) / 2 + v;
          d[v] = pp + (col % 2 * hp + cls) * hw + col / 2;
        }
        T* e0 = erow + (6 * b + cls) * cls_size;
        tf.in(d[0], d[1], d[2], 2 * hw, (hp - cls + 1) / 2, tw, e0, e0 + 2 * cls_size,
              e0 + 4 * cls_size, tw);
      }
    // Column pass: phase a's tile row tm reads padded rows 2tm + e_a + u.
    for (int64_t a = 0; a < 2; ++a) {
      const int64_t ea = (a + s.ph) / 2;
      const T* du[3];
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t e = 0; e < 3; ++e) {
          for (int64_t u = 0; u < 3; ++u)
            du[u] = erow + ((3 * b + e) * 2 + (ea + u) % 2) * cls_size + (ea + u) / 2 * tw;
          T* v0 = v + (2 * a + b) * vph + (e * s.c + c) * tp;  // pos (0, e), (1, e), (2, e)
          tf.in(du[0], du[1], du[2], 0, 1, th * tw, v0, v0 + 3 * s.c * tp, v0 + 6 * s.c * tp, tp);
        }
    }
  }
}

// Whether one image's ntiles tiles make GEMMs worth their transforms, given the rows of its V
// or M (whichever is more): the GEMMs' columns are the tiles padded to the kernel's NR, so
// their time follows the padded count (the forward: 5.8-6.4 ms for 49 tiles as for 64,
// batch 16, one thread), the direct paths' the tiles. Measured on the AVX-512 f32 kernel
// (NR 32), one thread, Winograd against the phases (forward) and conv2d (grad_input): slower
// at 16 tiles of 32 (1.1-1.8x), 36 and 49 of 64 (1.2x), even at 25 of 32, faster at 64 of 64
// (1.4x) and 81 of 96 (1.05x): at least 4/5 of the columns. The rule pads to kMaxNr, the NR
// it was measured with, on every ISA and dtype, not to the kernel's own NR (less for float64
// and the scalar reference): on purpose, so that a layer takes the same path, and rounds the
// same way, whatever the CPU (a narrower NR wastes fewer columns, so there the rule only errs
// towards the direct paths). And a thread's V and M (one image's transforms) stay bounded.
bool fills_columns(int64_t ntiles, int64_t rows) {
  const int64_t tiles = round_up(ntiles, kMaxNr);
  return 5 * ntiles >= 4 * tiles && kPos * rows * tiles <= kMaxTransform;
}

// Images a work item: one, or two where an image has 16 tiles (8 x 8), half the widest NR
// (kMaxNr on every ISA and dtype, as in fills_columns), and channels enough: their tiles side
// by side in V's and M's columns (a fixed grouping, and a column's sums do not depend on its
// place: the same bits for any thread count). The forward, two images of 16 tiles against
// the phases (one thread, batch 16): 256 -> 128 and 128 -> 64 channels 1.38x and 1.15x
// faster, 64 -> 64 even, 64 -> 32, 32 -> 32 and 16 -> 32 1.35-1.45x slower (the transforms'
// rows of 4 and 16 tiles cost more a tile); three images of 9 tiles (6 x 6 inputs,
// 128 -> 64) 1.4x slower.
int64_t image_group(const WinogradLayer& s, int64_t ntiles) {
  return 2 * ntiles == kMaxNr && s.c * s.o >= 8192 && s.n >= 2 ? 2 : 1;
}

}  // namespace

bool winograd_gi_fits(const WinogradLayer& s) {
  if (s.h % 2 != 0 || s.w % 2 != 0 || s.h <= 0 || s.w <= 0 || s.c < 16 || s.o < 16) return false;
  // Larger images keep conv2d, whose workspaces are batched.
  const int64_t ntiles = (s.h / 2) * (s.w / 2);
  return fills_columns(image_group(s, ntiles) * ntiles, std::max(4 * s.o, s.c));
}

bool winograd_fwd_fits(const WinogradLayer& s) {
  if (s.oh % 4 != 0 || s.ow % 4 != 0 || s.oh <= 0 || s.ow <= 0 || s.c < 16 || s.o < 16)
    return false;
  // Larger images keep the phases.
  const int64_t ntiles = (s.oh / 4) * (s.ow / 4);
  return fills_columns(image_group(s, ntiles) * ntiles, 4 * std::max(s.c, s.o));
}

template <class T>
void grad_input_winograd(const WinogradLayer& s, const T* gy, const T* w, T* gi) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  const Transforms<T> tf = transforms<T>();
  const int64_t MR = uk.mr, K = 4 * s.o;
  const int64_t nrt = (s.c + MR - 1) / MR, ntiles = (s.h / 2) * (s.w / 2);
  const int64_t group = image_group(s, ntiles), items = (s.n + group - 1) / group;
  const int64_t tp = round_up(group * ntiles, int64_t{uk.nr});
  Buffer<T> up(static_cast<size_t>(kPos * nrt * K * MR));
  const double item_ns = 2.0 * static_cast<double>(kPos * nrt * MR * K * tp) * conv_ops::kNsPerFlop;
  const int64_t image_in = s.o * s.oh * s.ow, image_out = s.c * s.h * s.w;
  // grad_input row c, k = (2a + b) * o + oc: taps (k0_a + 2r, k0_b + 2q) of w[c][oc].
  const auto kernel = [&](int64_t c, int64_t k, T g[2][2]) {
    const int64_t ph = k / s.o, oc = k % s.o;
    const int64_t ky = first_tap(ph / 2, s.ph), kx = first_tap(ph % 2, s.pw);
    const T* wc = w + (c * s.o + oc) * 16;
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t q = 0; q < 2; ++q) g[r][q] = wc[(ky + 2 * r) * 4 + kx + 2 * q];
  };
  // The transformed weights (1.3 MB for the layer) are packed inside the images' job,
  // a row tile at a time by whichever threads are there (see OnceInJob for why not before it).
  conv_ops::PartsInJob packed(nrt);
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    packed.run([&](int64_t rt) { pack_panel(s.c, K, MR, nrt, rt, kernel, up.get()); });
    const int64_t tw = s.w / 2;
    Scratch<T> sc(s.oh * (4 * tw + 8), 24 * erow_rows(s) * tw, kPos * K, kPos * s.c * tp, tp,
                  group * ntiles);
    for (int64_t it = b; it < e; ++it) {
      const int64_t n0 = it * group, images = std::min(group, s.n - n0);
      for (int64_t i = 0; i < images; ++i)
        gi_input_transform(s, tf, gy + (n0 + i) * image_in, tp, &sc, sc.v.get() + i * ntiles);
      if (images < group) zero_columns(sc.v.get(), kPos * K, tp, images * ntiles, tp);
      products(uk, up.get(), s.c, K, sc.v.get(), tp, images * ntiles, sc.m.get());
      for (int64_t i = 0; i < images; ++i)
        for (int64_t c = 0; c < s.c; ++c)
          tf.out(sc.m.get() + i * ntiles + c * tp, s.c * tp, 0, 1, s.h / 2, tw, nullptr,
                 gi + (n0 + i) * image_out + c * s.h * s.w, s.w);
    }
  });
}

template <class T>
void forward_winograd(const WinogradLayer& s, const T* x, const T* w, const T* bias, T* y) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  const Transforms<T> tf = transforms<T>();
  const int64_t MR = uk.mr, K = s.c;
  const int64_t nrt = (s.o + MR - 1) / MR, th = s.oh / 4, tw = s.ow / 4, ntiles = th * tw;
  const int64_t group = image_group(s, ntiles), items = (s.n + group - 1) / group;
  const int64_t tp = round_up(group * ntiles, int64_t{uk.nr});
  const int64_t up_phase = kPos * nrt * K * MR;
  Buffer<T> up(static_cast<size_t>(4 * up_phase));
  const double item_ns =
      2.0 * static_cast<double>(4 * kPos * nrt * MR * K * tp) * conv_ops::kNsPerFlop;
  const int64_t image_in = s.c * s.h * s.w, image_out = s.o * s.oh * s.ow;
  // The transformed weights, a (phase, row tile) at a time inside the images' job (as for
  // grad_input). Phase (a, b)'s row o, k = c: taps (k0_a + 2 - 2r, k0_b + 2 - 2q) of w[c][o].
  conv_ops::PartsInJob packed(4 * nrt);
  const auto pack = [&](int64_t part) {
    const int64_t ph = part / nrt, rt = part % nrt;
    const int64_t ky = first_tap(ph / 2, s.ph) + 2, kx = first_tap(ph % 2, s.pw) + 2;
    const auto kernel = [&](int64_t o, int64_t c, T g[2][2]) {
      const T* wc = w + (c * s.o + o) * 16;
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t q = 0; q < 2; ++q) g[r][q] = wc[(ky - 2 * r) * 4 + kx - 2 * q];
    };
    pack_panel(s.o, K, MR, nrt, rt, kernel, up.get() + ph * up_phase);
  };
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    packed.run(pack);
    Scratch<T> sc(2 * (s.h + 2) * fwd_half_width(s), 12 * fwd_cls_rows(s) * tw, 4 * kPos * s.c,
                  4 * kPos * s.o * tp, tp, group * ntiles);
    for (int64_t it = b; it < e; ++it) {
      const int64_t n0 = it * group, images = std::min(group, s.n - n0);
      for (int64_t i = 0; i < images; ++i)
        fwd_input_transform(s, tf, x + (n0 + i) * image_in, tp, &sc, sc.v.get() + i * ntiles);
      if (images < group) zero_columns(sc.v.get(), 4 * kPos * s.c, tp, images * ntiles, tp);
      for (int64_t ph = 0; ph < 4; ++ph)
        products(uk, up.get() + ph * up_phase, s.o, K, sc.v.get() + ph * kPos * K * tp, tp,
                 images * ntiles, sc.m.get() + ph * kPos * s.o * tp);
      // Output phase (a, b)'s tile (tm, t) holds output rows 4tm + a + 2r, columns 4t + b + 2q:
      // the four phases interleaved.
      for (int64_t i = 0; i < images; ++i)
        for (int64_t o = 0; o < s.o; ++o)
          tf.out(sc.m.get() + i * ntiles + o * tp, s.o * tp, kPos * s.o * tp, 2, th, tw,
                 bias ? bias + o : nullptr, y + (n0 + i) * image_out + o * s.oh * s.ow, s.ow);
    }
  });
}

template void grad_input_winograd<float>(const WinogradLayer&, const float*, const float*, float*);
template void grad_input_winograd<double>(const WinogradLayer&, const double*, const double*,
                                          double*);
template void forward_winograd<float>(const WinogradLayer&, const float*, const float*,
                                      const float*, float*);
template void forward_winograd<double>(const WinogradLayer&, const double*, const double*,
                                       const double*, double*);

}  // namespace convt
}  // namespace npfast
