#include "agent/faults/proxy/proxy_fault_kind.h"

#include <sys/socket.h>

#include <algorithm>
#include <random>

#include "agent/faults/dns/dns_redirect_rules.h"
#include "agent/faults/dns/redirect_ownership.h"
#include "agent/faults/proxy/existing_connection_reset.h"
#include "agent/faults/proxy/live_proxy_fault.h"
#include "agent/rollback_stack.h"
#include "agent/policy.h"
#include "common/crash_point.h"
#include "proto/fault_kinds.h"

namespace chaos::agent::proxy {

namespace {

std::string tcp_table_for(const FaultContext& context, const nlohmann::json& undo_record) {
  return dns::owned_nft_table(context, undo_record, "chaos_tcp_", proxy_table_name);
}

// Which families the redirect covers: the scope address's, or IPv4 and
// (where the proxy could listen on IPv6) IPv6; a namespace without IPv6
// shows in the description rather than failing an IPv4 fault.
Status choose_proxy_families(const std::string& kind, ProxyFaultPlan& plan, bool proxy_has_ipv6,
                             ProxyRedirectRules& rules) {
  const int family = plan.scope.family;
  if (family == AF_INET6 && !proxy_has_ipv6) {
    return failed_precondition(kind + ": scope.address " + plan.scope.address +
                               " is IPv6, but the network namespace has no IPv6 for the proxy to listen on (::1)");
  }
  rules.ipv4 = family != AF_INET6;
  rules.ipv6 = family == AF_INET6 || (family == 0 && proxy_has_ipv6);
  if (family == 0 && !proxy_has_ipv6) plan.description += " (IPv4 only: no IPv6 in the network namespace)";
  return {};
}

}  // namespace

std::shared_ptr<std::atomic<bool>> ProxyPortClaims::claim(const std::string& key) {
  std::lock_guard lock(mutex_);
  std::erase_if(claims_, [](const auto& entry) { return !entry.second->load(); });
  auto& flag = claims_[key];
  if (flag) return nullptr;
  flag = std::make_shared<std::atomic<bool>>(true);
  return flag;
}

ProxyFaultKind::ProxyFaultKind(std::string name, ProxyPlanBuilder plan, const AgentEnvironment& env,
                               ProxyFaultOptions options, std::shared_ptr<ProxyPortClaims> claims)
    : name_(std::move(name)),
      plan_(std::move(plan)),
      env_(env),
      options_(options),
      claims_(std::move(claims)) {}

CommandRunner* ProxyFaultKind::commands_for(const FaultContext& context) const {
  return context.container != nullptr ? context.container->commands : env_.commands;
}

StatusOr<ProxyFaultPlan> ProxyFaultKind::plan_for(const v1::FaultSpec& spec, std::uint64_t seed) const {
  if (fault_kind_name(spec) != name_) return invalid_argument(name_ + ": spec is not a " + name_ + " fault");
  return plan_(spec, seed);
}

Status ProxyFaultKind::validate(const v1::FaultSpec& spec) const {
  CHAOS_ASSIGN_OR_RETURN(const ProxyFaultPlan parsed, plan_for(spec, 0));
  const auto& protected_ports = env_.protected_ports;
  if (std::find(protected_ports.begin(), protected_ports.end(), parsed.scope.port) != protected_ports.end()) {
    return invalid_argument(spec.GetDescriptor()->FindFieldByNumber(spec.kind_case())->name() +
                            ".scope.port: " + std::to_string(parsed.scope.port) +
                            " is the agent's own control or metrics port");
  }
  return {};
}

Status ProxyFaultKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  auto parsed = plan_for(spec, 0);
  if (!parsed.ok() || parsed->policy_delay <= Duration{0}) return {};
  return check_max_delay(policy, parsed->delay_field, parsed->policy_delay);
}

