// The zeroer: one background thread that clears freed big blocks ahead of the zeroed requests
// that will want them (see "Zero-ahead" in central.h), so that npfast.zeros and NumPy's calloc
// under the hook get a known-zero warm block instead of clearing one on the caller's core.
//
// Contract:
//   * It runs at SCHED_IDLE: only on a core nothing else wants, so it never takes a core from
//     the caller or from the thread pool's workers, and no call ever waits for it (a request
//     meanwhile takes another block, see central.h).
//   * It is used only while calls may run on >= 2 threads (available_threads(), so
//     npfast.set_num_threads(1) turns it off) and unless NPFAST_POOL_ZERO_AHEAD=0.
//   * The thread starts at the first block worth clearing; it is never joined (it sleeps on a
//     condition variable when there is nothing to clear). After fork() the child starts its
//     own when it needs one.
#pragma once

#include "src/memory/central.h"

namespace npfast {
namespace memory {

// Whether the zeroer may be used now (see the contract above).
bool zero_ahead_on();
// Called after cen->put() returned true.
void wake_zeroer(Central* cen);

// Tests that count OS calls exactly: turns zero-ahead off (or back on); off waits (up to 10 s)
// until the zeroer holds no block, so nothing changes the pool behind the test's back.
void set_zero_ahead_for_testing(bool on);

// fork() handlers (pool.cc holds the central mutex across fork; these hold the zeroer's).
void zeroer_before_fork();
void zeroer_after_fork_parent();
void zeroer_after_fork_child();

}  // namespace memory
}  // namespace npfast
