#include "agent/agent_service.h"

#include "agent/proto_convert.h"
#include "common/version.h"
#include "proto/fault_kinds.h"

namespace chaos::agent {

namespace {

// Ids and names end up in file names, metrics labels and logs.
constexpr std::size_t kMaxIdLength = 256;

grpc::StatusCode grpc_code(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kPermissionDenied: return grpc::StatusCode::PERMISSION_DENIED;
    case StatusCode::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kUnimplemented: return grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kCancelled: return grpc::StatusCode::CANCELLED;
    case StatusCode::kInternal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

Status check_id(const std::string& value, const std::string& field) {
  if (value.size() > kMaxIdLength) {
    return invalid_argument(field + ": longer than " + std::to_string(kMaxIdLength) + " characters");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return invalid_argument(field + ": contains control characters");
  }
  return {};
}

}  // namespace

grpc::Status to_grpc_status(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return {grpc_code(status.code()), status.message()};
}

StatusOr<InjectCommand> to_inject_command(const v1::InjectRequest& request) {
  InjectCommand command;
  CHAOS_RETURN_IF_ERROR(check_id(request.experiment_id(), "experiment_id"));
  CHAOS_RETURN_IF_ERROR(check_id(request.lease_id(), "lease_id"));
  CHAOS_RETURN_IF_ERROR(check_id(request.request_id(), "request_id"));
  if (!request.has_spec() || request.spec().kind_case() == v1::FaultSpec::KIND_NOT_SET) {
    return invalid_argument("spec: required (set exactly one fault kind)");
  }
  if (!request.has_duration()) return invalid_argument("duration: required");
  CHAOS_ASSIGN_OR_RETURN(command.duration, from_proto_duration(request.duration(), "duration"));
  if (command.duration.count() <= 0) return invalid_argument("duration: must be positive");
  CHAOS_ASSIGN_OR_RETURN(command.lease_ttl, from_proto_duration(request.lease_ttl(), "lease_ttl"));
  if (command.lease_ttl.count() < 0) return invalid_argument("lease_ttl: must not be negative");
  command.experiment_id = request.experiment_id();
  command.lease_id = request.lease_id();
  command.request_id = request.request_id();
  command.spec = request.spec();
  return command;
}

AgentService::AgentService(FaultRegistry& registry, AgentIdentity identity)
    : registry_(registry), identity_(std::move(identity)) {}

template <typename Handler>
grpc::Status AgentService::guarded(Handler&& handler) {
  if (!ready_) return {grpc::StatusCode::UNAVAILABLE, "agent is starting (reverting leftovers from the journal)"};
  try {
    return to_grpc_status(handler());
  } catch (const std::exception& error) {
    return {grpc::StatusCode::INTERNAL, std::string("agent error: ") + error.what()};
  } catch (...) {
    return {grpc::StatusCode::INTERNAL, "agent error"};
  }
}

grpc::Status AgentService::Capabilities(grpc::ServerContext*, const v1::CapabilitiesRequest*,
                                        v1::CapabilitiesResponse* response) {
  return guarded([&]() -> Status {
    response->set_api_version(1);
    response->set_agent_version(kVersion);
    response->set_node_name(identity_.node_name);
    for (const auto& [key, value] : identity_.labels) (*response->mutable_labels())[key] = value;
    for (const FaultKind* kind : registry_.kinds()) {
      response->add_fault_kinds(kind->name());
      // The delay kind carries the netem-or-NFQUEUE choice; bandwidth (tbf)
      // and partition (nftables) use the same backend on every kernel.
      if (kind->name() == "network.delay") response->set_network_backend(kind->backend());
    }
    for (const auto& capability : identity_.os_capabilities) response->add_os_capabilities(capability);
    *response->mutable_max_fault_duration() = to_proto_duration(registry_.policy().max_duration);
    return {};
  });
}

grpc::Status AgentService::Inject(grpc::ServerContext*, const v1::InjectRequest* request,
                                  v1::InjectResponse* response) {
  return guarded([&]() -> Status {
    CHAOS_ASSIGN_OR_RETURN(const InjectCommand command, to_inject_command(*request));
    CHAOS_ASSIGN_OR_RETURN(*response->mutable_fault(), registry_.inject(command));
    return {};
  });
}

grpc::Status AgentService::Revert(grpc::ServerContext*, const v1::RevertRequest* request,
                                  v1::RevertResponse* response) {
  return guarded([&]() -> Status {
    CHAOS_RETURN_IF_ERROR(check_id(request->fault_id(), "fault_id"));
    CHAOS_ASSIGN_OR_RETURN(RevertOutcome outcome, registry_.revert(request->fault_id()));
    *response->mutable_fault() = std::move(outcome.fault);
    response->set_already_reverted(outcome.already_reverted);
    return {};
  });
}

grpc::Status AgentService::RevertAll(grpc::ServerContext*, const v1::RevertAllRequest* request,
                                     v1::RevertAllResponse* response) {
  return guarded([&]() -> Status {
    CHAOS_RETURN_IF_ERROR(check_id(request->experiment_id(), "experiment_id"));
    for (auto& fault : registry_.revert_all(request->experiment_id())) *response->add_faults() = std::move(fault);
    return {};
  });
}

grpc::Status AgentService::List(grpc::ServerContext*, const v1::ListRequest* request, v1::ListResponse* response) {
  return guarded([&]() -> Status {
    for (auto& fault : registry_.list(request->experiment_id(), request->include_ended())) {
      *response->add_faults() = std::move(fault);
    }
    return {};
  });
}

grpc::Status AgentService::RenewLease(grpc::ServerContext*, const v1::RenewLeaseRequest* request,
                                      v1::RenewLeaseResponse* response) {
  return guarded([&]() -> Status {
    CHAOS_RETURN_IF_ERROR(check_id(request->lease_id(), "lease_id"));
    CHAOS_ASSIGN_OR_RETURN(const Duration ttl, from_proto_duration(request->ttl(), "ttl"));
    CHAOS_ASSIGN_OR_RETURN(const LeaseRenewal renewal, registry_.renew_lease(request->lease_id(), ttl));
    *response->mutable_expires_at() = to_proto_timestamp(renewal.expires_at);
    response->set_live_faults(renewal.live_faults);
    return {};
  });
}

}  // namespace chaos::agent
