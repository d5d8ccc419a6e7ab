// The agent's descriptor budget. A proxied connection holds up to six
// descriptors (two sockets, two pipes of two ends each), and the soft
// RLIMIT_NOFILE many systems start a process with (1024) runs out at about
// 170 of them; the hard limit is what the administrator allows, so the
// agent raises its soft limit to it at start.
#pragma once

#include <sys/resource.h>

#include "common/status.h"

namespace chaos::agent {

struct OpenFileLimit {
  rlim_t before = 0;  // the soft limit found
  rlim_t after = 0;   // the soft limit now (the hard limit)
};

// Raises the soft RLIMIT_NOFILE to the hard one; an error names the call.
StatusOr<OpenFileLimit> raise_open_file_limit();

}  // namespace chaos::agent
