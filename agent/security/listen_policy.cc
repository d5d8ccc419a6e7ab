#include "agent/security/listen_policy.h"

#include "common/loopback.h"

namespace chaos::agent {

Status check_plaintext_listen(const std::string& listen, bool tls_enabled, bool forced) {
  if (tls_enabled || forced) return {};
  if (is_loopback_host(host_of_address(listen))) return {};
  return failed_precondition("refusing to serve gRPC in plaintext on non-loopback address " + listen +
                             ": anyone who reaches it could inject faults. Give --tls-cert, --tls-key and "
                             "--tls-client-ca (mTLS), listen on 127.0.0.1, or - only on an isolated "
                             "network - pass --insecure-plaintext-on-non-loopback");
}

}  // namespace chaos::agent
