#include "orchestrator/experiment/experiment_loader.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "orchestrator/experiment/compare_loader.h"
#include "orchestrator/experiment/finding_loader.h"
#include "orchestrator/experiment/http_endpoint_config.h"
#include "orchestrator/experiment/inventory.h"
#include "orchestrator/experiment/method_loader.h"
#include "orchestrator/experiment/notify_loader.h"
#include "common/toml_reader.h"

namespace chaos::orchestrator {

namespace {

void read_header(TableReader& root, Experiment& experiment) {
  const toml::table* table = root.table("experiment");
  if (table == nullptr) {
    if (root.node("experiment") == nullptr) root.error_here("missing required table [experiment]");
    return;
  }
  TableReader reader(*table, "experiment", root.diagnostics());
  experiment.title = reader.string("title", true).value_or("");
  experiment.description = reader.string("description").value_or("");
  experiment.tags = reader.string_list("tags").value_or(std::vector<std::string>{});
  experiment.hypothesis = reader.string("hypothesis").value_or("");
  reader.reject_unknown_keys();
}

// [prometheus]: the URL plus TLS and credentials (http_endpoint_config.h);
// --prometheus replaces only the URL.
void read_prometheus(TableReader& root, const LoadOptions& options, Experiment& experiment) {
  const toml::table* table = root.table("prometheus");
  HttpEndpointConfig& endpoint = experiment.prometheus_endpoint;
  if (table == nullptr) {
    if (!options.prometheus_override && root.node("prometheus") == nullptr) {
      root.error_here("missing required table [prometheus] (or pass --prometheus URL)");
    }
    experiment.prometheus_url = endpoint.url = options.prometheus_override.value_or("");
    return;
  }
  TableReader reader(*table, "prometheus", root.diagnostics());
  read_http_endpoint(reader, experiment.source_path, !options.prometheus_override, "bearer_token_file", endpoint);
  reader.reject_unknown_keys();
  if (options.prometheus_override) endpoint.url = *options.prometheus_override;
  experiment.prometheus_url = endpoint.url;
  experiment.bearer_token = endpoint.bearer_token;
  const std::string plaintext = plaintext_credentials_problem(endpoint);
  if (!plaintext.empty()) {
    const toml::node* url = reader.node("url");
    if (url != nullptr) {
      reader.error_at(*url, "prometheus: " + plaintext);
    } else {
      reader.error_here("prometheus: " + plaintext);
    }
  }
}

void add_agent(TableReader& reader, const AgentEndpoint& agent, std::set<std::string>& seen,
               Experiment& experiment) {
  if (!seen.insert(agent.address).second) {
    reader.error_here(reader.name() + ": agent " + agent.address + " is already listed");
    return;
  }
  experiment.agents.push_back(agent);
}

void read_agents(TableReader& root, const LoadOptions& options, Experiment& experiment) {
  const toml::table* table = root.table("agents");
  std::optional<std::string> inventory = options.inventory_override;
  std::optional<TableReader> reader;
  if (table != nullptr) {
    reader.emplace(*table, "agents", root.diagnostics());
    if (!inventory) {
      auto written = reader->string("inventory");
      if (written) inventory = path_relative_to(experiment.source_path, *written);
    } else {
      reader->node("inventory");  // overridden, but still a known key
    }
  }
  experiment.inventory_path = inventory.value_or("");
  std::set<std::string> seen;
  if (inventory && options.resolve_agents) {
    auto agents = load_inventory(*inventory);
    if (!agents.ok()) {
      // Each line already points into the inventory file.
      std::istringstream lines(agents.status().message());
      for (std::string line; std::getline(lines, line);) root.diagnostics().add_located(line);
    } else {
      for (const auto& agent : *agents) add_agent(root, agent, seen, experiment);
    }
  }
  if (!reader) return;
  if (const toml::array* statics = reader->array_of_tables("static")) {
    for (size_t i = 0; i < statics->size(); ++i) {
      TableReader agent_reader(*statics->get(i)->as_table(), "agents.static[" + std::to_string(i) + "]",
                               root.diagnostics());
      if (auto agent = read_agent_table(agent_reader)) add_agent(agent_reader, *agent, seen, experiment);
    }
  }
  reader->reject_unknown_keys();
}

void read_settings(TableReader& root, Experiment& experiment) {
  const toml::table* table = root.table("settings");
  if (table == nullptr) return;
  TableReader reader(*table, "settings", root.diagnostics());
  Settings& settings = experiment.settings;
  settings.lease_ttl = reader.duration("lease_ttl").value_or(settings.lease_ttl);
  settings.during_interval = reader.duration("during_interval").value_or(settings.during_interval);
  settings.preflight_timeout = reader.duration("preflight_timeout").value_or(settings.preflight_timeout);
  settings.recovery_step = reader.duration("recovery_step").value_or(settings.recovery_step);
  if (auto verify = reader.string("verify")) {
    if (auto mode = parse_verify_mode(*verify)) {
      settings.verify = *mode;
    } else {
      reader.error_at(*reader.node("verify"),
                      "settings.verify: '" + *verify + "' is not one of required, best-effort, off");
    }
  }
  reader.reject_unknown_keys();
  if (settings.lease_ttl < std::chrono::seconds(1) && reader.node("lease_ttl") != nullptr) {
    reader.error_at(*reader.node("lease_ttl"), "settings.lease_ttl: must be at least 1s");
  }
  if ((settings.recovery_step < std::chrono::milliseconds(100) || settings.recovery_step > std::chrono::minutes(1)) &&
      reader.node("recovery_step") != nullptr) {
    reader.error_at(*reader.node("recovery_step"), "settings.recovery_step: must be between 100ms and 1m");
  }
  // Each interval is a round of Prometheus queries and journal entries.
  if ((settings.during_interval < std::chrono::milliseconds(100) || settings.during_interval > std::chrono::hours(1)) &&
      reader.node("during_interval") != nullptr) {
    reader.error_at(*reader.node("during_interval"), "settings.during_interval: must be between 100ms and 1h");
  }
}

void read_recovery(TableReader& root, Experiment& experiment) {
  const toml::table* table = root.table("recovery");
  if (table == nullptr) return;
  TableReader reader(*table, "recovery", root.diagnostics());
  experiment.recovery_within = reader.duration("within", true);
  reader.reject_unknown_keys();
}

template <typename T, typename ReadOne>
std::vector<T> read_each(TableReader& root, const std::string& key, ReadOne read_one) {
  std::vector<T> items;
  const toml::array* tables = root.array_of_tables(key);
  if (tables == nullptr) return items;
  for (size_t i = 0; i < tables->size(); ++i) {
    TableReader reader(*tables->get(i)->as_table(), key + "[" + std::to_string(i) + "]", root.diagnostics());
    if (auto item = read_one(reader)) items.push_back(std::move(*item));
  }
  return items;
}

void read_body(TableReader& root, const LoadOptions& options, Experiment& experiment) {
  read_header(root, experiment);
  read_prometheus(root, options, experiment);
  read_agents(root, options, experiment);
  read_settings(root, experiment);
  read_recovery(root, experiment);
  experiment.steady_state = read_each<SteadyStateCheck>(root, "steady_state", read_steady_state);
  experiment.aborts = read_each<AbortCondition>(root, "abort", read_abort);
  const std::vector<AgentEndpoint>* agents = options.resolve_agents ? &experiment.agents : nullptr;
  experiment.method = read_each<MethodStep>(root, "method", [agents, &experiment](TableReader& reader) {
    return read_method_step(reader, agents, experiment.settings.verify);
  });
  if (root.node("method") == nullptr) root.error_here("missing required [[method]] steps");
  experiment.compare = read_compare_checks(root, experiment, options.resolve_agents);
  experiment.notify = read_notify_config(root, experiment.source_path);
  experiment.lab = read_lab_settings(root);
  experiment.finding = read_finding(root, experiment.source_path);
  root.reject_unknown_keys();
}

}  // namespace

StatusOr<Experiment> load_experiment(const std::string& path, const LoadOptions& options) {
  Diagnostics diagnostics(path);
  auto root = parse_toml_file(path, diagnostics);
  if (!root) return diagnostics.to_status();
  Experiment experiment;
  experiment.source_path = path;
  TableReader reader(*root, "", diagnostics);
  read_body(reader, options, experiment);
  CHAOS_RETURN_IF_ERROR(diagnostics.to_status());
  return experiment;
}

}  // namespace chaos::orchestrator
