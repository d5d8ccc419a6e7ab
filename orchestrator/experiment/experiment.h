// The validated experiment model (the "Plan"). Everything in here has been
// checked by the loader: durations are positive, fault specs are complete
// and every method step's targets resolve to at least one agent. The run
// trusts these values and never re-validates them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chaos/v1/agent.pb.h"
#include "orchestrator/experiment/agent_security.h"
#include "orchestrator/experiment/http_endpoint_config.h"
#include "orchestrator/experiment/notify_config.h"

namespace chaos::orchestrator {

using Labels = std::map<std::string, std::string>;

enum class Phase { kBefore, kDuring, kAfter };
const char* phase_name(Phase phase);

enum class Comparator { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };
const char* comparator_symbol(Comparator comparator);
// "<", "<=", ">", ">=", "==", "!="; nullopt for anything else.
std::optional<Comparator> parse_comparator(const std::string& text);

struct AgentEndpoint {
  std::string address;  // HOST:PORT of the agent's gRPC service
  std::string node;
  Labels labels;
  AgentSecurity security{};  // from the inventory's [tls]; {} keeps 3-field init valid
};

// A PromQL expression compared against a threshold.
struct Condition {
  std::string name;
  std::string query;
  Comparator comparator = Comparator::kGreaterEqual;
  double threshold = 0;
};

struct SteadyStateCheck {
  Condition condition;
  bool in_before = true;
  bool in_during = true;
  bool in_after = true;
  bool applies_to(Phase phase) const;
};

// Stop condition: when its condition is TRUE the run aborts.
struct AbortCondition {
  Condition condition;
};

struct TargetSelector {
  Labels labels;                  // every label must match; empty matches all
  std::optional<uint32_t> count;  // at most this many agents
  std::optional<double> percent;  // or this share of the matching agents
  uint64_t seed = 0;
};

// "required", "best-effort", "off" (settings.verify and a step's verify).
std::optional<v1::VerifyMode> parse_verify_mode(const std::string& text);
std::string verify_mode_name(v1::VerifyMode mode);

struct MethodStep {
  std::string name;
  std::string kind;  // a fault kind name or "wait"
  std::chrono::nanoseconds duration{0};
  std::string group;
  v1::FaultSpec spec;                   // unset for "wait"
  TargetSelector selector;
  std::vector<AgentEndpoint> targets;   // resolved by the loader
  // How the agent proves the fault took effect: the step's own `verify`,
  // else settings.verify (the loader resolves it).
  v1::VerifyMode verify = v1::VERIFY_MODE_REQUIRED;
  bool is_wait() const { return kind == "wait"; }
};

// Consecutive steps that start together; lasts as long as its longest step.
struct StepGroup {
  std::vector<MethodStep> steps;
  std::chrono::nanoseconds duration() const;
};

struct Settings {
  std::chrono::nanoseconds lease_ttl = std::chrono::seconds(10);
  std::chrono::nanoseconds during_interval = std::chrono::seconds(2);
  std::chrono::nanoseconds preflight_timeout = std::chrono::seconds(5);
  v1::VerifyMode verify = v1::VERIFY_MODE_REQUIRED;
  // The step of the Prometheus range queries that time recovery and
  // detection: their resolution (100ms..1m; coarser for very long windows).
  std::chrono::nanoseconds recovery_step = std::chrono::seconds(1);
};

// One query evaluated on the faulted nodes and on a control set: holds when
// the two values differ by less than the tolerance, so a moved SLI can be
// told apart from weather that moved every node (issue 17). The loader
// resolves both node sets and substitutes them for $nodes.
struct CompareCheck {
  std::string name;
  std::string query;             // as written, with the $nodes placeholder
  bool relative = true;          // tolerance: |f - c| / |c|; else |f - c| (max_difference)
  double tolerance = 0;
  bool in_during = true;
  bool in_after = false;
  std::vector<std::string> faulted_nodes;  // nodes the method's fault steps target
  std::vector<std::string> control_nodes;  // control_nodes, control.labels, or every other agent's node
  std::string faulted_query;               // $nodes = a regex of faulted_nodes
  std::string control_query;
  bool applies_to(Phase phase) const {
    return (phase == Phase::kDuring && in_during) || (phase == Phase::kAfter && in_after);
  }
};

// [lab] (issue 23): what this experiment needs from the lab. chaosctl run
// only records it; `chaosctl lab probe --for FILE` applies it.
struct LabSettings {
  std::vector<std::string> probe_flags;  // extra chaos-probe flags, as written
};

// [finding] (issue 23): a weakness this experiment demonstrates, and what
// remedies it. remedied_by names the twin experiment that applies the remedy.
struct Finding {
  std::string observed;
  std::string mechanism;
  std::string remedy;       // required when [finding] is present
  std::string remedied_by;  // as written (relative to this file); "" when absent
};

struct Experiment {
  std::string source_path;
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::string hypothesis;
  std::string prometheus_url;
  std::string bearer_token;  // read from bearer_token_file at load time
  std::string inventory_path;
  std::vector<AgentEndpoint> agents;
  Settings settings;
  std::vector<SteadyStateCheck> steady_state;
  std::vector<AbortCondition> aborts;
  std::vector<MethodStep> method;
  std::optional<std::chrono::nanoseconds> recovery_within;
  std::vector<CompareCheck> compare;  // [[compare]]; node sets empty when agents are not resolved

  // Method steps grouped by the "group" rule (same non-empty group, adjacent).
  std::vector<StepGroup> schedule() const;
  // Every agent targeted by some fault step, without duplicates.
  std::vector<AgentEndpoint> targeted_agents() const;
  std::chrono::nanoseconds method_duration() const;

  // Issue 17: [prometheus] with TLS and credentials (prometheus_url and
  // bearer_token above stay filled from it), and where the run reports to.
  HttpEndpointConfig prometheus_endpoint;
  NotifyConfig notify;

  // Issue 23: [lab] and [finding] (both optional).
  LabSettings lab{};
  std::optional<Finding> finding{};
};

}  // namespace chaos::orchestrator
