// grad_input of the 4x4 stride-2 transposed convolution by Winograd F(2x2, 2x2): see
// conv_transpose2d_winograd.h.
//
// Along one axis (padding p), grad_input m reads grad_output 2m - p + k through kernel element
// k. Phase a (grad_output rows of parity a) holds the taps k0 = (a + p) mod 2 and k0 + 2, and a
// tile of grad_input rows (2t, 2t + 1) reads its grad_output rows 4t + k0 - p + 2u, u = 0..2.
// 1-D F(2, 2) on d = those three values and g = (w[k0], w[k0 + 2]):
//   B^T d = (d0 - d1, d1, d2 - d1),  G g = (g0, g0 + g1, g1),  A^T m = (m0 + m1, m1 + m2),
// exact in exact arithmetic (y0 = d0 g0 + d1 g1, y1 = d1 g0 + d2 g1). In 2-D, V = B^T d B per
// phase and channel, U = G g G^T per phase and channel pair, and grad_input's tile is
// A^T (sum over phases and channels of U . V) A: per position (u, v) a GEMM over k = (phase,
// o). The GEMM is conv2d's microkernel with the transformed weights packed in MR-row panels
// and V's rows (tiles contiguous) read in place as B: M[pos][c][tile], C rows = channels, so
// the output transform writes NCHW rows directly.
#include "src/ops/conv_transpose2d_winograd.h"

#include <algorithm>

#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/arith.h"
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
// The GEMM kernels' widest NR on any ISA (32: f32 AVX-512): the tile count V and M are padded
// to is at most the next multiple of it.
constexpr int64_t kMaxNr = 32;

// Phase a's first tap along an axis with padding p (its second is k0 + 2).
int64_t first_tap(int64_t a, int64_t p) { return (a + p) % 2; }

// B^T along one axis, for `rows` rows of n tiles side by side: (d0 - d1, d1, d2 - d1), tile
// t of row r reading d_j[r * ld + S * t] (S = 4 along grad_output rows, 1 across rows of row
// transforms) and writing v_j[r * n + t].
template <int64_t S, class T>
void bt3(const T* __restrict d0, const T* __restrict d1, const T* __restrict d2, int64_t ld,
         T* __restrict v0, T* __restrict v1, T* __restrict v2, int64_t rows, int64_t n) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) {
      const T x1 = d1[r * ld + S * t];
      v0[r * n + t] = d0[r * ld + S * t] - x1;
      v1[r * n + t] = x1;
      v2[r * n + t] = d2[r * ld + S * t] - x1;
    }
}

// Transformed weights, rows c (of s.c) in [rt0 * mr, rt1 * mr), as panels
// up[pos][row tile][k][mr], k = (2a + b) * o + oc; rows past s.c zero. A panel's rows are
// written side by side (i innermost), so each line of it is written once.
template <class T>
void pack_weights(const WinogradGi& s, const T* w, int64_t mr, int64_t rt0, int64_t rt1, T* up) {
  const int64_t K = 4 * s.o, nrt = (s.c + mr - 1) / mr;
  for (int64_t rt = rt0; rt < rt1; ++rt)
    for (int64_t a = 0; a < 2; ++a)
      for (int64_t b = 0; b < 2; ++b) {
        const int64_t ky = first_tap(a, s.ph), kx = first_tap(b, s.pw);
        for (int64_t oc = 0; oc < s.o; ++oc) {
          const int64_t k = (2 * a + b) * s.o + oc;
          for (int64_t i = 0; i < mr; ++i) {
            const int64_t c = rt * mr + i;
            T g[2][2] = {};
            if (c < s.c) {
              const T* wc = w + (c * s.o + oc) * 16;
              for (int64_t r = 0; r < 2; ++r)
                for (int64_t q = 0; q < 2; ++q) g[r][q] = wc[(ky + 2 * r) * 4 + kx + 2 * q];
            }
            // G g (rows), then G along the columns.
            const T t[3][2] = {
                {g[0][0], g[0][1]}, {g[0][0] + g[1][0], g[0][1] + g[1][1]}, {g[1][0], g[1][1]}};
            for (int64_t u = 0; u < 3; ++u) {
              const T uv[3] = {t[u][0], t[u][0] + t[u][1], t[u][1]};
              for (int64_t v = 0; v < 3; ++v)
                up[(((3 * u + v) * nrt + rt) * K + k) * mr + i] = uv[v];
            }
          }
        }
      }
}

