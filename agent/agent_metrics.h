// The agent's Prometheus metrics, in one place so names and labels stay
// consistent (and pass `promtool check metrics`).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/fault.h"

#include "metrics/registry.h"

namespace chaos::agent {

// Labels of chaos_agent_fault_live, the series dashboards shade fault
// windows with: present (= 1) exactly while the fault lives.
struct LiveFaultLabels {
  std::string experiment;
  std::string kind;
  std::string fault_id;
  std::string backend;
};

class AgentMetrics {
 public:
  AgentMetrics(metrics::Registry& registry, std::string node_name);

  // Creates the zero series for each kind so dashboards see them at once.
  void declare_kind(const std::string& kind);

  // result: "ok" or the lower-case status code ("invalid_argument", ...).
  void injection(const std::string& kind, const std::string& result, double seconds);
  void revert(const std::string& kind, const std::string& reason, const std::string& result);
  void fault_started(const LiveFaultLabels& labels);
  void fault_ended(const LiveFaultLabels& labels);
  void lease_expired();
  // A fault left by a previous agent process was reverted at start-up (the
  // revert itself is counted by revert(), reason "recovery").
  void journal_recovered();
  // A corrupt journal entry: outcome "reverted" (by its id), "retrying"
  // (REVERT_FAILED, retried) or "kept" (nothing here can revert it).
  void journal_corrupt(const std::string& outcome);
  // Faults whose revert failed and is being retried.
  void set_revert_failed(double count);
  // What the proxy faults hold in memory now, and the agent's limit.
  void set_proxy_buffered(double bytes, double limit_bytes);
  // The watchdog finished a tick (its liveness: alert when this stalls).
  void tick_completed(double unix_seconds);
  // One audit log entry: rpc ("Inject") and result ("ok", "unauthenticated").
  void audit_event(const std::string& rpc, const std::string& result);
  // An audit record that is not in the log (write failed, or not built).
  void audit_record_lost(const std::string& rpc);
  // An effect check: check "live" or "gone", result "verified", "armed"
  // (in place, nothing impaired yet) or "failed".
  void effect_check(const std::string& kind, const std::string& check, const std::string& result);
  // Request received -> live check passed; revert requested -> gone check passed.
  void time_to_effect(const std::string& kind, double seconds);
  void time_to_gone(const std::string& kind, double seconds);
  // A live fault's counters (packets delayed, queries answered, ...); the
  // series go with fault_ended().
  void fault_counters(const LiveFaultLabels& labels, const std::vector<FaultCounter>& counters);
  // The leftover check of an experiment found our objects left (ours) or
  // changes by other software (foreign).
  void leftovers(std::size_t ours, std::size_t foreign);

 private:
  std::string node_name_;
  metrics::GaugeFamily& active_;
  metrics::CounterFamily& injections_;
  metrics::CounterFamily& reverts_;
  metrics::HistogramFamily& inject_duration_;
  metrics::CounterFamily& lease_expiries_;
  metrics::CounterFamily& journal_recoveries_;
  metrics::CounterFamily& journal_corrupt_;
  metrics::GaugeFamily& revert_failed_;
  metrics::GaugeFamily& proxy_buffered_;
  metrics::GaugeFamily& proxy_buffered_limit_;
  metrics::GaugeFamily& last_tick_;
  metrics::GaugeFamily& live_;
  metrics::CounterFamily& audit_events_;
  metrics::CounterFamily& audit_records_lost_;
  metrics::CounterFamily& effect_checks_;
  metrics::HistogramFamily& time_to_effect_;
  metrics::HistogramFamily& time_to_gone_;
  metrics::GaugeFamily& fault_counter_;
  metrics::CounterFamily& leftovers_;
  metrics::CounterFamily& foreign_changes_;
  std::mutex counter_names_mutex_;
  std::map<std::string, std::set<std::string>> counter_names_;  // fault id -> names exported
};

}  // namespace chaos::agent
