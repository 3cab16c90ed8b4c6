// correlate1d_volume / uniform_filter_volume: three line passes over a volume (gaussian_filter's,
// sobel's, uniform_filter's) fused into one sweep.
//
// Unfused, a 256^3 float32 volume goes through memory four times (the first pass reads the
// input and writes the output, the fused pair of the other two reads and writes it again).
// Here a block is a band of rows (along axis 1) swept through a range of planes (axis 0); for
// each kPlanes output planes at a time:
//   1. pass 0 (across planes) for every row the band's pass 1 reads (its own rows and those it
//      reaches into its neighbours', recomputed there), read in place from the input planes
//      into `rows0`, kChunk lanes at a time: the input rows it reads were read for the
//      previous planes, so they come from L2, and every input element from memory about once;
//   2. per plane, pass 1 (across rows) of rows0 into the band's rows, padded for pass 2;
//   3. pass 2 along each padded row, extended in place, straight into the output.
// The kernels are an axis's pair from filter1d (CorrAxis: corr1d_rows across lines, corr1d's
// contract with several output rows per load, and corr1d_line along a row; UniformAxis:
// uniform1d's window sums and uniform1d_line): each output element goes through the same
// operations in the same order as in the unfused passes, so it has their bits (tests compare
// bit for bit).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/ndimage.hpp"
#include "npfast/ndimage_volume.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/filter1d/filter1d.h"
#include "src/ops/ndimage_line.h"
#include "src/ops/ndimage_weights.h"

