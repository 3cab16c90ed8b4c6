// NPFAST_SANITIZED: defined in AddressSanitizer builds (GCC's __SANITIZE_ADDRESS__, clang's
// __has_feature). Kernels whose fully unrolled bodies take clang's ASan+UBSan+coverage build
// minutes per file keep their loops rolled there: the same operations in the same order, so
// the same values (corr2d's row kernels, rank's sorting networks).
#ifndef NPFAST_KERNELS_SANITIZED_H_
#define NPFAST_KERNELS_SANITIZED_H_

#if defined(__SANITIZE_ADDRESS__)
#define NPFAST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NPFAST_SANITIZED 1
#endif
#endif

#endif  // NPFAST_KERNELS_SANITIZED_H_
