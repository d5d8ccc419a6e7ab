#include "orchestrator/experiment/compare_loader.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "orchestrator/experiment/target_selector.h"

namespace chaos::orchestrator {

namespace {

constexpr std::string_view kComparePlaceholder = "$nodes";
constexpr std::string_view kCompareRegexMeta = "\\.+*?()|[]{}^$";

std::string join_nodes(const std::vector<std::string>& nodes) {
  std::string text;
  for (const auto& node : nodes) text += (text.empty() ? "" : ", ") + node;
  return text;
}

// The regex as it must be spelled inside a PromQL string quoted by `quote`.
StatusOr<std::string> compare_string_literal(const std::string& regex, char quote) {
  if (quote == '`') {
    if (regex.find('`') != std::string::npos) {
      return invalid_argument("a node name contains a backquote, which a `...` string cannot hold");
    }
    return regex;
  }
  std::string text;
  for (char c : regex) {
    if (c == '\\' || c == quote) text += '\\';
    text += c;
  }
  return text;
}

// Each key's own checks; false after an error (already reported).
bool read_compare_tolerance(TableReader& reader, CompareCheck& check) {
  const auto relative = reader.number("tolerance");
  const auto absolute = reader.number("max_difference");
  if (relative && absolute) {
    reader.error_here(reader.name() + ": give tolerance (relative) or max_difference (absolute), not both");
    return false;
  }
  if (!relative && !absolute) {
    if (reader.node("tolerance") == nullptr && reader.node("max_difference") == nullptr) {
      reader.error_here(reader.name() + ": needs tolerance (relative: 0.25 allows |faulted - control| < 25 % of "
                                        "|control|) or max_difference (absolute, in the query's unit)");
    }
    return false;
  }
  check.relative = relative.has_value();
  check.tolerance = relative ? *relative : *absolute;
  const char* key = relative ? "tolerance" : "max_difference";
  if (!std::isfinite(check.tolerance) || check.tolerance <= 0) {
    reader.error_at_key(key, "must be a number above 0");
    return false;
  }
  if (relative && check.tolerance > kCompareMaxTolerance) {
    reader.error_at_key(key, "must be at most 100 (10000 %): a relative tolerance, 0.25 = 25 %");
    return false;
  }
  return true;
}

bool read_compare_phases(TableReader& reader, CompareCheck& check) {
  const auto phases = reader.string_list("phases");
  if (!phases) return reader.node("phases") == nullptr;
  if (phases->empty()) {
    reader.error_at_key("phases", "must name at least one phase (during, after)");
    return false;
  }
  check.in_during = check.in_after = false;
  for (const auto& phase : *phases) {
    if (phase == "during") {
      check.in_during = true;
    } else if (phase == "after") {
      check.in_after = true;
    } else {
      reader.error_at_key("phases", "'" + phase + "' is not during or after" +
                                        (phase == "before" ? " (before the method nothing is faulted yet)" : ""));
      return false;
    }
  }
  return true;
}

// control = { labels = {...} } or control_nodes = [...]; both absent leaves
// `labels` and `nodes` empty (every other agent's node).
bool read_compare_control(TableReader& reader, std::optional<Labels>& labels,
                          std::optional<std::vector<std::string>>& nodes) {
  const size_t errors_before = reader.diagnostics().errors().size();
  if (const toml::table* table = reader.table("control")) {
    TableReader control(*table, reader.name() + ".control", reader.diagnostics());
    labels = control.string_map("labels");
    control.reject_unknown_keys();
    if (!labels && control.node("labels") == nullptr) {
      control.error_here(control.name() + ": needs labels = { ... } (the agents whose nodes are the control set)");
    }
  }
  nodes = reader.string_list("control_nodes");
  if (reader.diagnostics().errors().size() != errors_before) return false;
  if (reader.node("control") != nullptr && reader.node("control_nodes") != nullptr) {
    reader.error_here(reader.name() + ": give control (labels) or control_nodes, not both");
    return false;
  }
  if (nodes) {
    if (nodes->empty()) {
      reader.error_at_key("control_nodes", "must name at least one node");
      return false;
    }
    if (nodes->size() > kCompareMaxNodes) {
      reader.error_at_key("control_nodes", "at most " + std::to_string(kCompareMaxNodes) + " nodes");
      return false;
    }
    if (std::find(nodes->begin(), nodes->end(), "") != nodes->end()) {
      reader.error_at_key("control_nodes", "a node name must not be empty");
      return false;
    }
  }
  return true;
}

void add_unique(std::vector<std::string>& nodes, const std::string& node) {
  if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) nodes.push_back(node);
}

// Points at `key` when it is written, else at the [[compare]] table.
void compare_error(TableReader& reader, const char* key, const std::string& message) {
  if (key != nullptr && reader.node(key) != nullptr) reader.error_at_key(key, message);
  else reader.error_here(reader.name() + ": " + message);
}

bool resolve_compare_nodes(TableReader& reader, const Experiment& experiment, const std::optional<Labels>& labels,
                           const std::optional<std::vector<std::string>>& control_nodes, CompareCheck& check) {
  for (const auto& agent : experiment.targeted_agents()) {
    if (agent.node.empty()) {
      compare_error(reader, nullptr, "the targeted agent " + agent.address + " has no node name to compare by");
      return false;
    }
    add_unique(check.faulted_nodes, agent.node);
  }
  if (check.faulted_nodes.empty()) {
    compare_error(reader, nullptr, "the method targets no node, so there is no faulted set to compare");
    return false;
  }
  const char* control_key = control_nodes ? "control_nodes" : labels ? "control" : nullptr;
  if (control_nodes) {
    for (const auto& node : *control_nodes) add_unique(check.control_nodes, node);
  } else {
    TargetSelector selector;
    selector.labels = labels.value_or(Labels{});
    const std::set<std::string> faulted(check.faulted_nodes.begin(), check.faulted_nodes.end());
    for (const auto& agent : select_targets(experiment.agents, selector)) {
      if (agent.node.empty()) continue;
      // Without an explicit control set the control is every node NOT faulted.
      if (labels || faulted.count(agent.node) == 0) add_unique(check.control_nodes, agent.node);
    }
  }
  if (check.control_nodes.empty()) {
    compare_error(reader, control_key,
                  labels ? "the control labels " + describe_labels(*labels) + " match no agent with a node name"
                         : "the control set is empty: every agent's node is faulted (" +
                               join_nodes(check.faulted_nodes) + "); name control_nodes, e.g. probes");
    return false;
  }
  std::vector<std::string> overlap;
  for (const auto& node : check.control_nodes) {
    if (std::find(check.faulted_nodes.begin(), check.faulted_nodes.end(), node) != check.faulted_nodes.end()) {
      overlap.push_back(node);
    }
  }
  if (!overlap.empty()) {
    compare_error(reader, control_key, "the control set overlaps the faulted set (" + join_nodes(check.faulted_nodes) +
                                           ") in " + join_nodes(overlap));
    return false;
  }
  if (check.control_nodes.size() > kCompareMaxNodes || check.faulted_nodes.size() > kCompareMaxNodes) {
    compare_error(reader, control_key, "at most " + std::to_string(kCompareMaxNodes) + " nodes on each side");
    return false;
  }
  auto faulted = substitute_nodes(check.query, check.faulted_nodes);
  auto control = substitute_nodes(check.query, check.control_nodes);
  if (!faulted.ok() || !control.ok()) {
    compare_error(reader, "query", (faulted.ok() ? control : faulted).status().message());
    return false;
  }
  check.faulted_query = *faulted;
  check.control_query = *control;
  return true;
}

std::optional<CompareCheck> read_compare_check(TableReader& reader, const Experiment& experiment,
                                               bool resolve_agents) {
  const size_t errors_before = reader.diagnostics().errors().size();
  CompareCheck check;
  check.name = reader.string("name").value_or(reader.name());
  const auto query = reader.string("query", true);
  const bool tolerance_ok = read_compare_tolerance(reader, check);
  const bool phases_ok = read_compare_phases(reader, check);
  std::optional<Labels> labels;
  std::optional<std::vector<std::string>> control_nodes;
  const bool control_ok = read_compare_control(reader, labels, control_nodes);
  reader.reject_unknown_keys();
  if (query) {
    check.query = *query;
    // A stand-in node checks the placeholder before the node sets are known.
    const auto substituted = substitute_nodes(check.query, {"node"});
    if (!substituted.ok()) reader.error_at_key("query", substituted.status().message());
  }
  if (reader.diagnostics().errors().size() != errors_before || !query || !tolerance_ok || !phases_ok ||
      !control_ok) {
    return std::nullopt;
  }
  if (resolve_agents && !resolve_compare_nodes(reader, experiment, labels, control_nodes, check)) return std::nullopt;
  return check;
}

}  // namespace

