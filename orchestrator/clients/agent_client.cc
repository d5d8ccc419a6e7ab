#include "orchestrator/clients/agent_client.h"

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <fstream>
#include <string_view>
#include <sstream>

#include <sys/resource.h>
#include <sys/stat.h>

#include "chaos/v1/agent.grpc.pb.h"
#include "common/loopback.h"
#include "orchestrator/clients/grpc_agent_endpoint.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

StatusCode from_grpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT: return StatusCode::kInvalidArgument;
    case grpc::StatusCode::NOT_FOUND: return StatusCode::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS: return StatusCode::kAlreadyExists;
    case grpc::StatusCode::PERMISSION_DENIED: return StatusCode::kPermissionDenied;
    case grpc::StatusCode::UNAUTHENTICATED: return StatusCode::kPermissionDenied;
    case grpc::StatusCode::FAILED_PRECONDITION: return StatusCode::kFailedPrecondition;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return StatusCode::kResourceExhausted;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return StatusCode::kDeadlineExceeded;
    case grpc::StatusCode::UNAVAILABLE: return StatusCode::kUnavailable;
    case grpc::StatusCode::UNIMPLEMENTED: return StatusCode::kUnimplemented;
    case grpc::StatusCode::CANCELLED: return StatusCode::kCancelled;
    case grpc::StatusCode::ABORTED: return StatusCode::kAborted;
    default: return StatusCode::kInternal;
  }
}

class GrpcAgentClient final : public AgentClient {
 public:
  GrpcAgentClient(std::shared_ptr<grpc::Channel> channel, std::string address,
                  std::chrono::milliseconds deadline, std::string bearer_token)
      : endpoint_{v1::Agent::NewStub(channel), std::move(address), deadline, std::move(bearer_token)} {}

  const std::string& address() const override { return endpoint_.address; }
  GrpcAgentEndpoint* grpc_endpoint() override { return &endpoint_; }

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

  StatusOr<v1::RevertAllResponse> revert_all(const std::string& experiment_id) override {
    v1::RevertAllRequest request;
    request.set_experiment_id(experiment_id);
    v1::RevertAllResponse response;
    return call("RevertAll", request, response, &v1::Agent::Stub::RevertAll);
  }

  StatusOr<std::vector<v1::Fault>> list(const std::string& experiment_id, bool include_ended) override {
    v1::ListRequest request;
    request.set_experiment_id(experiment_id);
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
    endpoint_.prepare(context);
    const grpc::Status status = (endpoint_.stub.get()->*method)(&context, request, &response);
    if (!status.ok()) return agent_call_status(status, endpoint_.address, name);
    return response;
  }

  GrpcAgentEndpoint endpoint_;
};

class FailingAgentClient final : public AgentClient {
 public:
  FailingAgentClient(std::string address, Status status) : address_(std::move(address)), status_(std::move(status)) {}
  const std::string& address() const override { return address_; }
  StatusOr<v1::CapabilitiesResponse> capabilities() override { return status_; }
  StatusOr<v1::Fault> inject(const v1::InjectRequest&) override { return status_; }
  StatusOr<v1::RevertResponse> revert(const std::string&) override { return status_; }
  StatusOr<v1::RevertAllResponse> revert_all(const std::string&) override { return status_; }
  StatusOr<std::vector<v1::Fault>> list(const std::string&, bool) override { return status_; }
  StatusOr<v1::RenewLeaseResponse> renew_lease(const std::string&, std::chrono::nanoseconds) override {
    return status_;
  }

 private:
  std::string address_;
  Status status_;
};

StatusOr<std::string> read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot read " + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return invalid_argument(what + " " + path + " is empty");
  return text.str();
}

StatusOr<std::string> read_token(const std::string& path) {
  if (path.empty()) return std::string();
  CHAOS_ASSIGN_OR_RETURN(std::string token, read_file(path, "token file"));
  token = token.substr(0, token.find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  if (token.empty()) return invalid_argument("token file " + path + " is empty");
  return token;
}

StatusOr<std::shared_ptr<grpc::Channel>> tls_channel(const std::string& address, const AgentSecurity& security) {
  grpc::SslCredentialsOptions options;
  CHAOS_ASSIGN_OR_RETURN(options.pem_root_certs, read_file(security.tls.ca, "CA certificate"));
  CHAOS_ASSIGN_OR_RETURN(options.pem_cert_chain, read_file(security.tls.cert, "client certificate"));
  CHAOS_ASSIGN_OR_RETURN(options.pem_private_key, read_file(security.tls.key, "client key"));
  grpc::ChannelArguments arguments;
  // The agent's certificate must name the agent (a SAN), not just chain to
  // our CA: otherwise any agent could impersonate any other.
  if (!security.server_name.empty()) arguments.SetSslTargetNameOverride(security.server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), arguments);
}

}  // namespace

void GrpcAgentEndpoint::prepare(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  if (!bearer_token.empty()) context.AddMetadata("authorization", "Bearer " + bearer_token);
}

