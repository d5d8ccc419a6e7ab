#include "orchestrator/run/plan_printer.h"

#include <charconv>

#include "common/duration.h"
#include "common/toml_reader.h"
#include "orchestrator/experiment/fault_spec_builder.h"

namespace chaos::orchestrator {

namespace {

std::string number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string rule(const Condition& condition) {
  return std::string(comparator_symbol(condition.comparator)) + " " + number(condition.threshold);
}

std::string plan_node_list(const std::vector<std::string>& nodes) {
  std::string text;
  for (const auto& node : nodes) text += (text.empty() ? "" : ", ") + node;
  return text.empty() ? "(not resolved)" : text;
}

void print_compare_checks(std::ostream& out, const Experiment& experiment) {
  if (experiment.compare.empty()) return;
  out << "compare (faulted vs control):\n";
  for (const auto& check : experiment.compare) {
    out << "  - " << check.name << ": " << check.query << " "
        << (check.relative ? "|f - c| / |c| < " : "|f - c| < ") << number(check.tolerance) << " [";
    const char* separator = "";
    for (auto phase : {Phase::kDuring, Phase::kAfter}) {
      if (!check.applies_to(phase)) continue;
      out << separator << phase_name(phase);
      separator = ", ";
    }
    out << "]\n      faulted: " << plan_node_list(check.faulted_nodes)
        << "\n      control: " << plan_node_list(check.control_nodes) << "\n";
  }
}

void print_checks(std::ostream& out, const Experiment& experiment) {
  out << "steady state:\n";
  for (const auto& check : experiment.steady_state) {
    out << "  - " << check.condition.name << ": " << check.condition.query << " " << rule(check.condition)
        << " [";
    const char* separator = "";
    for (auto phase : {Phase::kBefore, Phase::kDuring, Phase::kAfter}) {
      if (!check.applies_to(phase)) continue;
      out << separator << phase_name(phase);
      separator = ", ";
    }
    out << "]\n";
  }
  if (experiment.steady_state.empty()) out << "  (none)\n";
  out << "abort when:\n";
  for (const auto& abort : experiment.aborts) {
    out << "  - " << abort.condition.name << ": " << abort.condition.query << " " << rule(abort.condition) << "\n";
  }
  if (experiment.aborts.empty()) out << "  (never)\n";
  print_compare_checks(out, experiment);
}

void print_method(std::ostream& out, const Experiment& experiment) {
  out << "method (" << format_duration(experiment.method_duration()) << "):\n";
  std::chrono::nanoseconds offset{0};
  for (const auto& group : experiment.schedule()) {
    for (const auto& step : group.steps) {
      out << "  t+" << format_duration(offset) << "  " << step.name << ": " << step.kind << " for "
          << format_duration(step.duration);
      if (!step.group.empty()) out << " (group " << step.group << ")";
      if (!step.is_wait()) {
        out << " on";
        for (const auto& target : step.targets) out << " " << target.node << "(" << target.address << ")";
        if (step.spec.has_target()) out << ", in each: " << describe_container_target(step.spec.target());
      }
      out << "\n";
    }
    offset += group.duration();
  }
}

// A finding's texts may span lines (the loader allows newlines): each
// further line is indented under its key. Trailing newlines (a TOML """
// text ends with one) are dropped, so no line of spaces follows.
void print_finding_text(std::ostream& out, const char* key, const std::string& text) {
  const auto last = text.find_last_not_of('\n');
  if (last == std::string::npos) return;
  out << "  " << key << ": ";
  bool line_start = false;
  for (char c : text.substr(0, last + 1)) {
    if (line_start && c != '\n') out << "    ";
    out << c;
    line_start = c == '\n';
  }
  out << "\n";
}

void print_finding(std::ostream& out, const Experiment& experiment) {
  if (!experiment.finding) return;
  const Finding& finding = *experiment.finding;
  out << "finding:\n";
  print_finding_text(out, "observed", finding.observed);
  print_finding_text(out, "mechanism", finding.mechanism);
  print_finding_text(out, "remedy", finding.remedy);
  if (!finding.remedied_by.empty()) {
    print_finding_text(out, "remedied by",
                       finding.remedied_by + " (" + path_relative_to(experiment.source_path, finding.remedied_by) + ")");
  }
}

}  // namespace

void print_plan(std::ostream& out, const Experiment& experiment) {
  out << "experiment: " << experiment.title << " (" << experiment.source_path << ")\n";
  if (!experiment.hypothesis.empty()) out << "hypothesis: " << experiment.hypothesis << "\n";
  out << "prometheus: " << experiment.prometheus_url << "\n";
  out << "agents: " << experiment.agents.size() << " known, " << experiment.targeted_agents().size()
      << " targeted\n";
  print_finding(out, experiment);
  print_checks(out, experiment);
  print_method(out, experiment);
  out << "then: revert everything";
  if (experiment.recovery_within) out << ", recovery within " << format_duration(*experiment.recovery_within);
  out << ", after checks, verdict\n";
}

}  // namespace chaos::orchestrator
