#include "orchestrator/experiment/finding_loader.h"

#include <filesystem>

#include "lab/probe_flag_rules.h"

namespace chaos::orchestrator {

namespace {

// One probe flag: it becomes one argv element of chaos-probe.
void check_probe_flag(TableReader& reader, const toml::node& item, size_t index) {
  const std::string where = "lab.probe_flags[" + std::to_string(index) + "]";
  if (!item.is_string()) {
    reader.error_at(item, where + ": expected a string, got " + toml_type_name(item));
    return;
  }
  // The broker is the lab's, not known here.
  if (auto problem = lab::probe_flag_problem(*item.value<std::string>(), ""); !problem.empty()) {
    reader.error_at(item, where + " " + problem);
  }
}

std::optional<std::string> read_finding_text(TableReader& reader, const std::string& key, bool required) {
  auto text = reader.string(key, required);
  if (!text) return std::nullopt;
  if (text->size() > kMaxFindingTextBytes) {
    reader.error_at_key(key, std::to_string(text->size()) + " bytes, more than " +
                                 std::to_string(kMaxFindingTextBytes));
    return std::nullopt;
  }
  return text;  // control characters: TableReader::string refused them
}

void check_remedied_by(TableReader& reader, const std::string& written, const std::string& source_path) {
  if (written.empty()) {
    reader.error_at_key("remedied_by", "empty (omit the key when there is no remedied twin)");
    return;
  }
  const std::string path = path_relative_to(source_path, written);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    reader.error_at_key("remedied_by", "'" + written + "' is not a file (looked for " + path + ")");
  }
}

}  // namespace

LabSettings read_lab_settings(TableReader& root) {
  LabSettings lab;
  const toml::table* table = root.table("lab");
  if (table == nullptr) return lab;
  TableReader reader(*table, "lab", root.diagnostics());
  if (const toml::node* flags = reader.node("probe_flags")) {
    const toml::array* array = flags->as_array();
    if (array == nullptr) {
      reader.error_at(*flags, std::string("lab.probe_flags: expected a list of strings, got ") +
                                  toml_type_name(*flags));
    } else if (auto problem = lab::probe_flag_count_problem(array->size()); !problem.empty()) {
      reader.error_at(*flags, "lab.probe_flags " + problem);
    } else {
      const size_t errors_before = root.diagnostics().errors().size();
      for (size_t i = 0; i < array->size(); ++i) check_probe_flag(reader, *array->get(i), i);
      if (root.diagnostics().errors().size() == errors_before) {
        for (const auto& item : *array) lab.probe_flags.push_back(*item.value<std::string>());
      }
    }
  }
  reader.reject_unknown_keys();
  return lab;
}

std::optional<Finding> read_finding(TableReader& root, const std::string& source_path) {
  const toml::table* table = root.table("finding");
  if (table == nullptr) return std::nullopt;
  TableReader reader(*table, "finding", root.diagnostics());
  Finding finding;
  finding.observed = read_finding_text(reader, "observed", false).value_or("");
  finding.mechanism = read_finding_text(reader, "mechanism", false).value_or("");
  if (auto remedy = read_finding_text(reader, "remedy", true)) {
    if (remedy->empty()) reader.error_at_key("remedy", "empty: say what to change");
    finding.remedy = *remedy;
  }
  if (auto remedied_by = read_finding_text(reader, "remedied_by", false)) {
    check_remedied_by(reader, *remedied_by, source_path);
    finding.remedied_by = *remedied_by;
  }
  reader.reject_unknown_keys();
  return finding;
}

}  // namespace chaos::orchestrator
