#include "orchestrator/experiment/experiment.h"

#include <algorithm>
#include <set>

namespace chaos::orchestrator {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::kBefore: return "before";
    case Phase::kDuring: return "during";
    case Phase::kAfter: return "after";
  }
  return "?";
}

const char* comparator_symbol(Comparator comparator) {
  switch (comparator) {
    case Comparator::kLess: return "<";
    case Comparator::kLessEqual: return "<=";
    case Comparator::kGreater: return ">";
    case Comparator::kGreaterEqual: return ">=";
    case Comparator::kEqual: return "==";
    case Comparator::kNotEqual: return "!=";
  }
  return "?";
}

std::optional<v1::VerifyMode> parse_verify_mode(const std::string& text) {
  if (text == "required") return v1::VERIFY_MODE_REQUIRED;
  if (text == "best-effort") return v1::VERIFY_MODE_BEST_EFFORT;
  if (text == "off") return v1::VERIFY_MODE_OFF;
  return std::nullopt;
}

std::string verify_mode_name(v1::VerifyMode mode) {
  switch (mode) {
    case v1::VERIFY_MODE_BEST_EFFORT: return "best-effort";
    case v1::VERIFY_MODE_OFF: return "off";
    default: return "required";
  }
}

std::optional<Comparator> parse_comparator(const std::string& text) {
  for (auto c : {Comparator::kLess, Comparator::kLessEqual, Comparator::kGreater,
                 Comparator::kGreaterEqual, Comparator::kEqual, Comparator::kNotEqual}) {
    if (text == comparator_symbol(c)) return c;
  }
  return std::nullopt;
}

bool SteadyStateCheck::applies_to(Phase phase) const {
  switch (phase) {
    case Phase::kBefore: return in_before;
    case Phase::kDuring: return in_during;
    case Phase::kAfter: return in_after;
  }
  return false;
}

std::chrono::nanoseconds StepGroup::duration() const {
  std::chrono::nanoseconds longest{0};
  for (const auto& step : steps) longest = std::max(longest, step.duration);
  return longest;
}

std::vector<StepGroup> Experiment::schedule() const {
  std::vector<StepGroup> groups;
  for (const auto& step : method) {
    const bool joins_previous = !step.group.empty() && !groups.empty() &&
                                groups.back().steps.back().group == step.group;
    if (!joins_previous) groups.emplace_back();
    groups.back().steps.push_back(step);
  }
  return groups;
}

std::vector<AgentEndpoint> Experiment::targeted_agents() const {
  std::vector<AgentEndpoint> result;
  std::set<std::string> seen;
  for (const auto& step : method) {
    for (const auto& agent : step.targets) {
      if (seen.insert(agent.address).second) result.push_back(agent);
    }
  }
  return result;
}

std::chrono::nanoseconds Experiment::method_duration() const {
  // Saturates: each step is at most a year (kMaxTomlDuration), but the
  // number of steps is not bounded as tightly.
  std::chrono::nanoseconds total{0};
  for (const auto& group : schedule()) {
    total = group.duration() > std::chrono::nanoseconds::max() - total ? std::chrono::nanoseconds::max()
                                                                       : total + group.duration();
  }
  return total;
}

}  // namespace chaos::orchestrator
