// Talking to one chaos-agent. The run and the ad-hoc commands use this
// narrow interface; the gRPC implementation is built on an injected channel
// (in-process channels in tests) with a deadline on every call.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "chaos/v1/agent.pb.h"
#include "common/status.h"
#include "orchestrator/experiment/agent_security.h"
#include "orchestrator/experiment/experiment.h"

namespace grpc {
class Channel;
}

namespace chaos::orchestrator {

struct GrpcAgentEndpoint;  // grpc_agent_endpoint.h

class AgentClient {
 public:
  virtual ~AgentClient() = default;
  virtual const std::string& address() const = 0;
  virtual StatusOr<v1::CapabilitiesResponse> capabilities() = 0;
  virtual StatusOr<v1::Fault> inject(const v1::InjectRequest& request) = 0;
  virtual StatusOr<v1::RevertResponse> revert(const std::string& fault_id) = 0;
  // Empty experiment_id: every fault on the agent. With one, the answer
  // also holds the agent's leftover check for that experiment.
  virtual StatusOr<v1::RevertAllResponse> revert_all(const std::string& experiment_id) = 0;
  // Empty experiment_id: every fault on the agent. Ended faults come with
  // their revert_reason, which is how a run learns why one ended.
  virtual StatusOr<std::vector<v1::Fault>> list(const std::string& experiment_id, bool include_ended) = 0;
  virtual StatusOr<v1::RenewLeaseResponse> renew_lease(const std::string& lease_id,
                                                       std::chrono::nanoseconds ttl) = 0;
  // The stub behind a gRPC client, so a fan-out can start async calls on
  // it (agent_batch.h); null for clients that only have the methods above.
  virtual GrpcAgentEndpoint* grpc_endpoint() { return nullptr; }
};

// "ACTIVE", "REVERTED", "REVERT_FAILED", ... (the enum name without its
// FAULT_STATE_ prefix), for people and for lists of unconfirmed faults.
std::string fault_state_name(v1::FaultState state);
// "fault f3 (network.delay) REVERT_FAILED: 50ms on eth0 (revert failed: ...)"
std::string describe_fault_state(const v1::Fault& fault);

// Creates clients by address; the run asks for one client per agent.
class AgentClientFactory {
 public:
  virtual ~AgentClientFactory() = default;
  virtual std::unique_ptr<AgentClient> connect(const std::string& address) = 0;
};

// `bearer_token` (may be empty) goes into every call's authorization header.
std::unique_ptr<AgentClient> make_grpc_agent_client(std::shared_ptr<grpc::Channel> channel,
                                                    std::string address,
                                                    std::chrono::milliseconds deadline,
                                                    std::string bearer_token = "");

// A client whose every call fails with `status` (a refused or impossible
// connection is reported on first use, like an unreachable agent).
std::unique_ptr<AgentClient> make_failing_agent_client(std::string address, Status status);

// The channel to one agent: mTLS with the agent's name verified, or
// plaintext only to loopback (or with security.insecure). Returns the
// bearer token to send, read from security.token_file.
struct AgentChannel {
  std::shared_ptr<grpc::Channel> channel;
  std::string bearer_token;
};
StatusOr<AgentChannel> open_agent_channel(const std::string& address, const AgentSecurity& security);

// Channels per the inventory's security settings; an address it was not
// told about gets the default (plaintext, loopback only). One channel per
// address, kept for the factory's life: every client (and every run of a
// suite sharing the factory) reuses its connection.
class GrpcAgentClientFactory final : public AgentClientFactory {
 public:
  // Raises the soft open-files limit (raise_open_file_limit): a channel to
  // each of 1,000 agents is 1,000 sockets.
  explicit GrpcAgentClientFactory(std::chrono::milliseconds deadline);
  // Remembers each endpoint's security settings for connect().
  void trust(const std::vector<AgentEndpoint>& agents);
  std::unique_ptr<AgentClient> connect(const std::string& address) override;
  // The deadline of the clients connect() makes from now on (a suite's
  // experiments each have their own preflight timeout; channels stay open).
  void set_deadline(std::chrono::milliseconds deadline);
  std::size_t open_channels() const;

 private:
  std::chrono::milliseconds deadline_;
  std::map<std::string, AgentSecurity> security_;
  std::map<std::string, std::string> files_stamp_;  // of the security files, at trust()
  mutable std::mutex mutex_;
  std::map<std::string, AgentChannel> channels_;
};

// Sets the soft RLIMIT_NOFILE to the hard limit (the usual soft 1024 is
// below what a fan-out to 1,000 agents holds open) and returns the soft
// limit in force afterwards.
std::size_t raise_open_file_limit();

}  // namespace chaos::orchestrator