namespace npfast {
namespace {

// A band's rows: the input rows of pass 0 (n[0] + 2 kPlanes planes of the band's rows and
// reach: the planes being read and the next block's) and the kPlanes planes of its results
// in about 2 MiB, the L2 of the machine measured (docs/ndimage-speed.md; smaller bands cost
// more recomputed reach, measured slower).
constexpr int64_t kBandBytes = int64_t{2} << 20;
// Unless the rows pass 1 reaches into (which both neighbouring bands recompute) would then be
// over an eighth of the band: a gaussian with sigma 2 on 256-wide rows reaches 16 rows and
// got 33-row bands, 1.48x the pass 0 work. Such bands grow to 8 reaches, up to an even share
// of kSharedBandBytes among the threads (half the 32 MiB L3 measured on the Zen 4 VM): their
// planes then come from L3 rather than L2, which costs less than the rows recomputed (256^3
// one thread 1.65 -> 1.43 ns / voxel, docs/ndimage-speed.md "band22").
constexpr int64_t kSharedBandBytes = int64_t{16} << 20;
// Output planes whose pass 0 runs at once (corr1d_rows loads each input row once for 8 rows
// of outputs), and the lanes of one such call (its n[0] + kPlanes - 1 rows stay in L1).
constexpr int64_t kPlanes = 8;
constexpr int64_t kChunk = 256;

// The band's own rows, or fewer than 8 when the rows are too wide for a band's planes to stay
// in the budget (then the unfused passes, whose blocks do not span planes, run instead).
int64_t band_rows(int64_t nx, int64_t itemsize, int64_t nz_taps, int64_t ny_taps) {
  const int64_t per_row = nx * itemsize * (nz_taps + 3 * kPlanes), reach = ny_taps - 1;
  const int64_t cap = std::max(kBandBytes, kSharedBandBytes / available_threads());
  return std::clamp(9 * reach * per_row, kBandBytes, cap) / per_row - reach;
}

// One axis of the sweep: its window (size, the elements before and after the centre), its
// mode, and its two kernels: across(in, out, m, lanes), m outputs from m + size - 1 rows of
// `lanes` elements, and along(row, out, n), n outputs along a row extended by before / after.
template <class T>
struct CorrAxis {
  std::vector<T> w;
  int64_t size, before, after;
  int sym;
  Border mode;
  filter1d::Corr1dFn<T> rows_fn;
  filter1d::Corr1dLineFn<T> line_fn;
  CorrAxis(const double* wd, int64_t n, Border m)
      : w(wd, wd + n),
        size(n),
        before(n / 2),
        after(n - n / 2 - 1),
        sym(ndimage::symmetry(wd, n)),
        mode(m) {
    const filter1d::Table& t = kernels<filter1d::Table>();
    rows_fn = of<T>(t.f32_corr1d_rows, t.f64_corr1d_rows);
    line_fn = of<T>(t.f32_corr1d_line, t.f64_corr1d_line);
  }
  void across(const T* const* in, T* const* out, int64_t m, int64_t lanes) const {
    rows_fn(in, out, m, lanes, w.data(), size, sym);
  }
  void along(const T* row, T* out, int64_t n) const { line_fn(row, out, n, w.data(), size, sym); }
};

// float32 window sums (size <= kDirectRows across lines, so a call may start at any position,
// and <= kDirectUniform along rows): uniform_filter1d's kernels for those sizes.
struct UniformAxis {
  int64_t size, before, after;
  Border mode;
  filter1d::Uniform1dFn<float> rows_fn;
  filter1d::Uniform1dLineFn<float> line_fn;
  UniformAxis(int64_t n, int64_t origin, Border m)
      : size(n), before(n / 2 + origin), after(n - n / 2 - 1 - origin), mode(m) {
    const filter1d::Table& t = kernels<filter1d::Table>();
    rows_fn = t.f32_uniform1d;
    line_fn = t.f32_uniform1d_line;
  }
  void across(const float* const* in, float* const* out, int64_t m, int64_t lanes) const {
    rows_fn(in, out, m, lanes, size);
  }
  void along(const float* row, float* out, int64_t n) const { line_fn(row, out, n, size); }
};

// The sweep; ns_per_element: the three passes' cost an output element on one core (the
// threading grain).
template <class T, class Axis>
void volume_fused(const View& in, const View& out, const Axis& z, const Axis& y, const Axis& x,
                  double cval, double ns_per_element) {
  const int64_t nz = in.shape[0], ny = in.shape[1], nx = in.shape[2];
  const int64_t sz = in.strides[0], sy = in.strides[1], oz = out.strides[0], oy = out.strides[1];
  const T cv = static_cast<T>(cval);
  const int64_t reach = y.size - 1;  // rows a band's pass 1 reads beyond its own
  const int64_t row_bytes = nx * static_cast<int64_t>(sizeof(T));
  const int64_t band = std::min(ny, band_rows(nx, sizeof(T), z.size, y.size));
  const int64_t nbands = (ny + band - 1) / band;
  // Planes per block: about 16 blocks in all (threads balance them), and a range long enough
  // that re-reading the n[0] - 1 planes before it costs little (4 n[0] planes), unless that
  // leaves a thread fewer than two blocks (a 64^3 gaussian was one block: one thread): then
  // down to nz nbands / (2 threads) planes, and with more than 8 threads the 16 blocks' size
  // (a 64^3 gaussian on 16 threads: blocks of 4 planes, each reading 20; unmeasured there).
  // The ranges are evened out (64 planes in ranges of 20 were 20, 20, 20, 4: uniform 5 at
  // 64^3 on 2 threads 0.58 ns / voxel, 0.42 unfused; docs/ndimage-speed.md "vol21").
  const int64_t least = std::min<int64_t>(4 * z.size, nz * nbands / (2 * available_threads()));
  int64_t chunk = std::max<int64_t>({least, (nz * nbands + 15) / 16, 1});
  const int64_t nchunks = (nz + chunk - 1) / chunk;
  chunk = (nz + nchunks - 1) / nchunks;
  const int64_t rows = band + reach;
  const int64_t pitch = x.before + nx + x.after;
  // Rows of the input with consecutive y are one run of lanes for pass 0 when contiguous.
  const bool joined = sy == row_bytes;
  const bool fills = z.mode == Border::fill || y.mode == Border::fill;
  const double ns_per_block = ns_per_element * static_cast<double>(band * chunk * nx);
  parallel_for(
      nbands * nchunks, grain_for(nbands * nchunks, ns_per_block), [&](int64_t b0, int64_t b1) {
        Buffer<T> rows0(static_cast<size_t>(kPlanes * rows * nx)),
            padded(static_cast<size_t>(band * pitch));
        Buffer<T> fill(static_cast<size_t>(fills ? rows * nx : 0));
        Buffer<const T*> zin(static_cast<size_t>(kPlanes + z.size)), yin(static_cast<size_t>(rows));
        Buffer<T*> yout(static_cast<size_t>(band)), zout(static_cast<size_t>(kPlanes));
        Buffer<int64_t> slot_y(static_cast<size_t>(rows)), row_slot(static_cast<size_t>(rows));
        Buffer<int64_t> run_start(static_cast<size_t>(rows)), run_len(static_cast<size_t>(rows));
        Buffer<const char*> plane(static_cast<size_t>(kPlanes + z.size));
        if (fills) std::fill(fill.get(), fill.get() + rows * nx, cv);
        for (int64_t blk = b0; blk < b1; ++blk) {
          const int64_t y0 = (blk % nbands) * band, m = std::min(band, ny - y0);
          const int64_t z0 = (blk / nbands) * chunk, z1 = std::min(nz, z0 + chunk);
          // The distinct input rows pass 1 reads (slots of rows0), in order of first use.
          int64_t slots = 0;
          for (int64_t r = 0; r < m + reach; ++r) {
            const int64_t k = map_index(y0 + r - y.before, ny, y.mode);
            int64_t s = -1;
            for (int64_t q = 0; q < slots && s < 0 && k >= 0; ++q)
              if (slot_y[q] == k) s = q;
            if (k >= 0 && s < 0) {
              s = slots++;
              slot_y[s] = k;
            }
            row_slot[r] = s;
          }
          int64_t runs = 0;
          for (int64_t s = 0; s < slots; ++s) {
            if (joined && runs > 0 && slot_y[s] == slot_y[s - 1] + 1) {
              ++run_len[runs - 1];
            } else {
              run_start[runs] = s;
              run_len[runs++] = 1;
            }
          }
          for (int64_t i = 0; i < m; ++i) yout[i] = padded.get() + i * pitch + x.before;
          for (int64_t p0 = z0; p0 < z1; p0 += kPlanes) {
            const int64_t np = std::min(kPlanes, z1 - p0);
            // Pass 0 for planes [p0, p0 + np): np + n[0] - 1 input planes, chunk by chunk of lanes
            // so that a chunk's rows stay in L1 while all np outputs read them.
            for (int64_t j = 0; j < np + z.size - 1; ++j) {
              const int64_t k = map_index(p0 - z.before + j, nz, z.mode);
              plane[j] = k < 0 ? nullptr : static_cast<const char*>(in.data) + k * sz;
            }
            for (int64_t q = 0; q < runs; ++q) {
              const int64_t s = run_start[q], lanes = run_len[q] * nx;
              for (int64_t l = 0; l < lanes; l += kChunk) {
                for (int64_t j = 0; j < np + z.size - 1; ++j)
                  zin[j] = (plane[j] ? reinterpret_cast<const T*>(plane[j] + slot_y[s] * sy)
                                     : fill.get()) +
                           l;
                for (int64_t p = 0; p < np; ++p) zout[p] = rows0.get() + (p * rows + s) * nx + l;
                z.across(zin.get(), zout.get(), np, std::min(kChunk, lanes - l));
              }
            }
            for (int64_t p = 0; p < np; ++p) {
              for (int64_t r = 0; r < m + reach; ++r)
                yin[r] = row_slot[r] < 0 ? fill.get() : rows0.get() + (p * rows + row_slot[r]) * nx;
              y.across(yin.get(), yout.get(), m, nx);
              char* orow = static_cast<char*>(out.data) + (p0 + p) * oz + y0 * oy;
              for (int64_t i = 0; i < m; ++i) {
                T* pr = padded.get() + i * pitch;
                ndimage::extend_lines(pr, nx, x.before, x.after, 1, x.mode, cv);
                x.along(pr, reinterpret_cast<T*>(orow + i * oy), nx);
              }
            }
          }
        }
      });
}

bool fusable(const View& in, const View& out, const int64_t n[3]) {
  if (in.ndim != 3 || in.dtype != out.dtype || in.empty() || in.data == out.data) return false;
  if (in.dtype != DType::f32 && in.dtype != DType::f64) return false;
  const int64_t it = static_cast<int64_t>(itemsize(in.dtype));
  if (in.strides[2] != it || out.strides[2] != it || in.shape[2] < 8) return false;
  if (band_rows(in.shape[2], it, n[0], n[1]) < 8) return false;
  for (const View* v : {&in, &out}) {
    if (reinterpret_cast<uintptr_t>(v->data) % static_cast<uintptr_t>(it)) return false;
    for (int k = 0; k < 3; ++k)
      if (v->strides[k] % it) return false;
  }
  return true;
}

// An output element's time on one core, from the three window sizes: 1.3-1.4 ns for three
// 17-tap passes, 0.55-0.65 for three 3-tap ones, in cache (Zen 4; docs/ndimage-speed.md
// "vol21"). Small volumes stay on the caller.
double ns_per_element(const int64_t n[3]) { return 0.45 + 0.018 * double(n[0] + n[1] + n[2]); }

}  // namespace

void correlate1d_volume(const View& input, const double* const w[3], const int64_t n[3],
                        const Border mode[3], const View& out, double cval) {
  if (input.ndim != 3) throw ValueError("input: must be 3-D, got shape " + shape_str(input));
  // float32 weights float32 cannot hold: the passes, which then sum in double.
  const bool f32_ok = input.dtype != DType::f32 ||
                      (ndimage::f32_weights(w[0], n[0]) && ndimage::f32_weights(w[1], n[1]) &&
                       ndimage::f32_weights(w[2], n[2]));
  if (!f32_ok || !fusable(input, out, n)) {
    correlate1d(input, w[0], n[0], 0, out, mode[0], cval, 0);
    correlate1d_pair(out, w[1], n[1], 1, mode[1], w[2], n[2], 2, mode[2], out, cval);
    return;
  }
  for (int a = 0; a < 3; ++a) ndimage::check_pass(input, out, a, n[a], 0, "len(weights)");
  if (input.dtype == DType::f32) {
    const CorrAxis<float> z(w[0], n[0], mode[0]), y(w[1], n[1], mode[1]), x(w[2], n[2], mode[2]);
    volume_fused<float>(input, out, z, y, x, cval, ns_per_element(n));
  } else {
    const CorrAxis<double> z(w[0], n[0], mode[0]), y(w[1], n[1], mode[1]), x(w[2], n[2], mode[2]);
    volume_fused<double>(input, out, z, y, x, cval, ns_per_element(n));
  }
}

void uniform_filter_volume(const View& input, const int64_t size[3], const int64_t origin[3],
                           const Border mode[3], const View& out, double cval) {
  if (input.ndim != 3) throw ValueError("input: must be 3-D, got shape " + shape_str(input));
  for (int a = 0; a < 3; ++a) ndimage::check_pass(input, out, a, size[a], origin[a], "size");
  const bool fuse = input.dtype == DType::f32 && size[0] <= filter1d::kDirectRows &&
                    size[1] <= filter1d::kDirectRows && size[2] <= filter1d::kDirectUniform &&
                    fusable(input, out, size);
  if (!fuse) {
    uniform_filter1d(input, size[0], 0, out, mode[0], cval, origin[0]);
    uniform_filter_pair(out, size[1], 1, mode[1], origin[1], size[2], mode[2], origin[2], out,
                        cval);
    return;
  }
  const UniformAxis z(size[0], origin[0], mode[0]), y(size[1], origin[1], mode[1]),
      x(size[2], origin[2], mode[2]);
  volume_fused<float>(input, out, z, y, x, cval, ns_per_element(size));
}

}  // namespace npfast
