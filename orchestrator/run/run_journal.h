// Everything that happened in a run, in order and with wall-clock times:
// events, every query evaluation, every fault. Thread-safe (fan-out threads
// record faults). Observers (the progress printer) see records as they come;
// journal_json.h turns the whole journal into journal.json.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/clients/slo_evaluator.h"

namespace chaos::orchestrator {

struct EventRecord {
  WallTime at;
  std::string type;  // "phase", "inject", "revert", "abort", "error", "interrupt", "lease", "early_end", ...
  std::string message;
};

// Both sides of a [[compare]] evaluation (kind "compare"; the Evaluation
// then holds the difference as its value and the sentence as value_text).
struct CompareSample {
  std::string faulted_query;
  std::string control_query;
  std::optional<double> faulted;  // absent: no (finite) data or the query failed
  std::optional<double> control;
  std::string faulted_text;       // as Prometheus sent it, or why there is no value
  std::string control_text;
  bool relative = true;           // the difference is |f - c| / |c| (else |f - c|)
};

struct EvaluationRecord {
  WallTime at;
  std::string phase;  // "preflight", "before", "during", "recovery", "after"
  std::string kind;   // "steady_state", "abort" or "compare"
  Evaluation evaluation;
  std::optional<CompareSample> compare{};  // kind "compare" only ({} keeps 4-field init valid)
};

// What the agent read back from the system about a fault (its proof), as
// the latest answer about it said.
struct FaultProof {
  // "verified", "armed" (in place, nothing impaired yet), "unverified"
  // (best-effort, the check failed), "not checked" (verify = off), or empty
  // (an agent without effect checks).
  std::string effect;
  std::string evidence;
  std::optional<WallTime> verified_at;
  std::optional<WallTime> effect_seen_at;
  std::optional<WallTime> gone_verified_at;
  std::string gone_evidence;
  std::optional<std::chrono::nanoseconds> time_to_effect;
  std::optional<std::chrono::nanoseconds> time_to_gone;
  std::map<std::string, std::uint64_t> counters;
};

// One line of a node's system that changed between the agent's snapshot
// before the experiment's first fault there and its check after the last
// revert.
struct SystemChangeRecord {
  std::string source;  // "nft list ruleset", "iptables-save (v4)", ...
  std::string change;  // "added" or "removed"
  std::string line;
  std::string fault_id;  // ours: whose object it is (may be empty)
};

struct NodeLeftovers {
  std::string agent;
  std::string node;
  bool checked = false;  // false: the agent could not compare (errors say why) or predates the check
  std::vector<SystemChangeRecord> leftovers;  // our objects still there
  std::vector<SystemChangeRecord> foreign;    // changed meanwhile by other software
  std::vector<std::string> errors;
};

// "iptables-save (v4): added -A POSTROUTING -j CHAOS-1a2b-O (fault f3) on n1"
std::string describe(const SystemChangeRecord& change, const std::string& node);

// A container a fault acts in, as its agent resolved the step's target at
// inject (v1::ContainerRef).
struct ContainerRecord {
  std::string runtime;
  std::string id;
  std::string name;
  int pid = 0;                    // its init process, in the agent host's pid namespace
  std::string network_namespace;  // "net:[4026532301]"
  std::string pod_namespace;      // Kubernetes pods only
  std::string pod_name;
};

struct FaultRecord {
  std::string step;
  std::string agent;
  std::string node;
  std::string fault_id;
  std::string kind;
  std::string backend;
  std::string detail;
  WallTime applied_at;
  std::optional<WallTime> expires_at;
  std::optional<WallTime> reverted_at;
  std::string revert_reason;
  // Ended on its agent before the run meant it to (revert_reason says how:
  // "lease", "shutdown", "missing", ...; early_end_detail says more).
  bool ended_early = false;
  std::string early_end_detail;
  FaultProof proof;
  std::vector<ContainerRecord> containers;  // empty: it acts on the agent's host
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_event(const EventRecord&) {}
  virtual void on_evaluation(const EvaluationRecord&) {}
  // Called from the watch loops: the current phase and how long it still lasts.
  virtual void on_progress(const std::string& /*phase*/, std::chrono::nanoseconds /*time_left*/) {}
};

class RunJournal {
 public:
  explicit RunJournal(const Clock& clock) : clock_(clock) {}

  void add_observer(RunObserver* observer);
  void event(const std::string& type, const std::string& message);
  void evaluation(const std::string& phase, const std::string& kind, const Evaluation& evaluation);
  void compare_evaluation(const std::string& phase, const Evaluation& evaluation, const CompareSample& sample);
  void fault_applied(FaultRecord record);
  // Marks the fault reverted (first confirmation wins).
  void fault_reverted(const std::string& agent, const std::string& fault_id, const std::string& reason);
  // Marks the fault ended before its time (unless an end is recorded already).
  void fault_ended_early(const std::string& agent, const std::string& fault_id, const std::string& reason,
                         const std::string& detail);
  // The latest proof an agent reported for the fault (merged: fields the
  // answer leaves empty keep what an earlier answer said).
  void fault_proof(const std::string& agent, const std::string& fault_id, const FaultProof& proof);
  void leftovers(NodeLeftovers report);
  void progress(const std::string& phase, std::chrono::nanoseconds time_left);

  std::vector<EventRecord> events() const;
  std::vector<EvaluationRecord> evaluations() const;
  std::vector<FaultRecord> faults() const;
  std::vector<NodeLeftovers> leftovers() const;
  WallTime now() const { return clock_.wall_now(); }

 private:
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<RunObserver*> observers_;
  std::vector<EventRecord> events_;
  std::vector<EvaluationRecord> evaluations_;
  std::vector<FaultRecord> faults_;
  std::vector<NodeLeftovers> leftovers_;
};

}  // namespace chaos::orchestrator
