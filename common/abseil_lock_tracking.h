// Debian's Abseil tracks lock order for deadlock reports: each of gRPC's
// mutex acquisitions updates a global lock graph, a few per cent of a
// process's CPU per call (bench/README.md, "The agents' own work per
// inject, part 3"). A diagnostic for developers, not for a deployed agent
// or orchestrator. Header-only: only programs that link gRPC include it.
#pragma once

#include <absl/synchronization/mutex.h>

namespace chaos {

// First thing in main(), before any thread takes a mutex.
inline void skip_abseil_lock_order_tracking() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace chaos
