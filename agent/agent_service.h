// The chaos.v1.Agent gRPC service: a thin edge. Each request is converted
// into a validated C++ value (or INVALID_ARGUMENT naming the field), handed
// to the FaultRegistry, and its chaos::Status mapped 1:1 onto grpc::Status.
// No exception crosses into gRPC.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/fault_registry.h"
#include "agent/security/audit_log.h"
#include "agent/security/request_auth.h"
#include "agent/security/request_schema.h"
#include "chaos/v1/agent.grpc.pb.h"

namespace chaos::agent {

grpc::Status to_grpc_status(const Status& status);

// Proto -> command, checking everything that is not kind-specific.
StatusOr<InjectCommand> to_inject_command(const v1::InjectRequest& request);

struct AgentIdentity {
  std::string node_name;
  std::map<std::string, std::string> labels;
  std::vector<std::string> os_capabilities;
};

// Optional guards; null members are off (unit tests, loopback-only agents).
struct ServiceSecurity {
  const RequestAuthenticator* authenticator = nullptr;  // bearer token check
  AuditTrail* audit = nullptr;                          // audit log + metric
};

class AgentService final : public v1::Agent::Service {
 public:
  AgentService(FaultRegistry& registry, AgentIdentity identity, ServiceSecurity security = {});

  // Until ready (kinds registered, journal recovered) every call answers
  // UNAVAILABLE, so nothing is injected before leftovers are reverted.
  void set_ready(bool ready) { ready_ = ready; }
  // Audit records lost to an exception (the call was answered anyway).
  std::uint64_t audit_failures() const { return audit_failures_; }

  grpc::Status Capabilities(grpc::ServerContext* context, const v1::CapabilitiesRequest* request,
                            v1::CapabilitiesResponse* response) override;
  grpc::Status Inject(grpc::ServerContext* context, const v1::InjectRequest* request,
                      v1::InjectResponse* response) override;
  grpc::Status Revert(grpc::ServerContext* context, const v1::RevertRequest* request,
                      v1::RevertResponse* response) override;
  grpc::Status RevertAll(grpc::ServerContext* context, const v1::RevertAllRequest* request,
                         v1::RevertAllResponse* response) override;
  grpc::Status List(grpc::ServerContext* context, const v1::ListRequest* request,
                    v1::ListResponse* response) override;
  grpc::Status RenewLease(grpc::ServerContext* context, const v1::RenewLeaseRequest* request,
                          v1::RenewLeaseResponse* response) override;

 private:
  // Whether a successful call is audited: mutations always, reads only
  // when refused.
  enum class Audit { kAlways, kRefusals };

  // Authenticates, checks readiness, runs `handler` (no exception escapes)
  // and audits; `request` is summarised for the audit log.
  template <typename Handler>
  grpc::Status guarded(const grpc::ServerContext* context, const char* rpc, const google::protobuf::Message& request,
                       Audit audit, Handler&& handler);
  void audit(const grpc::ServerContext* context, const char* rpc, const google::protobuf::Message& request,
             const grpc::Status& status, const std::string& detail);

  FaultRegistry& registry_;
  AgentIdentity identity_;
  ServiceSecurity security_;
  // Taken from the descriptors at construction, before the start-up release.
  const RequestSchema request_schema_;
  const EnumSchema effect_state_names_;
  std::atomic<bool> ready_{false};
  std::atomic<std::uint64_t> audit_failures_{0};
};

}  // namespace chaos::agent
