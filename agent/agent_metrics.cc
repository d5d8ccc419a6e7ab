#include "agent/agent_metrics.h"

namespace chaos::agent {

AgentMetrics::AgentMetrics(metrics::Registry& registry, std::string node_name)
    : node_name_(std::move(node_name)),
      active_(registry.gauge("chaos_agent_faults_active", "Faults live on this agent, by kind.", {"kind"})),
      injections_(registry.counter("chaos_agent_injections_total",
                                   "Inject requests handled, by kind and result (ok or the error code).",
                                   {"kind", "result"})),
      reverts_(registry.counter("chaos_agent_reverts_total",
                                "Fault reverts, by kind, reason (ttl, lease, request, shutdown, recovery) "
                                "and result.",
                                {"kind", "reason", "result"})),
      inject_duration_(registry.histogram("chaos_agent_inject_duration_seconds",
                                          "Time from an Inject request to the fault being live (or refused).",
                                          {"kind"}, metrics::default_latency_buckets())),
      lease_expiries_(registry.counter("chaos_agent_lease_expiries_total",
                                       "Leases that ran out without renewal (orchestrator gone or cut off).")),
      journal_recoveries_(registry.counter("chaos_agent_journal_recoveries_total",
                                           "Faults left by a previous agent process and reverted at start-up.")),
      journal_corrupt_(registry.counter("chaos_agent_journal_corrupt_entries_total",
                                        "Unreadable journal entries found at start-up, by outcome: reverted (from "
                                        "the fault id alone), retrying (revert failed, retried), kept (nothing here "
                                        "can revert it; check the node by hand).",
                                        {"outcome"})),
      revert_failed_(registry.gauge("chaos_agent_faults_revert_failed",
                                    "Faults whose revert failed; the agent retries them every second.")),
      proxy_buffered_(registry.gauge("chaos_agent_proxy_buffered_bytes",
                                     "Bytes the proxy faults (tcp.*, http.*, nats.*) hold: queued in their "
                                     "connections and held back by their filters.")),
      proxy_buffered_limit_(registry.gauge("chaos_agent_proxy_buffered_limit_bytes",
                                           "The agent's limit on chaos_agent_proxy_buffered_bytes ([proxy] "
                                           "max_buffered_bytes); at it, proxied senders are paused.")),
      last_tick_(registry.gauge("chaos_agent_watchdog_last_tick_timestamp_seconds",
                                "Unix time of the watchdog's last completed tick (TTLs, leases, retries); a value "
                                "that stops moving means faults no longer end on time.")),
      live_(registry.gauge("chaos_agent_fault_live",
                           "1 while a fault is live; the series disappears when the fault ends.",
                           {"experiment", "kind", "node", "fault_id", "backend"})),
      audit_events_(registry.counter("chaos_agent_audit_events_total",
                                     "Entries written to the audit log, by RPC and result (ok or the gRPC code).",
                                     {"rpc", "result"})),
      audit_records_lost_(registry.counter("chaos_agent_audit_records_lost_total",
                                           "Calls whose audit record is not in the audit log (the write failed, "
                                           "e.g. a full disk, or the record could not be built); the call's "
                                           "answer stood.",
                                           {"rpc"})),
      effect_checks_(registry.counter("chaos_agent_effect_checks_total",
                                      "Effect checks read back from the system, by kind, check (live after "
                                      "inject, gone after revert) and result (verified, armed, failed).",
                                      {"kind", "check", "result"})),
      time_to_effect_(registry.histogram("chaos_agent_time_to_effect_seconds",
                                         "From an Inject request to its effect read back from the system.",
                                         {"kind"}, metrics::default_latency_buckets())),
      time_to_gone_(registry.histogram("chaos_agent_time_to_gone_seconds",
                                       "From a revert request (or TTL, lease) to the effect read back as gone.",
                                       {"kind"}, metrics::default_latency_buckets())),
      fault_counter_(registry.gauge("chaos_agent_fault_counter",
                                    "A live fault's own counters (packets_delayed, queries_nxdomain, "
                                    "signals_sent, ...), read about every second; gone when the fault ends.",
                                    {"experiment", "kind", "node", "fault_id", "counter"})),
      leftovers_(registry.counter("chaos_agent_leftovers_total",
                                  "Objects of our faults found on the system after an experiment's last revert.")),
      foreign_changes_(registry.counter("chaos_agent_foreign_changes_total",
                                        "Changes other software made to what faults touch while an experiment "
                                        "ran (not ours; reported beside leftovers).")) {
  leftovers_.with({});
  foreign_changes_.with({});
  lease_expiries_.with({});
  journal_recoveries_.with({});
  for (const char* outcome : {"reverted", "retrying", "kept"}) journal_corrupt_.with({outcome});
  revert_failed_.with({});
  proxy_buffered_.with({});
  proxy_buffered_limit_.with({});
  last_tick_.with({});
}

void AgentMetrics::audit_event(const std::string& rpc, const std::string& result) {
  audit_events_.with({rpc, result}).inc();
}

void AgentMetrics::audit_record_lost(const std::string& rpc) { audit_records_lost_.with({rpc}).inc(); }

void AgentMetrics::declare_kind(const std::string& kind) {
  active_.with({kind});
  time_to_effect_.with({kind});
  time_to_gone_.with({kind});
}

void AgentMetrics::effect_check(const std::string& kind, const std::string& check, const std::string& result) {
  effect_checks_.with({kind, check, result}).inc();
}

void AgentMetrics::time_to_effect(const std::string& kind, double seconds) {
  time_to_effect_.with({kind}).observe(seconds);
}

void AgentMetrics::time_to_gone(const std::string& kind, double seconds) {
  time_to_gone_.with({kind}).observe(seconds);
}

void AgentMetrics::fault_counters(const LiveFaultLabels& labels, const std::vector<FaultCounter>& counters) {
  std::lock_guard lock(counter_names_mutex_);
  auto& names = counter_names_[labels.fault_id];
  for (const auto& counter : counters) {
    fault_counter_.with({labels.experiment, labels.kind, node_name_, labels.fault_id, counter.name})
        .set(static_cast<double>(counter.value));
    names.insert(counter.name);
  }
}

void AgentMetrics::leftovers(std::size_t ours, std::size_t foreign) {
  leftovers_.with({}).inc(static_cast<double>(ours));
  foreign_changes_.with({}).inc(static_cast<double>(foreign));
}

void AgentMetrics::injection(const std::string& kind, const std::string& result, double seconds) {
  injections_.with({kind, result}).inc();
  inject_duration_.with({kind}).observe(seconds);
}

void AgentMetrics::revert(const std::string& kind, const std::string& reason, const std::string& result) {
  reverts_.with({kind, reason, result}).inc();
}

void AgentMetrics::fault_started(const LiveFaultLabels& labels) {
  active_.with({labels.kind}).inc();
  live_.with({labels.experiment, labels.kind, node_name_, labels.fault_id, labels.backend}).set(1);
}

void AgentMetrics::fault_ended(const LiveFaultLabels& labels) {
  active_.with({labels.kind}).dec();
  live_.remove({labels.experiment, labels.kind, node_name_, labels.fault_id, labels.backend});
  std::lock_guard lock(counter_names_mutex_);
  const auto names = counter_names_.find(labels.fault_id);
  if (names == counter_names_.end()) return;
  for (const auto& name : names->second) {
    fault_counter_.remove({labels.experiment, labels.kind, node_name_, labels.fault_id, name});
  }
  counter_names_.erase(names);
}

void AgentMetrics::lease_expired() { lease_expiries_.with({}).inc(); }

void AgentMetrics::journal_recovered() { journal_recoveries_.with({}).inc(); }

void AgentMetrics::journal_corrupt(const std::string& outcome) { journal_corrupt_.with({outcome}).inc(); }

void AgentMetrics::set_revert_failed(double count) { revert_failed_.with({}).set(count); }

void AgentMetrics::set_proxy_buffered(double bytes, double limit_bytes) {
  proxy_buffered_.with({}).set(bytes);
  proxy_buffered_limit_.with({}).set(limit_bytes);
}

void AgentMetrics::tick_completed(double unix_seconds) { last_tick_.with({}).set(unix_seconds); }

}  // namespace chaos::agent
