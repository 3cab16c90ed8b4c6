// The kernel registry: which table of kernels each family runs, resolved once per ISA change.
//
// Two kinds of registry lines, each expanded by macros at every place that needs them:
//   src/core/kernels.inc              NPFAST_FAMILY(family) and NPFAST_TABLE(family, isa): the
//                                     families and the ISAs each is compiled for.
//   src/kernels/<family>/kernels.inc  NPFAST_KERNEL(dtype, op, tile, Fn, simd, scalar): one line
//                                     per kernel of the family, expanded into the fields of
//                                     `family::Table` (NPFAST_KERNEL_FIELD), every ISA's table
//                                     (NPFAST_KERNEL_SIMD in generic.h, NPFAST_KERNEL_SCALAR in
//                                     reference.cc) and the kernel's name.
// A kernel's field and name follow one convention (docs/naming.md): dtype, op, tile, then the
// ISA after two underscores: the field `f32_max_pool` of table_avx2 is `f32_max_pool__avx2`.
//
// When the active ISA is set (at start-up from NPFAST_ISA, or by set_active_isa), the registry
// switches to that ISA's snapshot: for each family the table of that ISA, or of the nearest
// narrower one the family has (scalar always exists), and the names npfast.config() prints.
// Snapshots are built once, never change and are never freed; operators read the current one
// through one atomic pointer, so a lookup is a load and an index.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "npfast/dispatch.hpp"

// Each family's table type and per-ISA tables, declared from the table lines.
#define NPFAST_FAMILY(family) \
  namespace npfast {          \
  namespace family {          \
  struct Table;               \
  }                           \
  }
#define NPFAST_TABLE(family, isa) \
  namespace npfast {              \
  namespace family {              \
  extern const Table table_##isa; \
  }                               \
  }
#include "src/core/kernels.inc"
#undef NPFAST_FAMILY
#undef NPFAST_TABLE

// Expansions of a family's kernel lines NPFAST_KERNEL(dtype, op, tile, Fn, simd, scalar):
// `tile` is empty or starts with an underscore (`_3x3`); `simd` is the kernel in the
// namespace generic.h compiles per ISA, `scalar` the one in reference.cc (parenthesize a
// template-id with commas: `(direct<float, 8, 3, 8>)`).
#define NPFAST_KERNEL_FIELD(dtype, op, tile, Fn, simd, scalar) Fn dtype##_##op##tile;
#define NPFAST_KERNEL_SIMD(dtype, op, tile, Fn, simd, scalar) simd,
#define NPFAST_KERNEL_SCALAR(dtype, op, tile, Fn, simd, scalar) scalar,
// A kernel's name without the ISA, from its table field: NPFAST_KERNEL_BASE(pool::Table,
// f32_max_pool) is "f32_max_pool" (a misspelt field does not compile).
#define NPFAST_KERNEL_BASE(Table, field) ((void)&Table::field, #field)

namespace npfast {
namespace registry {

enum Family : int {
#define NPFAST_FAMILY(family) k_##family,
#define NPFAST_TABLE(family, isa)
#include "src/core/kernels.inc"
#undef NPFAST_FAMILY
#undef NPFAST_TABLE
  kNumFamilies
};

// The family of a table type.
template <class Table>
struct FamilyOf;
#define NPFAST_FAMILY(family)                   \
  template <>                                   \
  struct FamilyOf<family::Table> {              \
    static constexpr Family value = k_##family; \
  };
#define NPFAST_TABLE(family, isa)
#include "src/core/kernels.inc"
#undef NPFAST_FAMILY
#undef NPFAST_TABLE

struct Snapshot {
  Isa isa;                          // the active ISA
  const void* table[kNumFamilies];  // each family's table (a family::Table)
  Isa table_isa[kNumFamilies];      // its ISA: `isa` or the nearest narrower one
  std::vector<std::pair<std::string, std::string>> names;  // (operator, kernel), for config()
};

// The snapshot in use now.
const Snapshot& active();
// Switches to `isa`'s snapshot (set_active_isa checks the CPU first).
void activate(Isa isa);
// The table line's table, or null when the family has none for exactly `isa`.
const void* table(Family f, Isa isa);

}  // namespace registry

// The ISA at start-up: the widest the CPU runs, capped by NPFAST_ISA (cpu.cc).
Isa initial_isa();

// Whether to take the choices measured best on AMD CPUs (Zen 5) where they differ from those
// of the Xeon the defaults were tuned on: true when the CPU is an AuthenticAMD, or forced by
// NPFAST_TUNE=amd / intel (cpu.cc). Read by the operators, never by kernels (which take the
// choice as an argument): the min / max filter's two-row folds' prefetch target
// (ndimage_rank.cc; docs/ndimage-speed.md "stream5"). Choices that follow the cache's size use
// l3_cache_bytes() (npfast/dispatch.hpp) instead.
bool tune_amd();

// The one kernel lookup: the table `Table`'s family uses now (the active ISA's or the nearest
// narrower one's).
template <class Table>
const Table& kernels() {
  return *static_cast<const Table*>(registry::active().table[registry::FamilyOf<Table>::value]);
}
// The family's table for exactly `isa`, or null when this build has none (tests, benchmarks).
template <class Table>
const Table* kernels(Isa isa) {
  return static_cast<const Table*>(registry::table(registry::FamilyOf<Table>::value, isa));
}
// The ISA of kernels<Table>() now.
template <class Table>
Isa kernels_isa() {
  return registry::active().table_isa[registry::FamilyOf<Table>::value];
}
// The ISAs this CPU runs for which `Table`'s family has its own table, narrowest first: what
// the per-ISA tests and benchmarks instantiate over.
template <class Table>
std::vector<Isa> kernel_isas() {
  std::vector<Isa> r;
  for (Isa isa : isas_available())
    if (kernels<Table>(isa)) r.push_back(isa);
  return r;
}

// The one float/double picker: of<T>(t.f32_x, t.f64_x) is the entry for element type T.
template <class T, class F32, class F64>
constexpr const auto& of(const F32& f32, const F64& f64) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "of<T>: float or double");
  if constexpr (sizeof(T) == 4)
    return f32;
  else
    return f64;
}

// "f32_max_pool" on avx2 -> "f32_max_pool__avx2" (docs/naming.md).
std::string kernel_name(const std::string& base, Isa isa);

}  // namespace npfast
