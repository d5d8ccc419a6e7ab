#include "orchestrator/clients/agent_batch.h"

#include <cstdint>
#include <memory>
#include <optional>

#include "orchestrator/clients/grpc_agent_endpoint.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

template <typename Response>
struct BatchCall {
  grpc::ClientContext context;
  Response response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
};

// `prepare` is a stub's PrepareAsyncX; `sync` the client's own method for
// clients without a gRPC side. Requests are per agent (inject) or one for all.
template <typename Request, typename Response, typename Prepare, typename Sync>
std::vector<StatusOr<Response>> batch_run(const char* method, const std::vector<AgentClient*>& agents,
                                          const std::function<const Request&(std::size_t)>& request_of,
                                          Prepare prepare, Sync sync, const AgentFallbackRunner& fallback) {
  std::vector<std::optional<StatusOr<Response>>> results(agents.size());
  std::vector<std::size_t> synchronous;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    if (agents[i]->grpc_endpoint() == nullptr) synchronous.push_back(i);
  }
  // First, so nothing can throw while async calls point into this frame.
  if (!synchronous.empty()) {
    fallback(synchronous.size(), [&](std::size_t k) {
      const std::size_t i = synchronous[k];
      results[i].emplace(sync(*agents[i], request_of(i)));
    });
  }
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<BatchCall<Response>>> calls(agents.size());
  std::size_t started = 0;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    GrpcAgentEndpoint* endpoint = agents[i]->grpc_endpoint();
    if (endpoint == nullptr) continue;
    auto call = std::make_unique<BatchCall<Response>>();
    endpoint->prepare(call->context);
    call->reader = ((*endpoint->stub).*prepare)(&call->context, request_of(i), &queue);
    call->reader->StartCall();
    // The tag is the slot (+1: never a null tag).
    call->reader->Finish(&call->response, &call->status, reinterpret_cast<void*>(static_cast<std::uintptr_t>(i + 1)));
    calls[i] = std::move(call);
    ++started;
  }
  void* tag = nullptr;
  bool ok = false;
  // Every started call completes by its deadline, so this ends.
  for (std::size_t done = 0; done < started && queue.Next(&tag, &ok); ++done) {
    const std::size_t i = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(tag)) - 1;
    BatchCall<Response>& call = *calls[i];
    if (call.status.ok()) {
      results[i].emplace(std::move(call.response));
    } else {
      results[i].emplace(agent_call_status(call.status, agents[i]->address(), method));
    }
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  std::vector<StatusOr<Response>> answers;
  answers.reserve(results.size());
  for (auto& result : results) {
    answers.push_back(result ? std::move(*result) : StatusOr<Response>(internal_error(std::string(method) + ": no answer")));
  }
  return answers;
}

}  // namespace

std::vector<StatusOr<v1::Fault>> inject_batch(const std::vector<AgentClient*>& agents,
                                              const std::vector<v1::InjectRequest>& requests,
                                              const AgentFallbackRunner& fallback) {
  auto answers = batch_run<v1::InjectRequest, v1::InjectResponse>(
      "Inject", agents, [&](std::size_t i) -> const v1::InjectRequest& { return requests[i]; },
      &v1::Agent::Stub::PrepareAsyncInject,
      [](AgentClient& agent, const v1::InjectRequest& request) -> StatusOr<v1::InjectResponse> {
        CHAOS_ASSIGN_OR_RETURN(v1::Fault fault, agent.inject(request));
        v1::InjectResponse response;
        *response.mutable_fault() = std::move(fault);
        return response;
      },
      fallback);
  std::vector<StatusOr<v1::Fault>> faults;
  faults.reserve(answers.size());
  for (auto& answer : answers) {
    if (answer.ok()) faults.emplace_back(std::move(*answer->mutable_fault()));
    else faults.emplace_back(answer.status());
  }
  return faults;
}