Status agent_call_status(const grpc::Status& status, const std::string& address, const char* method) {
  return Status(from_grpc(status.error_code()), "agent " + address + ": " + method + ": " + status.error_message());
}

std::size_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<std::size_t>(limit.rlim_cur);
}

std::string fault_state_name(v1::FaultState state) {
  std::string name = v1::FaultState_Name(state);
  constexpr std::string_view kPrefix = "FAULT_STATE_";
  if (name.rfind(kPrefix, 0) == 0) name.erase(0, kPrefix.size());
  return name.empty() ? "STATE_" + std::to_string(static_cast<int>(state)) : name;
}

std::string describe_fault_state(const v1::Fault& fault) {
  std::string text = "fault " + fault.id();
  if (!fault.kind().empty()) text += " (" + fault.kind() + ")";
  text += " " + fault_state_name(fault.state());
  if (!fault.detail().empty()) text += ": " + fault.detail();
  return text;
}

std::unique_ptr<AgentClient> make_grpc_agent_client(std::shared_ptr<grpc::Channel> channel,
                                                    std::string address,
                                                    std::chrono::milliseconds deadline,
                                                    std::string bearer_token) {
  return std::make_unique<GrpcAgentClient>(std::move(channel), std::move(address), deadline,
                                           std::move(bearer_token));
}

std::unique_ptr<AgentClient> make_failing_agent_client(std::string address, Status status) {
  return std::make_unique<FailingAgentClient>(std::move(address), std::move(status));
}

StatusOr<AgentChannel> open_agent_channel(const std::string& address, const AgentSecurity& security) {
  AgentChannel opened;
  CHAOS_ASSIGN_OR_RETURN(opened.bearer_token, read_token(security.token_file));
  if (security.tls.enabled()) {
    CHAOS_ASSIGN_OR_RETURN(opened.channel, tls_channel(address, security));
    return opened;
  }
  if (!security.insecure && !is_loopback_host(host_of_address(address))) {
    return failed_precondition("refusing plaintext gRPC to non-loopback agent " + address +
                               ": give the inventory a [tls] table (chaosctl certs) or, on an isolated "
                               "network only, insecure = true");
  }
  opened.channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return opened;
}

namespace {

// Size and modification time of every file the channel was opened from:
// a rotated token or certificate (a suite runs for hours; service-account
// tokens and short-lived certificates are replaced meanwhile) must be read
// again, not trusted from the first run.
std::string security_files_stamp(const AgentSecurity& security) {
  std::string stamp;
  for (const std::string* path : {&security.tls.ca, &security.tls.cert, &security.tls.key, &security.token_file}) {
    struct stat info {};
    if (path->empty() || ::stat(path->c_str(), &info) != 0) {
      stamp += "-;";
      continue;
    }
    stamp += std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
             std::to_string(info.st_mtim.tv_nsec) + ";";
  }
  return stamp;
}

}  // namespace

void GrpcAgentClientFactory::trust(const std::vector<AgentEndpoint>& agents) {
  std::lock_guard lock(mutex_);
  for (const auto& agent : agents) {
    const auto known = security_.find(agent.address);
    const bool same = known != security_.end() && known->second.tls.ca == agent.security.tls.ca &&
                      known->second.tls.cert == agent.security.tls.cert &&
                      known->second.tls.key == agent.security.tls.key &&
                      known->second.server_name == agent.security.server_name &&
                      known->second.token_file == agent.security.token_file &&
                      known->second.insecure == agent.security.insecure;
    // A channel opened with other settings, or from files that changed
    // since, must not be reused.
    std::string stamp = security_files_stamp(agent.security);
    if (!same || files_stamp_[agent.address] != stamp) channels_.erase(agent.address);
    files_stamp_[agent.address] = std::move(stamp);
    security_[agent.address] = agent.security;
  }
}

GrpcAgentClientFactory::GrpcAgentClientFactory(std::chrono::milliseconds deadline) : deadline_(deadline) {
  raise_open_file_limit();
}

std::unique_ptr<AgentClient> GrpcAgentClientFactory::connect(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto cached = channels_.find(address);
  if (cached == channels_.end()) {
    const auto known = security_.find(address);
    auto opened = open_agent_channel(address, known == security_.end() ? AgentSecurity{} : known->second);
    if (!opened.ok()) {
      return make_failing_agent_client(address, opened.status().with_context("agent " + address));
    }
    cached = channels_.emplace(address, std::move(*opened)).first;
  }
  return make_grpc_agent_client(cached->second.channel, address, deadline_, cached->second.bearer_token);
}

void GrpcAgentClientFactory::set_deadline(std::chrono::milliseconds deadline) {
  std::lock_guard lock(mutex_);
  deadline_ = deadline;
}

std::size_t GrpcAgentClientFactory::open_channels() const {
  std::lock_guard lock(mutex_);
  return channels_.size();
}

}  // namespace chaos::orchestrator
