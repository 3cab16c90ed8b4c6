// One step of a spin-wait loop: tells the core this thread is waiting (the x86 pause; yield on
// Arm), so a sibling hyperthread gets the pipeline and the loop does not flood the memory
// system with loads. The thread pool and the in-job waits of the ops use it.
#pragma once

namespace npfast {

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace npfast