std::vector<StatusOr<v1::RevertResponse>> revert_batch(const std::vector<AgentClient*>& agents,
                                                        const std::vector<std::string>& fault_ids,
                                                        const AgentFallbackRunner& fallback) {
  std::vector<v1::RevertRequest> requests(fault_ids.size());
  for (std::size_t i = 0; i < fault_ids.size(); ++i) requests[i].set_fault_id(fault_ids[i]);
  return batch_run<v1::RevertRequest, v1::RevertResponse>(
      "Revert", agents, [&](std::size_t i) -> const v1::RevertRequest& { return requests[i]; },
      &v1::Agent::Stub::PrepareAsyncRevert,
      [](AgentClient& agent, const v1::RevertRequest& sent) { return agent.revert(sent.fault_id()); }, fallback);
}

std::vector<StatusOr<v1::RevertAllResponse>> revert_all_batch(const std::vector<AgentClient*>& agents,
                                                              const std::string& experiment_id,
                                                              const AgentFallbackRunner& fallback) {
  v1::RevertAllRequest request;
  request.set_experiment_id(experiment_id);
  return batch_run<v1::RevertAllRequest, v1::RevertAllResponse>(
      "RevertAll", agents, [&](std::size_t) -> const v1::RevertAllRequest& { return request; },
      &v1::Agent::Stub::PrepareAsyncRevertAll,
      [](AgentClient& agent, const v1::RevertAllRequest& sent) { return agent.revert_all(sent.experiment_id()); },
      fallback);
}

std::vector<StatusOr<v1::RenewLeaseResponse>> renew_lease_batch(const std::vector<AgentClient*>& agents,
                                                                const std::string& lease_id,
                                                                std::chrono::nanoseconds ttl,
                                                                const AgentFallbackRunner& fallback) {
  v1::RenewLeaseRequest request;
  request.set_lease_id(lease_id);
  set_proto_duration(ttl, request.mutable_ttl());
  return batch_run<v1::RenewLeaseRequest, v1::RenewLeaseResponse>(
      "RenewLease", agents, [&](std::size_t) -> const v1::RenewLeaseRequest& { return request; },
      &v1::Agent::Stub::PrepareAsyncRenewLease,
      [ttl](AgentClient& agent, const v1::RenewLeaseRequest& sent) { return agent.renew_lease(sent.lease_id(), ttl); },
      fallback);
}

std::vector<StatusOr<std::vector<v1::Fault>>> list_batch(const std::vector<AgentClient*>& agents,
                                                         const std::string& experiment_id, bool include_ended,
                                                         const AgentFallbackRunner& fallback) {
  v1::ListRequest request;
  request.set_experiment_id(experiment_id);
  request.set_include_ended(include_ended);
  auto answers = batch_run<v1::ListRequest, v1::ListResponse>(
      "List", agents, [&](std::size_t) -> const v1::ListRequest& { return request; },
      &v1::Agent::Stub::PrepareAsyncList,
      [](AgentClient& agent, const v1::ListRequest& sent) -> StatusOr<v1::ListResponse> {
        CHAOS_ASSIGN_OR_RETURN(auto faults, agent.list(sent.experiment_id(), sent.include_ended()));
        v1::ListResponse response;
        for (auto& fault : faults) *response.add_faults() = std::move(fault);
        return response;
      },
      fallback);
  std::vector<StatusOr<std::vector<v1::Fault>>> lists;
  lists.reserve(answers.size());
  for (auto& answer : answers) {
    if (answer.ok()) lists.emplace_back(std::vector<v1::Fault>(answer->faults().begin(), answer->faults().end()));
    else lists.emplace_back(answer.status());
  }
  return lists;
}

std::vector<StatusOr<v1::CapabilitiesResponse>> capabilities_batch(const std::vector<AgentClient*>& agents,
                                                                   const AgentFallbackRunner& fallback) {
  const v1::CapabilitiesRequest request;
  return batch_run<v1::CapabilitiesRequest, v1::CapabilitiesResponse>(
      "Capabilities", agents, [&](std::size_t) -> const v1::CapabilitiesRequest& { return request; },
      &v1::Agent::Stub::PrepareAsyncCapabilities,
      [](AgentClient& agent, const v1::CapabilitiesRequest&) { return agent.capabilities(); }, fallback);
}

}  // namespace chaos::orchestrator
