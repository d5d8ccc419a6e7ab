#include "agent/agent_service.h"

#include <cstdio>
#include <exception>

#include "agent/proto_convert.h"
#include "agent/security/request_summary.h"
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
    case StatusCode::kAborted: return grpc::StatusCode::ABORTED;
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

std::string code_name(grpc::StatusCode code) {
  static const char* const kNames[] = {"ok", "cancelled", "unknown", "invalid_argument", "deadline_exceeded",
                                       "not_found", "already_exists", "permission_denied", "resource_exhausted",
                                       "failed_precondition", "aborted", "out_of_range", "unimplemented",
                                       "internal", "unavailable", "data_loss", "unauthenticated"};
  const auto index = static_cast<std::size_t>(code);
  return index < std::size(kNames) ? kNames[index] : "unknown";
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
  switch (request.verify()) {
    case v1::VERIFY_MODE_UNSPECIFIED:
    case v1::VERIFY_MODE_REQUIRED: command.verify = VerifyMode::kRequired; break;
    case v1::VERIFY_MODE_BEST_EFFORT: command.verify = VerifyMode::kBestEffort; break;
    case v1::VERIFY_MODE_OFF: command.verify = VerifyMode::kOff; break;
    default: return invalid_argument("verify: unknown mode " + std::to_string(request.verify()));
  }
  return command;
}

AgentService::AgentService(FaultRegistry& registry, AgentIdentity identity, ServiceSecurity security)
    : registry_(registry),
      identity_(std::move(identity)),
      security_(security),
      request_schema_(RequestSchema::for_service(
          *google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(v1::Agent::service_full_name()))),
      effect_state_names_(EnumSchema::of(*v1::EffectState_descriptor())) {}

void AgentService::audit(const grpc::ServerContext* context, const char* rpc,
                         const google::protobuf::Message& request, const grpc::Status& status,
                         const std::string& detail) {
  if (security_.audit == nullptr) return;
  // Runs outside the handler's try: an exception here (bad_alloc while
  // summarising) must not cross into gRPC. The call's answer stands; the
  // lost record is counted and reported.
  try {
    const CallerInfo caller = caller_of(*context);
    const MessageSchema* request_type = request_schema_.request_of(rpc);
    security_.audit->record({std::chrono::system_clock::now(), caller.caller, caller.peer, rpc,
                             request_type != nullptr ? request_summary(*request_type, request)
                                                     : nlohmann::json{{"(no schema)", true}},
                             code_name(status.error_code()),
                             status.ok() ? detail : status.error_message()});
    return;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "chaos-agent: warning: cannot audit %s: %s\n", rpc, error.what());
  } catch (...) {
    std::fprintf(stderr, "chaos-agent: warning: cannot audit %s\n", rpc);
  }
  ++audit_failures_;
  try {
    security_.audit->lost(rpc);
  } catch (...) {  // counting needs memory too; audit_failures() still has it
  }
}

template <typename Handler>
grpc::Status AgentService::guarded(const grpc::ServerContext* context, const char* rpc,
                                   const google::protobuf::Message& request, Audit audit_when, Handler&& handler) {
  if (security_.authenticator != nullptr) {
    const std::string refusal = security_.authenticator->refusal(*context);
    if (!refusal.empty()) {
      const grpc::Status refused(grpc::StatusCode::UNAUTHENTICATED, refusal);
      audit(context, rpc, request, refused, "");
      return refused;
    }
  }
  if (!ready_) return {grpc::StatusCode::UNAVAILABLE, "agent is starting (reverting leftovers from the journal)"};
  grpc::Status status;
  std::string detail;
  try {
    status = to_grpc_status(handler(detail));
  } catch (const std::exception& error) {
    status = {grpc::StatusCode::INTERNAL, std::string("agent error: ") + error.what()};
  } catch (...) {
    status = {grpc::StatusCode::INTERNAL, "agent error"};
  }
  if (audit_when == Audit::kAlways || !status.ok()) audit(context, rpc, request, status, detail);
  return status;
}

