#include "orchestrator/agent_client.h"

#include <grpcpp/grpcpp.h>

#include "chaos/v1/agent.grpc.pb.h"
#include "orchestrator/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

StatusCode from_grpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT: return StatusCode::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND: return StatusCode::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS: return StatusCode::kAlreadyExists;
    case grpc::StatusCode::PERMISSION_DENIED: return StatusCode::kPermissionDenied;
    case grpc::StatusCode::FAILED_PRECONDITION: return StatusCode::kFailedPrecondition;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return StatusCode::kResourceExhausted;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return StatusCode::kDeadlineExceeded;
    case grpc::StatusCode::UNAVAILABLE: return StatusCode::kUnavailable;
    case grpc::StatusCode::UNIMPLEMENTED: return StatusCode::kUnimplemented;
    case grpc::StatusCode::CANCELLED: return StatusCode::kCancelled;
    default: return StatusCode::kInternal;
  }
}

class GrpcAgentClient final : public AgentClient {
 public:
  GrpcAgentClient(std::shared_ptr<grpc::Channel> channel, std::string address,
                  std::chrono::milliseconds deadline)
      : stub_(v1::Agent::NewStub(channel)), address_(std::move(address)), deadline_(deadline) {}

  const std::string& address() const override { return address_; }

  StatusOr<v1::CapabilitiesResponse> capabilities() override {
    v1::CapabilitiesResponse response;
    return call("Capabilities", v1::CapabilitiesRequest{}, response, &v1::Agent::Stub::Capabilities);
  }

  StatusOr<v1::Fault> inject(const v1::InjectRequest& request) override {
    v1::InjectResponse response;
    CHAOS_ASSIGN_OR_RETURN(auto answer, call("Inject", request, response, &v1::Agent::Stub::Inject));
    return answer.fault();
  }

  StatusOr<v1::RevertResponse> revert(const std::string& fault_id) override {
    v1::RevertRequest request;
    request.set_fault_id(fault_id);
    v1::RevertResponse response;
    return call("Revert", request, response, &v1::Agent::Stub::Revert);
  }

  StatusOr<std::vector<v1::Fault>> revert_all(const std::string& experiment_id) override {
    v1::RevertAllRequest request;
    request.set_experiment_id(experiment_id);
    v1::RevertAllResponse response;
    CHAOS_ASSIGN_OR_RETURN(auto answer, call("RevertAll", request, response, &v1::Agent::Stub::RevertAll));
    return std::vector<v1::Fault>(answer.faults().begin(), answer.faults().end());
  }

  StatusOr<std::vector<v1::Fault>> list(bool include_ended) override {
    v1::ListRequest request;
    request.set_include_ended(include_ended);
    v1::ListResponse response;
    CHAOS_ASSIGN_OR_RETURN(auto answer, call("List", request, response, &v1::Agent::Stub::List));
    return std::vector<v1::Fault>(answer.faults().begin(), answer.faults().end());
  }

  StatusOr<v1::RenewLeaseResponse> renew_lease(const std::string& lease_id,
                                               std::chrono::nanoseconds ttl) override {
    v1::RenewLeaseRequest request;
    request.set_lease_id(lease_id);
    set_proto_duration(ttl, request.mutable_ttl());
    v1::RenewLeaseResponse response;
    return call("RenewLease", request, response, &v1::Agent::Stub::RenewLease);
  }

 private:
  template <typename Request, typename Response, typename Method>
  StatusOr<Response> call(const char* name, const Request& request, Response& response, Method method) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline_);
    const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) {
      return Status(from_grpc(status.error_code()),
                    "agent " + address_ + ": " + name + ": " + status.error_message());
    }
    return response;
  }

  std::unique_ptr<v1::Agent::Stub> stub_;
  std::string address_;
  std::chrono::milliseconds deadline_;
};

}  // namespace

std::unique_ptr<AgentClient> make_grpc_agent_client(std::shared_ptr<grpc::Channel> channel,
                                                    std::string address,
                                                    std::chrono::milliseconds deadline) {
  return std::make_unique<GrpcAgentClient>(std::move(channel), std::move(address), deadline);
}

std::unique_ptr<AgentClient> GrpcAgentClientFactory::connect(const std::string& address) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return make_grpc_agent_client(std::move(channel), address, deadline_);
}

}  // namespace chaos::orchestrator
