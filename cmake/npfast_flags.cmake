# Compiler flags shared by every npfast target.
#
# ISA flags are scoped to single files by name, never to a whole target: a file called
# x86_avx2.cc is compiled for AVX2+FMA, x86_avx512.cc for AVX-512 (F/BW/DQ/VL), and every other
# file for baseline x86-64 (or the architecture's baseline). What ships therefore runs on any
# x86-64; the dispatcher picks the widest ISA the CPU supports at run time.

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  set(NPFAST_X86 ON)
else()
  set(NPFAST_X86 OFF)
endif()

set(NPFAST_FLAGS_AVX2 -mavx2 -mfma -mf16c -mbmi2)
set(NPFAST_FLAGS_AVX512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma -mf16c -mbmi2)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized (their _mm512_undefined idiom).
  list(APPEND NPFAST_FLAGS_AVX512 -Wno-maybe-uninitialized)
endif()

function(npfast_scope_isa_flags sources)
  foreach(src IN LISTS sources)
    get_filename_component(name ${src} NAME)
    if(name MATCHES "^x86_avx512")
      if(NOT NPFAST_X86)
        message(FATAL_ERROR "x86 source ${src} in a non-x86 build")
      endif()
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NPFAST_FLAGS_AVX512}")
    elseif(name MATCHES "^x86_avx2")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${NPFAST_FLAGS_AVX2}")
    endif()
  endforeach()
endfunction()

# Warnings (errors in CI) and sanitizers.
function(npfast_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(NPFAST_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(NPFAST_SANITIZE)
  add_compile_options(-fsanitize=${NPFAST_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${NPFAST_SANITIZE})
endif()

# Floating point: no -ffast-math anywhere (NaN/inf must propagate as NumPy does). FMA
# contraction is allowed only where a kernel writes an fma explicitly.
add_compile_options(-ffp-contract=off)
