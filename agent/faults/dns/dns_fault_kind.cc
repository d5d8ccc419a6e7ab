#include "agent/faults/dns/dns_fault_kind.h"

#include <random>

#include "agent/faults/dns/dns_fault_spec.h"
#include "agent/faults/dns/live_dns_fault.h"
#include "agent/faults/dns/own_socket.h"
#include "agent/faults/dns/redirect_ownership.h"
#include "agent/faults/dns/resolv_conf.h"
#include "agent/rollback_stack.h"
#include "agent/policy.h"
#include "common/crash_point.h"

namespace chaos::agent::dns {

namespace {

std::string table_for(const FaultContext& context, const nlohmann::json& undo_record) {
  return owned_nft_table(context, undo_record, "chaos_dns_", redirect_table_name);
}

}  // namespace

std::shared_ptr<std::atomic<bool>> DnsFaultKind::claim(const FaultContext& context) {
  const std::string key = fault_network_namespace_key(context);
  std::lock_guard lock(claims_mutex_);
  std::erase_if(claims_, [](const auto& entry) { return !entry.second->load(); });
  auto& flag = claims_[key];
  if (flag) return nullptr;  // still set: erase_if kept only held claims
  flag = std::make_shared<std::atomic<bool>>(true);
  return flag;
}

CommandRunner* DnsFaultKind::commands_for(const FaultContext& context) const {
  return context.container != nullptr ? context.container->commands : env_.commands;
}

DnsFaultKind::DnsFaultKind(const AgentEnvironment& env, DnsFaultOptions options)
    : env_(env), options_(std::move(options)) {}

std::string DnsFaultKind::name() const { return "dns.fail"; }

Status DnsFaultKind::validate(const v1::FaultSpec& spec) const {
  if (spec.kind_case() != v1::FaultSpec::kDns) return invalid_argument("dns: spec is not a dns fault");
  return parse_dns_fault_spec(spec.dns()).status();
}

Status DnsFaultKind::check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const {
  const auto& delay = spec.dns().delay();
  return check_max_delay(policy, "dns.delay", std::chrono::seconds(delay.seconds()) + std::chrono::nanoseconds(delay.nanos()));
}

StatusOr<std::unique_ptr<LiveFault>> DnsFaultKind::apply(const v1::FaultSpec& spec, const FaultContext& context) {
  CHAOS_RETURN_IF_ERROR(validate(spec));
  const ContainerScope* container = context.container;
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr || env_.clock == nullptr) {
    return failed_precondition("dns.fail: agent environment lacks a command runner or clock");
  }
  if (container != nullptr && (container->network_namespace_fd < 0 || container->root_path.empty())) {
    return failed_precondition("dns.fail: the container has no open network namespace or root path");
  }
  CHAOS_ASSIGN_OR_RETURN(DnsFaultSpec parsed, parse_dns_fault_spec(spec.dns()));
  std::shared_ptr<std::atomic<bool>> live = claim(context);
  if (!live) {
    return failed_precondition(std::string("dns.fail: another DNS fault is live ") +
                               (container != nullptr ? "in this container's network namespace" : "on this agent") +
                               "; revert it first");
  }
  // Only the claim needs an undo step: the responder's unique_ptr stops it
  // (before the claim is released, as it is declared later) and the nft
  // transaction is atomic.
  RollbackStack undo(context.failed_rollback);
  undo.push("the single-DNS-fault claim", [live] {
    live->store(false);
    return Status{};
  });
  CHAOS_ASSIGN_OR_RETURN(UpstreamResolver upstream, container != nullptr
                                                        ? read_resolv_conf_in_root(container->root_path)
                                                        : read_resolv_conf(options_.resolv_conf_path));

  const std::string detail = parsed.describe() + ", upstream " + upstream.text;
  const DnsFaultSpec spec_copy = parsed;
  ResponderOptions responder_options;
  responder_options.upstream = upstream;
  responder_options.upstream_options.socket_mark = options_.upstream_socket_mark;
  if (options_.exempt_own_lookups) responder_options.is_exempt_peer = peer_is_own_socket;
  const int network_namespace_fd = container != nullptr ? container->network_namespace_fd : -1;
  responder_options.network_namespace_fd = network_namespace_fd;
  const std::uint64_t seed = options_.seed ? *options_.seed : std::random_device{}();
  auto policy = std::make_shared<QueryPolicy>(std::move(parsed), seed);
  crash_point("dns: start stub responder");
  CHAOS_ASSIGN_OR_RETURN(auto responder, DnsStubResponder::start(policy, responder_options, *env_.clock));

  RedirectRules rules;
  rules.table = redirect_table_name(context.fault_id);
  rules.stub_port = responder->port();
  rules.exempt_mark = options_.upstream_socket_mark;
  rules.include_ipv6 = responder->listens_on_ipv6();
  rules.loopback_destinations_only = upstream.loopback;
  // Replaces a leftover of this same fault id (the only one that can have
  // this table name) in the same transaction.
  CHAOS_RETURN_IF_ERROR(install_redirect(*commands, rules));

  undo.release();  // the LiveDnsFault clears the flag on revert
  LiveDnsFaultSetup setup{rules, upstream, spec_copy, detail, network_namespace_fd};
  return std::unique_ptr<LiveFault>(new LiveDnsFault(*commands, std::move(setup), std::move(responder), live));
}

Status DnsFaultKind::recover(const v1::FaultSpec& spec, const FaultContext& context,
                             const nlohmann::json& undo_record) {
  (void)spec;
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition("dns.fail: agent environment lacks a command runner");
  // The responder died with the old process; only its redirect can remain.
  return remove_redirect(*commands, table_for(context, undo_record));
}

StatusOr<std::string> DnsFaultKind::verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) {
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition("dns.fail: agent environment lacks a command runner");
  const std::string table = table_for(context, undo_record);
  CHAOS_ASSIGN_OR_RETURN(const bool listed, redirect_table_listed(*commands, table));
  if (listed) return failed_precondition("nft table inet " + table + " is still in the ruleset");
  // The stub's sockets died with the process that opened them.
  return "nft table inet " + table + " absent from `nft list tables`; the stub ended with the old agent process";
}

Status DnsFaultKind::recover_by_id(const FaultContext& context) {
  CommandRunner* commands = commands_for(context);
  if (commands == nullptr) return failed_precondition("dns.fail: agent environment lacks a command runner");
  // The redirect table is named after the fault id; the responder died
  // with the old process, and resolv.conf is only ever read.
  return remove_redirect(*commands, redirect_table_name(context.fault_id));
}

}  // namespace chaos::agent::dns
