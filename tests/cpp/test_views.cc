// The view toolkit (src/core/views.h): Shape, checks and their messages, plane and row offsets,
// axis merging, and the strided copies on negative-stride, gapped and 0-d layouts.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/view.hpp"
#include "tests/cpp/view2d.h"
#include "src/core/views.h"

namespace npfast {
namespace {

// The element at a C-order flat index of v, by the definition of strides.
template <class T>
T element(const View& v, int64_t flat) {
  const char* p = static_cast<const char*>(v.data);
  for (int i = v.ndim - 1; i >= 0; --i) {
    p += (flat % v.shape[i]) * v.strides[i];
    flat /= v.shape[i];
  }
  T x;
  std::memcpy(&x, p, sizeof(T));
  return x;
}

template <class T>
std::string message_of(T&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Views, Shape) {
  float x[6];
  const View v = make_view(x, DType::f32, {2, 3}, {12, 4});
  const Shape s = shape_of(v);
  EXPECT_EQ(s.ndim, 2);
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s.size(), 6);
  EXPECT_TRUE(has_shape(v, Shape{2, {2, 3}}));
  EXPECT_FALSE(has_shape(v, Shape{2, {3, 2}}));
  EXPECT_FALSE(has_shape(v, Shape{1, {6}}));
  EXPECT_EQ(shape_str(Shape{1, {5}}), "(5,)");
  EXPECT_EQ(shape_str(Shape{}), "()");
  EXPECT_EQ(shape_str(v), "(2, 3)");
  EXPECT_EQ(shape_str(views::with_plane(v, 7, 8)), "(7, 8)");
}

TEST(Views, ChecksNameTheArgument) {
  float x[6];
  int64_t idx[6];
  const View v = make_view(x, DType::f32, {2, 3}, {12, 4});
  EXPECT_THROW(views::check_dtype(v, DType::f64, "out"), TypeError);
  EXPECT_EQ(message_of([&] { views::check_dtype(v, DType::f64, "out"); }),
            "out: dtype must be float64, got float32");
  EXPECT_EQ(message_of([&] { views::check_shape(v, Shape{2, {3, 2}}, "out"); }),
            "out: shape must be (3, 2), got (2, 3)");
  // check_out: the dtype first.
  EXPECT_THROW(views::check_out(v, DType::f64, Shape{1, {1}}, "out"), TypeError);
  EXPECT_NO_THROW(views::check_out(v, DType::f32, shape_of(v), "out"));
  EXPECT_THROW(views::check_float(make_view(idx, DType::i64, {6}, {8}), "input"), TypeError);
  const View i_ok = make_view(idx, DType::i64, {2, 3}, {24, 8});
  const View i_bad = make_view(idx, DType::i64, {3, 2}, {16, 8});
  EXPECT_NO_THROW(views::check_indices(i_ok, v, "input"));
  EXPECT_THROW(views::check_indices(v, v, "input"), TypeError);
  EXPECT_EQ(message_of([&] { views::check_indices(i_bad, v, "input"); }),
            "indices: shape must equal input's (2, 3), got (3, 2)");
}

TEST(Views, PlanesAndRows) {
  std::vector<float> buf(2 * 3 * 4 * 5);
  std::iota(buf.begin(), buf.end(), 0.0f);
  const View v = make_view(buf.data(), DType::f32, {2, 3, 4, 5}, {240, 80, 20, 4});
  EXPECT_EQ(views::plane_count(v), 6);
  EXPECT_EQ(views::plane_offset(v, 4), 80 * 4);  // plane (1, 1)
  EXPECT_EQ(views::row_offset(v, 13), 13 * 20);
  const View p = views::plane_view(v, 5);
  EXPECT_EQ(p.ndim, 2);
  EXPECT_EQ(element<float>(p, 0), 100.0f);
  const views::Planes planes(v);
  EXPECT_EQ(planes.count, 6);
  EXPECT_EQ(planes.H, 4);
  EXPECT_EQ(*reinterpret_cast<const float*>(planes.plane(5) + 2 * planes.sh + 3 * planes.sw),
            113.0f);
}

TEST(Views, MergeAxes) {
  std::vector<float> a(24), b(24);
  View va = make_view(a.data(), DType::f32, {2, 3, 4}, {48, 16, 4});
  View vb = make_view(b.data(), DType::f32, {2, 3, 4}, {48, 16, 4});
  views::merge_axes(&va, &vb);
  EXPECT_EQ(va.ndim, 1);
  EXPECT_EQ(va.shape[0], 24);
  // b transposed in its last two axes: nothing merges with the last axis.
  va = make_view(a.data(), DType::f32, {2, 3, 4}, {48, 16, 4});
  vb = make_view(b.data(), DType::f32, {2, 3, 4}, {48, 4, 12});
  views::merge_axes(&va, &vb);
  EXPECT_EQ(va.ndim, 3);
}

template <class T>
void round_trip(DType t) {
  // A (3, 4, 5) view with a negative outer stride and every other column of a wider buffer.
  std::vector<T> buf(3 * 4 * 10);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<T>(i % 120);
  const int64_t it = sizeof(T);
  const View v = make_view(buf.data() + 2 * 40, t, {3, 4, 5}, {-40 * it, 10 * it, 2 * it});
  std::vector<T> flat(60);
  views::copy_to_contiguous(v, flat.data());
  for (int64_t i = 0; i < 60; ++i) ASSERT_EQ(flat[i], element<T>(v, i)) << i;
  Buffer<char> keep;
  const View c = views::contiguous(v, &keep);
  EXPECT_TRUE(c.c_contiguous());
  EXPECT_EQ(std::memcmp(c.data, flat.data(), 60 * sizeof(T)), 0);
  // Back into the strided layout: every addressed element written, the others untouched.
  std::vector<T> out(buf.size(), T(-1));
  View o = v;
  o.data = out.data() + 2 * 40;
  views::copy_from_contiguous(flat.data(), o);
  for (int64_t i = 0; i < 60; ++i) ASSERT_EQ(element<T>(o, i), flat[i]) << i;
  size_t untouched = 0;
  for (T x : out) untouched += x == T(-1);
  EXPECT_EQ(untouched, buf.size() - 60);
}

TEST(Views, CopiesI8) { round_trip<int8_t>(DType::i8); }
TEST(Views, CopiesF32) { round_trip<float>(DType::f32); }
TEST(Views, CopiesF64) { round_trip<double>(DType::f64); }

TEST(Views, ContiguousIsANoOpWhenContiguous) {
  float x[6] = {1, 2, 3, 4, 5, 6};
  const View v = make_view(x, DType::f32, {2, 3}, {12, 4});
  Buffer<char> keep;
  EXPECT_EQ(views::contiguous(v, &keep).data, static_cast<void*>(x));
  EXPECT_EQ(keep.get(), nullptr);
  // 0-d: one element.
  const View s = make_view(x + 4, DType::f32, {}, {});
  float one = 0;
  views::copy_to_contiguous(s, &one);
  EXPECT_EQ(one, 5.0f);
}

}  // namespace
}  // namespace npfast
