// Runs one piece of socket work inside a container's network namespace.
// A socket belongs to the namespace of the thread that created it, and
// /proc/thread-self/net shows that thread's namespace; but the threads that
// call a fault (apply, the effect checks, revert) are the agent's pool
// threads, which must never be moved. So the work runs on a short-lived
// thread that enters the namespace, and the caller waits for it.
#pragma once

#include <functional>

#include "common/status.h"

namespace chaos::agent::dns {

// `network_namespace_fd` < 0: the caller's own namespace (a host fault),
// and `work` runs right on the calling thread.
Status run_in_network_namespace(int network_namespace_fd, const std::function<void()>& work);

}  // namespace chaos::agent::dns
