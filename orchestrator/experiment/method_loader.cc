#include "orchestrator/experiment/method_loader.h"

#include <charconv>
#include <limits>

#include "orchestrator/experiment/fault_spec_builder.h"
#include "orchestrator/experiment/target_selector.h"
#include "proto/fault_kinds.h"

namespace chaos::orchestrator {

namespace {

std::optional<Condition> read_condition(TableReader& reader, const std::string& default_name) {
  Condition condition;
  condition.name = reader.string("name").value_or(default_name);
  auto query = reader.string("query", true);
  auto comparator_text = reader.string("comparator", true);
  auto threshold = reader.number("threshold", true);
  if (query && query->find_first_not_of(" \t\r\n") == std::string::npos) {
    reader.error_at(*reader.node("query"), reader.name() + ".query: must not be empty");
    query.reset();
  }
  std::optional<Comparator> comparator;
  if (comparator_text) {
    comparator = parse_comparator(*comparator_text);
    if (!comparator) {
      reader.error_at(*reader.node("comparator"), reader.name() + ".comparator: '" + *comparator_text +
                                                      "' is not one of < <= > >= == !=");
    }
  }
  if (!query || !comparator || !threshold) return std::nullopt;
  condition.query = *query;
  condition.comparator = *comparator;
  condition.threshold = *threshold;
  return condition;
}

bool read_phases(TableReader& reader, SteadyStateCheck& check) {
  auto phases = reader.string_list("phases");
  if (!phases) return reader.node("phases") == nullptr;
  const toml::node& node = *reader.node("phases");
  if (phases->empty()) {
    reader.error_at(node, reader.name() + ".phases: must name at least one phase");
    return false;
  }
  check.in_before = check.in_during = check.in_after = false;
  for (const auto& phase : *phases) {
    if (phase == "before") check.in_before = true;
    else if (phase == "during") check.in_during = true;
    else if (phase == "after") check.in_after = true;
    else {
      reader.error_at(node, reader.name() + ".phases: '" + phase + "' is not before, during or after");
      return false;
    }
  }
  return true;
}

std::string number_text(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::optional<std::string> scalar_text(const toml::node& node) {
  if (node.is_string()) return *node.value<std::string>();
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (node.is_floating_point()) return number_text(*node.value<double>());
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  return std::nullopt;
}

std::optional<ParamMap> read_params(TableReader& reader) {
  const toml::table* table = reader.table("params");
  ParamMap params;
  if (table == nullptr) return reader.node("params") == nullptr ? std::optional(params) : std::nullopt;
  for (const auto& [key, node] : *table) {
    ParamValue value;
    value.origin = reader.diagnostics().where(node);
    const std::string name(key.str());
    if (const toml::array* array = node.as_array()) {
      value.is_list = true;
      for (const auto& item : *array) {
        auto text = scalar_text(item);
        if (!text) {
          reader.error_at(item, reader.name() + ".params." + name + ": list items must be plain values");
          return std::nullopt;
        }
        value.items.push_back(*text);
      }
    } else if (auto text = scalar_text(node)) {
      value.items.push_back(*text);
    } else {
      reader.error_at(node, reader.name() + ".params." + name + ": expected a value or a list, got " +
                                toml_type_name(node));
      return std::nullopt;
    }
    params.emplace(name, std::move(value));
  }
  return params;
}

std::optional<TargetSelector> read_selector(TableReader& reader) {
  TargetSelector selector;
  const toml::table* table = reader.table("targets");
  if (table == nullptr) return reader.node("targets") == nullptr ? std::optional(selector) : std::nullopt;
  TableReader targets(*table, reader.name() + ".targets", reader.diagnostics());
  auto labels = targets.string_map("labels");
  auto count = targets.integer("count", 1, std::numeric_limits<uint32_t>::max());
  auto percent = targets.number("percent");
  auto seed = targets.integer("seed", 0, std::numeric_limits<int64_t>::max());
  targets.reject_unknown_keys();
  if (labels) selector.labels = *labels;
  if (count) selector.count = static_cast<uint32_t>(*count);
  if (percent && (*percent <= 0 || *percent > 100)) {
    targets.error_at(*targets.node("percent"), targets.name() + ".percent: must be in (0, 100]");
    return std::nullopt;
  }
  selector.percent = percent;
  if (count && percent) {
    targets.error_here(targets.name() + ": give count or percent, not both");
    return std::nullopt;
  }
  selector.seed = static_cast<uint64_t>(seed.value_or(0));
  return selector;
}

// The step's `target` (FaultSpec.target): which containers on each agent
// the fault acts in. False after an error; `target` stays empty without
// the key (the fault acts on the agent's host).
bool read_container_target(TableReader& reader, std::optional<v1::ContainerSelector>& target) {
  const toml::table* table = reader.table("target");
  if (table == nullptr) return reader.node("target") == nullptr;
  TableReader in(*table, reader.name() + ".target", reader.diagnostics());
  const size_t errors_before = reader.diagnostics().errors().size();
  auto runtime = in.string("runtime");
  auto name = in.string("name");
  auto id_prefix = in.string("id_prefix");
  auto labels = in.string_map("labels");
  auto pod_namespace = in.string("pod_namespace");
  auto pod_name = in.string("pod_name");
  auto pod_labels = in.string_map("pod_labels");
  auto container_name = in.string("container_name");
  auto count = in.integer("count", 1, std::numeric_limits<uint32_t>::max());
  auto percent = in.number("percent");
  in.reject_unknown_keys();
  if (percent && (*percent <= 0 || *percent > 100)) {
    in.error_at_key("percent", "must be in (0, 100]");
  }
  if (reader.diagnostics().errors().size() != errors_before) return false;
  v1::ContainerSelector selector;
  selector.set_runtime(runtime.value_or(""));
  selector.set_name(name.value_or(""));
  selector.set_id_prefix(id_prefix.value_or(""));
  if (labels) selector.mutable_labels()->insert(labels->begin(), labels->end());
  selector.set_pod_namespace(pod_namespace.value_or(""));
  selector.set_pod_name(pod_name.value_or(""));
  if (pod_labels) selector.mutable_pod_labels()->insert(pod_labels->begin(), pod_labels->end());
  selector.set_container_name(container_name.value_or(""));
  selector.set_count(static_cast<uint32_t>(count.value_or(0)));
  selector.set_percent(percent.value_or(0));
  target = selector;
  return true;
}

// A selector check's message starts with the field's path
// ("method[0].target.id_prefix: ..."): point at that key when it is written.
void report_target_error(TableReader& reader, const std::string& message) {
  const toml::node* target = reader.node("target");
  const std::string prefix = reader.name() + ".target.";
  const toml::node* at = target;
  if (message.rfind(prefix, 0) == 0 && target != nullptr && target->is_table()) {
    const std::string rest = message.substr(prefix.size());
    const std::string key = rest.substr(0, rest.find_first_of(".: "));
    if (const toml::node* node = target->as_table()->get(key)) at = node;
  }
  if (at != nullptr) reader.error_at(*at, message);
  else reader.error_here(message);
}

bool resolve_targets(TableReader& reader, MethodStep& step, const std::vector<AgentEndpoint>& agents) {
  step.targets = select_targets(agents, step.selector);
  if (!step.targets.empty()) return true;
  const toml::node* targets = reader.node("targets");
  const std::string message = reader.name() + ": targets " + describe_labels(step.selector.labels) +
                              " match none of the " + std::to_string(agents.size()) + " known agents";
  if (targets != nullptr) reader.error_at(*targets, message);
  else reader.error_here(message);
  return false;
}

}  // namespace

std::optional<SteadyStateCheck> read_steady_state(TableReader& reader) {
  SteadyStateCheck check;
  auto condition = read_condition(reader, reader.name());
  const bool phases_ok = read_phases(reader, check);
  reader.reject_unknown_keys();
  if (!condition || !phases_ok) return std::nullopt;
  check.condition = *condition;
  return check;
}

std::optional<AbortCondition> read_abort(TableReader& reader) {
  auto condition = read_condition(reader, reader.name());
  reader.reject_unknown_keys();
  if (!condition) return std::nullopt;
  return AbortCondition{*condition};
}

std::optional<MethodStep> read_method_step(TableReader& reader, const std::vector<AgentEndpoint>* agents,
                                           v1::VerifyMode default_verify) {
  MethodStep step;
  auto kind = reader.string("kind", true);
  auto duration = reader.duration("duration", true);
  step.group = reader.string("group").value_or("");
  step.verify = default_verify;
  if (auto verify = reader.string("verify")) {
    auto mode = parse_verify_mode(*verify);
    if (!mode) {
      reader.error_at(*reader.node("verify"),
                      reader.name() + ".verify: '" + *verify + "' is not one of required, best-effort, off");
      return std::nullopt;
    }
    step.verify = *mode;
  }
  auto params = read_params(reader);
  auto selector = read_selector(reader);
  std::optional<v1::ContainerSelector> container_target;
  const bool target_ok = read_container_target(reader, container_target);
  step.name = reader.string("name").value_or(reader.name() + " " + kind.value_or("?"));
  reader.reject_unknown_keys();
  if (!kind || !duration || !params || !selector || !target_ok) return std::nullopt;
  step.kind = *kind;
  step.duration = *duration;
  step.selector = *selector;
  if (step.is_wait()) {
    for (const char* key : {"params", "targets", "target", "verify"}) {
      if (const toml::node* node = reader.node(key)) {
        reader.error_at(*node, reader.name() + "." + key + ": a wait step takes no " + key);
        return std::nullopt;
      }
    }
    return step;
  }
  const toml::node& kind_node = *reader.node("kind");
  if (fault_kind_from_name(step.kind) == v1::FaultSpec::KIND_NOT_SET) {
    reader.error_at(kind_node, reader.name() + ".kind: unknown fault kind '" + step.kind + "'");
    return std::nullopt;
  }
  auto spec = build_fault_spec(step.kind, *params, reader.diagnostics().where(kind_node));
  if (!spec.ok()) {
    // The builder's message already starts with the parameter's position.
    reader.diagnostics().add_located(spec.status().message());
    return std::nullopt;
  }
  step.spec = *spec;
  if (container_target) {
    const Status status = set_container_target(*container_target, reader.name() + ".target", step.spec);
    if (!status.ok()) {
      report_target_error(reader, status.message());
      return std::nullopt;
    }
  }
  const Status given = check_container_target_given(step.spec, step.kind, reader.name());
  if (!given.ok()) {
    reader.error_at(kind_node, given.message());
    return std::nullopt;
  }
  if (agents != nullptr && !resolve_targets(reader, step, *agents)) return std::nullopt;
  return step;
}

}  // namespace chaos::orchestrator
