// Where the agent may listen without TLS. Plaintext gRPC is accepted only on
// loopback (common/loopback.h): anybody who can reach the port could
// otherwise kill processes and partition the node. A loudly named flag
// overrides this for labs on an isolated network without certificates.
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::agent {

// OK when TLS is on, when `listen`'s host is loopback, or when forced;
// otherwise FAILED_PRECONDITION naming the address and the ways out.
Status check_plaintext_listen(const std::string& listen, bool tls_enabled, bool forced);

}  // namespace chaos::agent
