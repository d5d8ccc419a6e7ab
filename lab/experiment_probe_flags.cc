#include "lab/experiment_probe_flags.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/toml_reader.h"

namespace chaos::lab {

namespace {

void check_probe_flags_at(const toml::array& array, const std::string& broker, Diagnostics& diagnostics) {
  if (auto problem = probe_flag_count_problem(array.size()); !problem.empty()) {
    diagnostics.error(array.source(), "lab.probe_flags " + problem);
  }
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto* flag = array.get(i);
    if (flag == nullptr || !flag->is_string()) continue;  // the string_list reader reported it
    if (auto problem = probe_flag_problem(*flag->value<std::string>(), broker); !problem.empty()) {
      diagnostics.error(flag->source(), "lab.probe_flags[" + std::to_string(i) + "] " + problem);
    }
  }
}

}  // namespace

Status check_probe_flags(const std::vector<std::string>& flags, const std::string& broker, const std::string& where) {
  if (auto problem = probe_flag_count_problem(flags.size()); !problem.empty()) {
    return invalid_argument(where + ": the probe flags " + problem);
  }
  for (std::size_t i = 0; i < flags.size(); ++i) {
    if (auto problem = probe_flag_problem(flags[i], broker); !problem.empty()) {
      return invalid_argument(where + ": probe flag " + std::to_string(i + 1) + " " + problem);
    }
  }
  return {};
}

StatusOr<std::vector<std::string>> read_experiment_probe_flags(const std::string& path, const std::string& broker) {
  Diagnostics diagnostics(path);
  auto document = parse_toml_file(path, diagnostics);
  if (!document) return diagnostics.to_status();
  const toml::node* lab = document->get("lab");
  if (lab == nullptr) return std::vector<std::string>{};
  if (!lab->is_table()) {
    diagnostics.error(lab->source(), std::string("lab: expected a table, got ") + toml_type_name(*lab));
    return diagnostics.to_status();
  }
  TableReader reader(*lab->as_table(), "lab", diagnostics);
  auto flags = reader.string_list("probe_flags");
  reader.reject_unknown_keys();
  if (flags) check_probe_flags_at(*lab->as_table()->get("probe_flags")->as_array(), broker, diagnostics);
  if (!diagnostics.empty()) return diagnostics.to_status();
  return flags.value_or(std::vector<std::string>{});
}

std::string probe_flags_path(const LabLayout& layout) { return layout.path("run/probe-flags.json"); }

Status save_probe_flags(const LabLayout& layout, const std::vector<std::string>& flags) {
  const std::string path = probe_flags_path(layout);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << nlohmann::json{{"probe_flags", flags}}.dump() << "\n";
    if (!out.flush()) return internal_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return internal_error("cannot rename " + temporary + " to " + path);
  }
  return {};
}

StatusOr<std::vector<std::string>> load_probe_flags(const LabLayout& layout) {
  const std::string path = probe_flags_path(layout);
  std::ifstream in(path);
  if (!in) return std::vector<std::string>{};
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, false);
  std::vector<std::string> flags;
  const bool valid = json.is_object() && json.contains("probe_flags") && json["probe_flags"].is_array();
  for (const auto& flag : valid ? json["probe_flags"] : nlohmann::json::array()) {
    if (!flag.is_string()) return internal_error(path + ": probe_flags holds a " + flag.type_name());
    flags.push_back(flag.get<std::string>());
  }
  if (!valid) return internal_error(path + ": not a {\"probe_flags\": [...]} object");
  return flags;
}

std::string describe_probe_flags(const std::vector<std::string>& flags) {
  if (flags.empty()) return "(none: the standard probe)";
  std::string text;
  for (const auto& flag : flags) text += (text.empty() ? "" : " ") + flag;
  return text;
}

}  // namespace chaos::lab