grpc::Status AgentService::Capabilities(grpc::ServerContext* context, const v1::CapabilitiesRequest* request,
                                        v1::CapabilitiesResponse* response) {
  return guarded(context, "Capabilities", *request, Audit::kRefusals, [&](std::string&) -> Status {
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
    response->set_dry_run(true);
    response->set_verifies_effects(true);
    return {};
  });
}

grpc::Status AgentService::Inject(grpc::ServerContext* context, const v1::InjectRequest* request,
                                  v1::InjectResponse* response) {
  return guarded(context, "Inject", *request, Audit::kAlways, [&](std::string& detail) -> Status {
    CHAOS_ASSIGN_OR_RETURN(const InjectCommand command, to_inject_command(*request));
    if (request->dry_run()) {
      CHAOS_RETURN_IF_ERROR(registry_.check_inject(command));
      registry_.prepare_leftover_check(command.experiment_id);
      detail = "dry run: would apply";
      return {};
    }
    CHAOS_ASSIGN_OR_RETURN(*response->mutable_fault(), registry_.inject(command));
    detail = "fault " + response->fault().id() + ", " + effect_state_names_.name_of(response->fault().effect());
    return {};
  });
}

grpc::Status AgentService::Revert(grpc::ServerContext* context, const v1::RevertRequest* request,
                                  v1::RevertResponse* response) {
  return guarded(context, "Revert", *request, Audit::kAlways, [&](std::string&) -> Status {
    CHAOS_RETURN_IF_ERROR(check_id(request->fault_id(), "fault_id"));
    CHAOS_ASSIGN_OR_RETURN(RevertOutcome outcome, registry_.revert(request->fault_id()));
    *response->mutable_fault() = std::move(outcome.fault);
    response->set_already_reverted(outcome.already_reverted);
    return {};
  });
}

grpc::Status AgentService::RevertAll(grpc::ServerContext* context, const v1::RevertAllRequest* request,
                                     v1::RevertAllResponse* response) {
  return guarded(context, "RevertAll", *request, Audit::kAlways, [&](std::string& detail) -> Status {
    CHAOS_RETURN_IF_ERROR(check_id(request->experiment_id(), "experiment_id"));
    std::string failed;
    for (auto& fault : registry_.revert_all(request->experiment_id())) {
      if (fault.state() != v1::FAULT_STATE_REVERTED) failed += " " + fault.id();
      *response->add_faults() = std::move(fault);
    }
    detail = std::to_string(response->faults_size()) + " fault(s)" +
             (failed.empty() ? ", all reverted" : "; NOT reverted:" + failed);
    if (auto leftovers = registry_.check_leftovers(request->experiment_id())) {
      *response->mutable_leftovers() = std::move(*leftovers);
      if (response->leftovers().leftovers_size() > 0) {
        detail += "; " + std::to_string(response->leftovers().leftovers_size()) + " LEFTOVER(S)";
      }
    }
    return {};
  });
}

grpc::Status AgentService::List(grpc::ServerContext* context, const v1::ListRequest* request,
                                v1::ListResponse* response) {
  return guarded(context, "List", *request, Audit::kRefusals, [&](std::string&) -> Status {
    for (auto& fault : registry_.list(request->experiment_id(), request->include_ended())) {
      *response->add_faults() = std::move(fault);
    }
    return {};
  });
}

grpc::Status AgentService::RenewLease(grpc::ServerContext* context, const v1::RenewLeaseRequest* request,
                                      v1::RenewLeaseResponse* response) {
  return guarded(context, "RenewLease", *request, Audit::kRefusals, [&](std::string&) -> Status {
    CHAOS_RETURN_IF_ERROR(check_id(request->lease_id(), "lease_id"));
    CHAOS_ASSIGN_OR_RETURN(const Duration ttl, from_proto_duration(request->ttl(), "ttl"));
    CHAOS_ASSIGN_OR_RETURN(const LeaseRenewal renewal, registry_.renew_lease(request->lease_id(), ttl));
    *response->mutable_expires_at() = to_proto_timestamp(renewal.expires_at);
    response->set_live_faults(renewal.live_faults);
    return {};
  });
}

}  // namespace chaos::agent
