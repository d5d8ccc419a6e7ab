#include "agent/security/request_auth.h"

#include <grpc/grpc_security_constants.h>

#include "agent/security/bearer_token.h"

namespace chaos::agent {

namespace {

std::string first_property(const grpc::AuthContext& auth, const char* name) {
  const auto values = auth.FindPropertyValues(name);
  if (values.empty()) return "";
  return std::string(values.front().data(), values.front().size());
}

}  // namespace

std::string caller_identity(const grpc::AuthContext* auth) {
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "plaintext";
  std::string subject = first_property(*auth, GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subject.empty()) subject = first_property(*auth, GRPC_X509_CN_PROPERTY_NAME);
  return subject.empty() ? "authenticated-peer" : subject;
}

CallerInfo caller_of(const grpc::ServerContext& context) {
  const auto auth = context.auth_context();
  return {caller_identity(auth.get()), context.peer()};
}

std::string RequestAuthenticator::refusal(const grpc::ServerContext& context) const {
  if (!token_) return "";
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find("authorization");
  if (found == metadata.end()) return "missing bearer token (authorization metadata)";
  if (metadata.count("authorization") != 1) return "more than one authorization header";
  const std::string presented(found->second.data(), found->second.size());
  if (!bearer_token_matches(*token_, presented)) return "invalid bearer token";
  return "";
}

}  // namespace chaos::agent