StatusOr<std::unique_ptr<LiveFault>> ProxyFaultKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_RETURN_IF_ERROR(validate(spec));
  const std::uint64_t seed = options_.seed ? *options_.seed : std::random_device{}();
  CHAOS_ASSIGN_OR_RETURN(ProxyFaultPlan parsed, plan_for(spec, seed));
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition(name_ + ": agent environment lacks a command runner");
  const ContainerScope* container = context.container;
  if (container != nullptr && container->network_namespace_fd < 0) {
    return failed_precondition(name_ + ": the container has no open network namespace");
  }
  auto claim = claims_->claim(dns::fault_network_namespace_key(context) + "/" + std::to_string(parsed.scope.port));
  if (!claim) {
    return failed_precondition(name_ + ": another proxy fault (tcp.*, http.*, nats.*) is live on port " +
                               std::to_string(parsed.scope.port) +
                               (container != nullptr ? " in this container's network namespace" : " on this agent") +
                               "; revert it first");
  }
  RollbackStack undo(context.failed_rollback);
  // Released only once the redirect is gone: a second proxy fault on the
  // port must not come in behind a stuck rule.
  undo.push_last_to_undo("the proxy port claim", [claim] {
    claim->store(false);
    return Status{};
  });

  const ProxyRedirectRules rules_template{proxy_table_name(context.fault_id), 0, parsed.scope.port,
                                          parsed.scope.address, parsed.scope.local, parsed.scope.remote,
                                          options_.socket_mark};
  ProxyEngineOptions engine_options;
  engine_options.factory = parsed.factory;
  engine_options.listen_on_all_addresses = rules_template.remote;
  engine_options.ipv6 = parsed.scope.family != AF_INET;
  engine_options.upstream_mark = options_.socket_mark;
  engine_options.network_namespace_fd = container != nullptr ? container->network_namespace_fd : -1;
  engine_options.max_connections = options_.max_connections;
  engine_options.max_queued_bytes = options_.max_queued_bytes;
  engine_options.budget = options_.budget;
  crash_point("tcp: start proxy");
  CHAOS_ASSIGN_OR_RETURN(auto engine, ProxyEngine::start(std::move(engine_options)));

  ProxyRedirectRules rules = rules_template;
  rules.proxy_port = engine->port();
  CHAOS_RETURN_IF_ERROR(choose_proxy_families(name_, parsed, engine->listens_ipv6(), rules));
  // Replaces a leftover of this same fault id in the same transaction; on
  // failure the engine's unique_ptr stops the proxy.
  CHAOS_RETURN_IF_ERROR(install_proxy_redirect(*commands, rules));
  undo.push("the nft table inet " + rules.table, [commands, table = rules.table] {
    return dns::remove_redirect(*commands, table);
  });
  if (parsed.scope.reset_existing) {
    CHAOS_ASSIGN_OR_RETURN(const std::size_t reset, reset_existing_connections(*commands, parsed.scope));
    parsed.description += " (" + std::to_string(reset) + " sockets reset at inject)";
  }
  undo.release();  // the LiveProxyFault clears the claim on revert
  LiveProxyFaultSetup setup{rules, std::move(parsed.description), std::move(parsed.report),
                            engine_options.network_namespace_fd};
  return std::unique_ptr<LiveFault>(new LiveProxyFault(*commands, std::move(setup), std::move(engine), claim));
}

Status ProxyFaultKind::recover(const v1::FaultSpec& spec, const FaultContext& context,
                             const nlohmann::json& undo_record) {
  (void)spec;
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition(name_ + ": agent environment lacks a command runner");
  // The proxy and its connections died with the old process; only the
  // redirect can remain (and would send new connections to a dead port).
  return dns::remove_redirect(*commands, tcp_table_for(context, undo_record));
}

StatusOr<std::string> ProxyFaultKind::verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) {
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition(name_ + ": agent environment lacks a command runner");
  const std::string table = tcp_table_for(context, undo_record);
  CHAOS_ASSIGN_OR_RETURN(const bool listed, dns::redirect_table_listed(*commands, table));
  if (listed) return failed_precondition("nft table inet " + table + " is still in the ruleset");
  return "nft table inet " + table + " absent from `nft list tables`; the proxy ended with the old agent process";
}

Status ProxyFaultKind::recover_by_id(const FaultContext& context) {
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition(name_ + ": agent environment lacks a command runner");
  return dns::remove_redirect(*commands, proxy_table_name(context.fault_id));
}

}  // namespace chaos::agent::proxy
