// gRPC server credentials from the agent's TLS files: mTLS that requires
// and verifies a client certificate chaining to the configured CA, or
// plaintext when no TLS files are given (loopback, see listen_policy.h).
#pragma once

#include <grpcpp/security/server_credentials.h>

#include <memory>

#include "agent/agent_config.h"
#include "common/status.h"

namespace chaos::agent {

// Reads a whole PEM file; refuses a missing, empty or non-PEM file.
StatusOr<std::string> read_pem_file(const std::string& path, const std::string& what);

StatusOr<std::shared_ptr<grpc::ServerCredentials>> make_server_credentials(const TlsFiles& tls);

}  // namespace chaos::agent