std::string nodes_regex(const std::vector<std::string>& nodes) {
  std::string regex;
  for (const auto& node : nodes) {
    if (!regex.empty()) regex += '|';
    for (char c : node) {
      if (kCompareRegexMeta.find(c) != std::string_view::npos) regex += '\\';
      regex += c;
    }
  }
  return regex;
}

StatusOr<std::string> substitute_nodes(const std::string& query, const std::vector<std::string>& nodes) {
  if (nodes.empty()) return invalid_argument("no nodes to put in place of $nodes");
  const std::string regex = nodes_regex(nodes);
  std::string result;
  char quote = 0;  // the quote of the string literal we are in, or 0
  size_t found = 0;
  for (size_t i = 0; i < query.size();) {
    const bool at_placeholder = query.compare(i, kComparePlaceholder.size(), kComparePlaceholder) == 0;
    if (quote == 0) {
      if (at_placeholder) {
        return invalid_argument("$nodes (at offset " + std::to_string(i) +
                                ") must stand inside a quoted label matcher, like node=~\"$nodes\"");
      }
      if (query[i] == '"' || query[i] == '\'' || query[i] == '`') quote = query[i];
      result += query[i++];
    } else if (at_placeholder) {
      CHAOS_ASSIGN_OR_RETURN(auto literal, compare_string_literal(regex, quote));
      result += literal;
      i += kComparePlaceholder.size();
      ++found;
    } else if (query[i] == '\\' && quote != '`' && i + 1 < query.size()) {
      result += query.substr(i, 2);
      i += 2;
    } else {
      if (query[i] == quote) quote = 0;
      result += query[i++];
    }
  }
  if (found == 0) {
    return invalid_argument("has no $nodes placeholder: write it where the node label is matched, like "
                            "{node=~\"$nodes\"} (faulted and control nodes are put in its place)");
  }
  return result;
}

