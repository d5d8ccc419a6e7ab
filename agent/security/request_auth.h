// Who is calling, and may they. With mTLS, gRPC has already refused any
// client without a certificate from our CA before a handler runs; here we
// name the caller (certificate subject) for the audit log and check the
// optional bearer token in the `authorization` metadata.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

namespace chaos::agent {

struct CallerInfo {
  std::string caller;  // "CN=chaosctl,O=chaos" or "plaintext"
  std::string peer;    // gRPC peer string
};

// The x509 subject of a verified peer (falling back to its common name), or
// "plaintext" when the channel carries no certificate.
std::string caller_identity(const grpc::AuthContext* auth);

CallerInfo caller_of(const grpc::ServerContext& context);

class RequestAuthenticator {
 public:
  // No token: every caller that passed TLS (or loopback plaintext) is allowed.
  explicit RequestAuthenticator(std::optional<std::string> token) : token_(std::move(token)) {}

  // Empty when allowed, otherwise the reason (never echoing the token).
  std::string refusal(const grpc::ServerContext& context) const;

  bool requires_token() const { return token_.has_value(); }

 private:
  std::optional<std::string> token_;
};

}  // namespace chaos::agent
