// np.matmul's broadcast batch dimensions around the 3-D matmul: batch axes that can be
// addressed with one stride in every operand are merged, the innermost merged axis becomes the
// batch of one strided matmul call, and the remaining ones are looped over.
#include <algorithm>
#include <string>

#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "src/core/views.h"
#include "src/ops/matmul.h"

namespace npfast {
namespace {

// The matrix (or vector) part of an operand: its last min(ndim, 2) axes.
View core(const View& v) {
  View c = v;
  const int drop = std::max(0, v.ndim - 2);
  c.ndim = v.ndim - drop;
  for (int i = 0; i < c.ndim; ++i) {
    c.shape[i] = v.shape[i + drop];
    c.strides[i] = v.strides[i + drop];
  }
  return c;
}

int batch_dims(const View& v) { return std::max(0, v.ndim - 2); }

// Shape of a's or b's batch axis i of nb (right-aligned); 1 where the operand has none.
int64_t batch_dim(const View& v, int nb, int i) {
  const int j = i - (nb - batch_dims(v));
  return j < 0 ? 1 : v.shape[j];
}
int64_t batch_stride(const View& v, int nb, int i) {
  const int j = i - (nb - batch_dims(v));
  return j < 0 || v.shape[j] == 1 ? 0 : v.strides[j];
}

}  // namespace

Shape matmul_nd_shape(const View& a, const View& b) {
  if (a.ndim < 1) throw ValueError("a: must have at least 1 dimension, got shape " + shape_str(a));
  if (b.ndim < 1) throw ValueError("b: must have at least 1 dimension, got shape " + shape_str(b));
  if (a.ndim <= 3 && b.ndim <= 3) return matmul_shape(a, b);
  try {
    matmul_shape(core(a), core(b));  // dtypes, and the inner dimensions
  } catch (const ValueError&) {      // reported with the full shapes
    ops::matmul_inner_mismatch(a, b, a.shape[a.ndim - 1], b.shape[b.ndim == 1 ? 0 : b.ndim - 2]);
  }
  const int nb = std::max(batch_dims(a), batch_dims(b));
  Shape s;
  for (int i = 0; i < nb; ++i) {
    const int64_t da = batch_dim(a, nb, i), db = batch_dim(b, nb, i);
    if (da != db && da != 1 && db != 1)
      ops::matmul_batch_mismatch(a, b, da, db, "batch dimensions do not broadcast");
    s.dims[s.ndim++] = da == 1 ? db : da;
  }
  if (a.ndim > 1) s.dims[s.ndim++] = a.shape[a.ndim - 2];
  if (b.ndim > 1) s.dims[s.ndim++] = b.shape[b.ndim - 1];
  return s;
}

void matmul_nd(const View& a, const View& b, const View& out) {
  const Shape shape = matmul_nd_shape(a, b);
  const int nb = std::max(batch_dims(a), batch_dims(b));
  if (nb <= 1 && a.ndim <= 3 && b.ndim <= 3) return matmul(a, b, out);
  views::check_out(out, a.dtype, shape, "out");
  if (out.empty()) return;
  // Batch axes (broadcast shape, and the byte strides of a, b, out), merged where one stride
  // walks both axes in all three.
  int64_t n[View::kMaxDims], sa[View::kMaxDims], sb[View::kMaxDims], so[View::kMaxDims];
  int m = 0;
  for (int i = 0; i < nb; ++i) {
    const int64_t len = shape[i], xa = batch_stride(a, nb, i), xb = batch_stride(b, nb, i);
    const int64_t xo = len == 1 ? 0 : out.strides[i];
    if (len == 1) continue;
    if (m > 0 && sa[m - 1] == xa * len && sb[m - 1] == xb * len && so[m - 1] == xo * len) {
      n[m - 1] *= len;
      sa[m - 1] = xa, sb[m - 1] = xb, so[m - 1] = xo;
      continue;
    }
    n[m] = len, sa[m] = xa, sb[m] = xb, so[m] = xo;
    ++m;
  }
  // One strided batch per index of the outer axes.
  const int64_t inner = m > 0 ? n[m - 1] : 1;
  const auto sub = [&](const View& v, int64_t stride, int64_t offset) {
    View s;
    s.dtype = v.dtype;
    s.data = static_cast<char*>(v.data) + offset;
    if (v.ndim == 1) {  // a vector operand has no batch
      s.ndim = 1;
      s.shape[0] = v.shape[0];
      s.strides[0] = v.strides[0];
      return s;
    }
    s.ndim = 3;
    s.shape[0] = inner;
    s.strides[0] = stride;
    for (int i = 0; i < 2; ++i) {
      s.shape[i + 1] = v.shape[v.ndim - 2 + i];
      s.strides[i + 1] = v.strides[v.ndim - 2 + i];
    }
    return s;
  };
  View o;
  o.dtype = out.dtype;
  o.ndim = 1 + (shape.ndim - nb);
  o.shape[0] = inner;
  o.strides[0] = m > 0 ? so[m - 1] : 0;
  for (int i = 1; i < o.ndim; ++i) {
    o.shape[i] = out.shape[nb + i - 1];
    o.strides[i] = out.strides[nb + i - 1];
  }
  int64_t idx[View::kMaxDims] = {};
  int64_t outer = 1;
  for (int i = 0; i + 1 < m; ++i) outer *= n[i];
  for (int64_t q = 0; q < outer; ++q) {
    int64_t oa = 0, ob = 0, oo = 0;
    for (int i = 0; i + 1 < m; ++i)
      oa += idx[i] * sa[i], ob += idx[i] * sb[i], oo += idx[i] * so[i];
    View os = o;
    os.data = static_cast<char*>(out.data) + oo;
    matmul(sub(a, m > 0 ? sa[m - 1] : 0, oa), sub(b, m > 0 ? sb[m - 1] : 0, ob), os);
    for (int i = m - 2; i >= 0 && ++idx[i] == n[i]; --i) idx[i] = 0;
  }
}

}  // namespace npfast