std::vector<CompareCheck> read_compare_checks(TableReader& root, const Experiment& experiment,
                                              bool resolve_agents) {
  std::vector<CompareCheck> checks;
  const toml::array* tables = root.array_of_tables("compare");
  if (tables == nullptr) return checks;
  if (tables->size() > kCompareMaxChecks) {
    root.error_at(*root.node("compare"), "compare: at most " + std::to_string(kCompareMaxChecks) +
                                             " [[compare]] checks, found " + std::to_string(tables->size()));
    return checks;
  }
  // Names key the journal's records, the failed checks and the charts: two
  // checks of one name would mix their points and hide a failure.
  std::set<std::string> names;
  for (const auto& check : experiment.steady_state) names.insert(check.condition.name);
  for (size_t i = 0; i < tables->size(); ++i) {
    TableReader reader(*tables->get(i)->as_table(), "compare[" + std::to_string(i) + "]", root.diagnostics());
    auto check = read_compare_check(reader, experiment, resolve_agents);
    if (!check) continue;
    if (!names.insert(check->name).second) {
      if (reader.node("name") != nullptr) {
        reader.error_at_key("name", "'" + check->name + "' is already the name of another check");
      } else {
        reader.error_here(reader.name() + ": '" + check->name + "' is already the name of another check");
      }
      continue;
    }
    checks.push_back(std::move(*check));
  }
  return checks;
}

}  // namespace chaos::orchestrator