// Scratch of one thread: a grad_output plane with zero columns around its rows (pp: pw
// before, the rest after, to 4 tw + 8), its row transforms (erow, below), V and M. The zeros
// are written once.
template <class T>
struct Scratch {
  Buffer<T> pp, erow, v, m;
};

// erow holds the row transforms of grad_output row r at row R = r + ph (zero rows around), as
// [b][e][R mod 4][R div 4][tw] (e the transformed column), th + 1 rows a class: a column
// transform reads rows 4tm + const for tm = 0..th-1, which this puts side by side (one loop
// of th * tw; row by row the loops were tw = 8 long and took twice the time).
inline int64_t erow_rows(const WinogradGi& s) { return s.h / 2 + 1; }

// V[pos][k][tile] (rows of tp elements, tile = tm * tw + tl) of image gy_n.
template <class T>
void input_transform(const WinogradGi& s, const T* gy_n, int64_t tp, Scratch<T>* sc) {
  const int64_t th = s.h / 2, tw = s.w / 2, K = 4 * s.o, owp = 4 * tw + 8;
  const int64_t cls_size = erow_rows(s) * tw;  // one (b, e, class) of erow
  T* pp = sc->pp.get();
  T* erow = sc->erow.get();
  for (int64_t oc = 0; oc < s.o; ++oc) {
    const T* plane = gy_n + oc * s.oh * s.ow;
    for (int64_t r = 0; r < s.oh; ++r) {
      T* __restrict dst = pp + r * owp + s.pw;
      const T* __restrict src = plane + r * s.ow;
      for (int64_t x = 0; x < s.ow; ++x) dst[x] = src[x];
    }
    // Row pass: grad_output column 4t + k0 - pw + 2v of phase b is pp's column 4t + k0 + 2v;
    // the rows of one class R mod 4 at a time.
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t cls = 0; cls < 4; ++cls) {
        const int64_t j0 = std::max<int64_t>(0, (s.ph - cls + 3) / 4);
        const int64_t j1 = (s.ph + s.oh - cls + 3) / 4;
        if (j1 <= j0) continue;
        const T* d = pp + (4 * j0 + cls - s.ph) * owp + first_tap(b, s.pw);
        T* e0 = erow + (12 * b + cls) * cls_size + j0 * tw;
        bt3<4>(d, d + 2, d + 4, 4 * owp, e0, e0 + 4 * cls_size, e0 + 8 * cls_size, j1 - j0, tw);
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
          T* v0 = sc->v.get() + (e * K + k) * tp;  // pos (0, e), (1, e), (2, e)
          bt3<1>(du[0], du[1], du[2], 0, v0, v0 + 3 * K * tp, v0 + 6 * K * tp, 1, th * tw);
        }
      }
    }
  }
}

// A^T M A of one channel's tiles (tile (tm, t)'s position (u, v) at m[(3u + v) * ps + tm * tw + t])
// into its grad_input plane y (rows 2tm, 2tm + 1, columns 2t, 2t + 1; 2 tw columns).
template <class T>
void at_tiles(const T* __restrict m, int64_t ps, T* __restrict y, int64_t th, int64_t tw) {
  for (int64_t tm = 0; tm < th; ++tm)
    for (int64_t t = 0; t < tw; ++t) {
      T mm[3][3];
      for (int64_t u = 0; u < 3; ++u)
        for (int64_t v = 0; v < 3; ++v) mm[u][v] = m[(3 * u + v) * ps + tm * tw + t];
      const T g0[3] = {mm[0][0] + mm[1][0], mm[0][1] + mm[1][1], mm[0][2] + mm[1][2]};
      const T g1[3] = {mm[1][0] + mm[2][0], mm[1][1] + mm[2][1], mm[1][2] + mm[2][2]};
      T* y0 = y + 2 * tm * 2 * tw;
      y0[2 * t] = g0[0] + g0[1];
      y0[2 * t + 1] = g0[1] + g0[2];
      y0[2 * tw + 2 * t] = g1[0] + g1[1];
      y0[2 * tw + 2 * t + 1] = g1[1] + g1[2];
    }
}

}  // namespace

bool winograd_gi_fits(const WinogradGi& s) {
  if (s.h % 2 != 0 || s.w % 2 != 0 || s.h <= 0 || s.w <= 0 || s.c < 16 || s.o < 16) return false;
  // A thread's V and M (one image's transforms) stay bounded; larger images keep conv2d,
  // whose workspaces are batched.
  const int64_t tiles = round_up((s.h / 2) * (s.w / 2), kMaxNr);
  return kPos * 4 * s.o * tiles <= kMaxTransform && kPos * s.c * tiles <= kMaxTransform;
}

