// The proxy fault kinds (tcp.*, http.*, nats.*): one FaultKind class, one
// instance per kind name, each with the ProxyPlanBuilder of its kind. While
// live, new TCP connections in the spec's scope are redirected (nft table
// chaos_tcp_<id>) to the fault's own proxy engine, which forwards them to
// their original destination through the plan's filter factory. With the
// scope's reset_existing, the connections already open in scope are reset
// once the redirect is in place (existing_connection_reset.h).
//
// In a container (FaultContext::container) the table, the proxy's sockets
// and its event thread live in the container's network namespace.
//
// One proxy fault per network namespace and port at a time, whatever its
// kind: two nat redirects of the same connections cannot both win, so a
// second inject would silently do nothing; it is refused with
// FAILED_PRECONDITION.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/fault.h"
#include "agent/faults/proxy/proxy_byte_budget.h"
#include "agent/faults/proxy/proxy_fault_plan.h"
#include "agent/faults/proxy/proxy_redirect_rules.h"

namespace chaos::agent::proxy {

struct ProxyFaultOptions {
  // 0 disables SO_MARK (tests without CAP_NET_ADMIN).
  std::uint32_t socket_mark = kProxySocketMark;
  std::size_t max_connections = 1024;
  std::size_t max_queued_bytes = 1 << 20;
  // The agent's, shared by every proxy fault (proxy_byte_budget.h); null:
  // connections are bounded one by one only.
  std::shared_ptr<ProxyByteBudget> budget;
  // Seeds the percent and jitter PRNGs; unset draws one.
  std::optional<std::uint64_t> seed;
};

// The claims of (network namespace, port) shared by all proxy kinds.
class ProxyPortClaims {
 public:
  // Null when another proxy fault holds the same key.
  std::shared_ptr<std::atomic<bool>> claim(const std::string& key);

 private:
  std::mutex mutex_;
  // Cleared flags are dropped at the next claim: the map stays as small as
  // the number of live proxy faults.
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> claims_;
};

class ProxyFaultKind final : public FaultKind {
 public:
  ProxyFaultKind(std::string name, ProxyPlanBuilder plan, const AgentEnvironment& env, ProxyFaultOptions options,
                 std::shared_ptr<ProxyPortClaims> claims);

  std::string name() const override { return name_; }
  Status validate(const v1::FaultSpec& spec) const override;
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  // The redirect is an nftables table; SO_MARK needs it too.
  std::vector<std::string> required_capabilities() const override { return {"CAP_NET_ADMIN"}; }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  Status recover(const v1::FaultSpec& spec, const FaultContext& context,
                 const nlohmann::json& undo_record) override;
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  Status recover_by_id(const FaultContext& context) override;
  bool acts_in_containers() const override { return true; }
  bool leaves_objects_in_network_namespace() const override { return true; }
  std::string backend() const override { return "tcp-proxy"; }
  // Redirect rules and the proxy's threads.
  bool effect_survives_reboot() const override { return false; }

 private:
  CommandRunner* commands_for(const FaultContext& context) const;
  StatusOr<ProxyFaultPlan> plan_for(const v1::FaultSpec& spec, std::uint64_t seed) const;

  const std::string name_;
  ProxyPlanBuilder plan_;
  AgentEnvironment env_;
  ProxyFaultOptions options_;
  std::shared_ptr<ProxyPortClaims> claims_;
};

}  // namespace chaos::agent::proxy
