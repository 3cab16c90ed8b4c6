// SIMD body of `<t>_corr1d_rows` (filter1d.h), included by generic.h inside its namespaces
// (after madd). No include guard: one inclusion per ISA file.
//
// corr1d's contract, several output rows at a time: the symmetric sum of output row p at tap
// j reads rows p + j and p - j from its centre, so for a block of P rows the P "lo" inputs
// and the P "hi" inputs slide by one row per tap: two row loads per tap for P outputs, where
// corr1d loads two per output. The loads were what bounded corr1d across lines (a volume's
// passes across planes and rows, ndimage_volume.cc); the sum of every element is the same
// sequence of operations, so the bits are corr1d's.

// P rows: 8 on AVX-512 (3 x 8 vectors of 32 registers), 4 on AVX2 (3 x 4 of 16). On AVX-512
// 10 and 12 rows spill (the 16 x 4000 17-tap band: 3.5 and 3.3 G elements/s against 4.3).
constexpr int kRowBlock = kLanes<float> == 16 ? 8 : 4;

// Rows [0, P) of the block whose centre rows are x[0..P), lanes [l, l + L) (or the m lanes
// of a masked tail); Sym > 0 adds the pair, Sym < 0 subtracts. C > 0 is the radius known at
// compile time (c == C): the tap loop unrolls whole, so the sliding lo / hi windows are
// register names, not 2 (P - 1) vector moves per tap; C == 0 takes c at run time.
template <class T, int P, int Sym, bool Masked, int C = 0, bool Stream = false>
inline void corr1d_rows_block(const T* const* x, T* const* out, int64_t c_rt, const T* fw,
                              int64_t l, int m) {
  const int64_t c = C > 0 ? C : c_rt;
  auto ld = [&](const T* p) { return Masked ? loadn(p + l, m) : load(p + l); };
  V<T> acc[P], lo[P], hi[P];
  const V<T> w0 = set1<T>(fw[0]);
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    acc[p] = mul(ld(x[p]), w0);
    lo[p] = ld(x[p - c]);
    hi[p] = ld(x[p + c]);
  }
  auto tap = [&](int64_t j) {
    const V<T> wj = set1<T>(fw[j]);
#pragma GCC unroll 16
    for (int p = 0; p < P; ++p)
      acc[p] = madd<T>(Sym > 0 ? add(lo[p], hi[p]) : sub(lo[p], hi[p]), wj, acc[p]);
    if (j + 1 < 0) {
      // Tap j + 1: row p's lo is row p + 1's lo now, its hi row p - 1's.
#pragma GCC unroll 16
      for (int p = 0; p + 1 < P; ++p) {
        lo[p] = lo[p + 1];
        hi[P - 1 - p] = hi[P - 2 - p];
      }
      lo[P - 1] = ld(x[P + j]);
      hi[0] = ld(x[-j - 1]);
    }
  };
  if constexpr (C > 0) {
#pragma GCC unroll 16
    for (int64_t j = -C; j < 0; ++j) tap(j);
  } else {
    for (int64_t j = -c; j < 0; ++j) tap(j);
  }
#pragma GCC unroll 16
  for (int p = 0; p < P; ++p) {
    if (Masked)
      storen(out[p] + l, acc[p], m);
    else if (Stream && reinterpret_cast<uintptr_t>(out[p] + l) % (kLanes<T> * sizeof(T)) == 0)
      stream(out[p] + l, acc[p]);
    else
      store(out[p] + l, acc[p]);
  }
}

// Lanes [l0, l1) of the block's P rows: whole vectors, then a masked tail.
template <class T, int P, int Sym, int C = 0, bool Stream = false>
inline void corr1d_rows_of(const T* const* x, T* const* out, int64_t l0, int64_t l1, int64_t c,
                           const T* fw) {
  constexpr int L = kLanes<T>;
  int64_t l = l0;
  for (; l + L <= l1; l += L) corr1d_rows_block<T, P, Sym, false, C, Stream>(x, out, c, fw, l, 0);
  if (l < l1) corr1d_rows_block<T, P, Sym, true>(x, out, c, fw, l, static_cast<int>(l1 - l));
}

// Radii with a compile-time body for the full row block (gaussian_filter's radius 4 sigma:
// sigma up to 3), then the run-time loop.
constexpr int kMaxRowsRadius = 12;
template <class T, int Sym, bool Stream, int C = 1>
inline void corr1d_rows_full(const T* const* x, T* const* out, int64_t l0, int64_t l1, int64_t c,
                             const T* fw) {
  if (c == C) return corr1d_rows_of<T, kRowBlock, Sym, C, Stream>(x, out, l0, l1, c, fw);
  if constexpr (C < kMaxRowsRadius)
    return corr1d_rows_full<T, Sym, Stream, C + 1>(x, out, l0, l1, c, fw);
  corr1d_rows_of<T, kRowBlock, Sym, 0, Stream>(x, out, l0, l1, c, fw);
}