template <class T>
void grad_input_winograd(const WinogradGi& s, const T* gy, const T* w, T* gi) {
  const gemm_kernels::Table& gk = kernels<gemm_kernels::Table>();
  const gemm_kernels::Ukernel<T>& uk = of<T>(gk.f32, gk.f64);
  // Row tiles of at most MR/2 channels (the last): the half-height kernel, same arithmetic.
  const gemm_kernels::UkernelFn<T> fn_short = uk.fn_short ? uk.fn_short : uk.fn;
  const int64_t MR = uk.mr, NR = uk.nr, K = 4 * s.o;
  const int64_t nrt = (s.c + MR - 1) / MR, ntiles = (s.h / 2) * (s.w / 2);
  const int64_t tp = round_up(ntiles, NR), panels = tp / NR;
  // K cut into pieces of at most the kernel's K block, a fixed split: the same sums anywhere.
  const int64_t pieces = (K + uk.kc - 1) / uk.kc;
  Buffer<T> up(static_cast<size_t>(kPos * nrt * K * MR));
  const double image_ns =
      2.0 * static_cast<double>(kPos * nrt * MR * K * tp) * conv_ops::kNsPerFlop;
  const int64_t image_in = s.o * s.oh * s.ow, image_out = s.c * s.h * s.w;
  // The transformed weights (1.3 MB for the layer) are packed inside the images' job,
  // a row tile at a time by whichever threads are there (see OnceInJob for why not before it).
  conv_ops::PartsInJob packed(nrt);
  parallel_for(s.n, grain_for(s.n, image_ns), [&](int64_t b, int64_t e) {
    packed.run([&](int64_t rt) { pack_weights(s, w, MR, rt, rt + 1, up.get()); });
    const int64_t tw = s.w / 2, owp = 4 * tw + 8, erows = 24 * erow_rows(s) * tw;
    Scratch<T> sc{Buffer<T>(static_cast<size_t>(s.oh * owp)), Buffer<T>(static_cast<size_t>(erows)),
                  Buffer<T>(static_cast<size_t>(kPos * K * tp)),
                  Buffer<T>(static_cast<size_t>(kPos * s.c * tp))};
    std::fill(sc.pp.get(), sc.pp.get() + s.oh * owp, T(0));
    std::fill(sc.erow.get(), sc.erow.get() + erows, T(0));
    // B panels read all NR columns: the columns past the tiles are zero.
    if (tp > ntiles)
      for (int64_t r = 0; r < kPos * K; ++r)
        std::fill(sc.v.get() + r * tp + ntiles, sc.v.get() + (r + 1) * tp, T(0));
    for (int64_t n = b; n < e; ++n) {
      input_transform(s, gy + n * image_in, tp, &sc);
      for (int64_t pos = 0; pos < kPos; ++pos)
        for (int64_t t = 0; t < panels; ++t) {
          const int64_t cols = std::min(NR, ntiles - t * NR);
          for (int64_t rt = 0; rt < nrt; ++rt) {
            const int64_t rows = std::min(MR, s.c - rt * MR);
            const T* ap = up.get() + (pos * nrt + rt) * K * MR;
            T* cp = sc.m.get() + (pos * s.c + rt * MR) * tp + t * NR;
            for (int64_t p = 0; p < pieces; ++p) {
              const int64_t k0 = p * K / pieces, k1 = (p + 1) * K / pieces;
              (rows <= MR / 2 ? fn_short : uk.fn)(k1 - k0, ap + k0 * MR, 1, MR,
                                                  sc.v.get() + (pos * K + k0) * tp + t * NR, tp, cp,
                                                  tp, rows, cols, T(1), p == 0 ? T(0) : T(1));
            }
          }
        }
      for (int64_t c = 0; c < s.c; ++c)
        at_tiles(sc.m.get() + c * tp, s.c * tp, gi + n * image_out + c * s.h * s.w, s.h / 2,
                 s.w / 2);
    }
  });
}

template void grad_input_winograd<float>(const WinogradGi&, const float*, const float*, float*);
template void grad_input_winograd<double>(const WinogradGi&, const double*, const double*, double*);

}  // namespace convt
}  // namespace npfast
