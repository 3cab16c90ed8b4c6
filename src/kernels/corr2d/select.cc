// Kernel selection for the corr2d family.
#include <string>

#include "src/kernels/corr2d/corr2d.h"

namespace npfast {
namespace corr2d {

Shape shape_of(int kh, int kw) {
  if (kh == 3 && kw == 3) return k3x3;
  if (kh == 5 && kw == 5) return k5x5;
  if (kh == 7 && kw == 7) return k7x7;
  return kGeneral;
}

const char* shape_name(Shape s) {
  switch (s) {
    case k3x3:
      return "3x3";
    case k5x5:
      return "5x5";
    case k7x7:
      return "7x7";
    default:
      return "general";
  }
}

const Table* table_for(Isa isa) {
  switch (isa) {
#define NPFAST_CORR2D_TABLE(name, table) \
  case Isa::name:                        \
    return &table;
#include "src/kernels/corr2d/kernels.inc"
#undef NPFAST_CORR2D_TABLE
    default:
      return nullptr;
  }
}

namespace {
// The active ISA, or the nearest narrower one this build has a table for.
Isa table_isa() {
  Isa isa = active_isa();
  if (isa == Isa::neon && !table_for(isa)) return Isa::scalar;
  while (isa != Isa::scalar && !table_for(isa)) isa = static_cast<Isa>(static_cast<int>(isa) - 1);
  return isa;
}
}  // namespace

RowsFn<float> rows_kernel_f32(int kh, int kw) {
  return table_for(table_isa())->f32[shape_of(kh, kw)];
}
RowsFn<double> rows_kernel_f64(int kh, int kw) {
  return table_for(table_isa())->f64[shape_of(kh, kw)];
}

const char* kernel_name(bool f64, int kh, int kw) {
  static thread_local std::string name;
  name = std::string("corr2d_") + shape_name(shape_of(kh, kw)) + (f64 ? "_f64__" : "_f32__") +
         isa_name(table_isa());
  return name.c_str();
}

}  // namespace corr2d
}  // namespace npfast