// Lanes go in chunks of kRowsChunk: the rows the blocks of one chunk read (n + 2c pieces of
// 1 KiB for float) stay in L1 from one block of rows to the next, which reads 2c of the
// previous block's rows again (over whole 16 KiB rows they came from L2 each time). Radius 1
// (sobel's [1, 2, 1]) re-reads 2 rows: it keeps whole rows and the run-time loop, which were
// faster inside sobel (1024^2 and 2048^2: 0.39-0.43 ns per pixel against 0.43-0.52).
constexpr int64_t kRowsChunk = 256;
constexpr int64_t kChunkedRadius = 2;

template <class T, int Sym, bool Stream = false>
void corr1d_rows_sym(const T* const* in, T* const* out, int64_t n, int64_t lanes, int64_t c,
                     const T* fw) {
  const bool chunked = c >= kChunkedRadius;
  const int64_t chunk = chunked ? kRowsChunk : lanes;
  // Lanes [0, h) first where all rows share one offset into a 64-byte line, so that the vectors
  // after them start on lines (head_to_line): streamed, the output rows' (they then stream);
  // otherwise the input rows', whose loads then no longer split across lines (two a tap per
  // block of rows; a split 512-bit load costs Zen 5 twice an aligned one). NumPy's large arrays
  // start 16 bytes past a line: gaussian sigma 2 float32 reading its input in place, 1 thread
  // CPU ns/px, 512^2 warm 0.42 -> 0.40, 1504^2 0.40 -> 0.38 (docs/ndimage-speed.md "gauss6").
  int64_t h = 0;
  if (n > 0) {
    T const* const* rows = Stream ? out : in;
    const int64_t count = Stream ? n : n + 2 * c;
    h = head_to_line(rows[0], lanes);
    for (int64_t i = 1; h > 0 && i < count; ++i)
      if (head_to_line(rows[i], lanes) != h) h = 0;
  }
  // Lanes [l0, l1) of every row.
  auto lanes_of = [&](int64_t l0, int64_t l1) {
    int64_t i = 0;
    for (; i + kRowBlock <= n; i += kRowBlock) {
      if (chunked)
        corr1d_rows_full<T, Sym, Stream>(in + i + c, out + i, l0, l1, c, fw);
      else
        corr1d_rows_of<T, kRowBlock, Sym, 0, Stream>(in + i + c, out + i, l0, l1, c, fw);
    }
    for (; i + kRowBlock / 2 <= n; i += kRowBlock / 2)
      corr1d_rows_of<T, kRowBlock / 2, Sym, 0, Stream>(in + i + c, out + i, l0, l1, c, fw);
    for (; i + 2 <= n; i += 2)
      corr1d_rows_of<T, 2, Sym, 0, Stream>(in + i + c, out + i, l0, l1, c, fw);
    for (; i < n; ++i) corr1d_rows_of<T, 1, Sym, 0, Stream>(in + i + c, out + i, l0, l1, c, fw);
  };
  int64_t l0 = 0;
  if (h > 0) {
    // The head as whole vectors where the rows hold them (their lanes past h are made again
    // after them, the same values): the masked head, with the radius read at run time, was 3%
    // of gaussian sigma 2 at 4000^2.
    const int64_t whole = (h + kLanes<T> - 1) / kLanes<T> * kLanes<T>;
    lanes_of(0, whole <= lanes ? whole : h);
    l0 = h;
  }
  for (int64_t l1; l0 < lanes; l0 = l1) {
    l1 = l0 + chunk < lanes ? l0 + chunk : lanes;
    lanes_of(l0, l1);
  }
  if (Stream) stream_fence();
}

// Weights without symmetry (even sizes, any odd vector) have no pairs to slide: corr1d.
template <class T>
void corr1d_rows(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w,
                 int64_t size, int sym) {
  const int64_t c = size / 2;
  if (sym > 0)
    corr1d_rows_sym<T, 1>(in, out, n, lanes, c, w + c);
  else if (sym < 0)
    corr1d_rows_sym<T, -1>(in, out, n, lanes, c, w + c);
  else
    corr1d<T>(in, out, n, lanes, w, size, sym);
}

// corr1d_rows with its aligned outputs stored non-temporally (filter1d.h: `_nt`): the same
// sums, so corr1d_nt's bits.
template <class T>
void corr1d_rows_nt(const T* const* in, T* const* out, int64_t n, int64_t lanes, const T* w,
                    int64_t size, int sym) {
  const int64_t c = size / 2;
  if (sym > 0)
    corr1d_rows_sym<T, 1, true>(in, out, n, lanes, c, w + c);
  else if (sym < 0)
    corr1d_rows_sym<T, -1, true>(in, out, n, lanes, c, w + c);
  else
    corr1d_nt<T>(in, out, n, lanes, w, size, sym);
}
