// Names the calling thread (/proc/<pid>/task/<tid>/comm), so that a look at
// a running agent, and the footprint bench, can tell its threads apart: a
// new thread otherwise inherits its creator's name (a gRPC handler's, for
// the engine threads an Inject starts).
#pragma once

#include <pthread.h>

#include <string>

namespace chaos {

// Linux keeps 15 bytes of a thread's name; longer names are cut there.
inline void set_current_thread_name(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace chaos
