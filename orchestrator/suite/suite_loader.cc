#include "orchestrator/suite/suite_loader.h"

#include <filesystem>

#include "common/toml_reader.h"

namespace chaos::orchestrator {

namespace {

namespace fs = std::filesystem;

const DurationLimits kSuiteSettleLimits{false, kSuiteMaxSettleTimeout};

void read_suite_header(TableReader& root, Suite& suite) {
  const toml::table* table = root.table("suite");
  if (table == nullptr) {
    if (root.node("suite") == nullptr) root.error_here("missing required table [suite]");
    return;
  }
  TableReader reader(*table, "suite", root.diagnostics());
  suite.title = reader.string("title").value_or(fs::path(suite.source_path).stem().string());
  suite.settle_timeout = reader.duration("settle_timeout", false, kSuiteSettleLimits).value_or(suite.settle_timeout);
  if (auto interval = reader.duration("settle_interval", false, kSuiteSettleLimits)) {
    if (*interval < kSuiteMinSettleInterval) {
      reader.error_at_key("settle_interval", "must be at least 100ms");
    }
    suite.settle_interval = *interval;
  }
  suite.fail_fast = reader.boolean("fail_fast").value_or(false);
  reader.reject_unknown_keys();
}

void read_suite_entries(TableReader& root, Suite& suite) {
  const toml::array* runs = root.array_of_tables("run");
  if (runs == nullptr || runs->empty()) {
    if (root.node("run") == nullptr) root.error_here("a suite needs at least one [[run]] with a file");
    return;
  }
  if (runs->size() > kSuiteMaxExperiments) {
    root.error_at_key("run", std::to_string(runs->size()) + " entries, at most " +
                                 std::to_string(kSuiteMaxExperiments) + " per suite");
    return;
  }
  for (size_t i = 0; i < runs->size(); ++i) {
    TableReader reader(*runs->get(i)->as_table(), "run[" + std::to_string(i) + "]", root.diagnostics());
    SuiteEntry entry;
    entry.file = path_relative_to(suite.source_path, reader.string("file", true).value_or(""));
    if (auto inventory = reader.string("inventory")) entry.inventory = path_relative_to(suite.source_path, *inventory);
    entry.prometheus = reader.string("prometheus");
    if (entry.prometheus && entry.prometheus->rfind("http://", 0) != 0 &&
        entry.prometheus->rfind("https://", 0) != 0) {
      reader.error_at_key("prometheus", "'" + *entry.prometheus + "' is not an http:// URL");
    }
    entry.settle_timeout = reader.duration("settle_timeout", false, kSuiteSettleLimits);
    reader.reject_unknown_keys();
    suite.entries.push_back(std::move(entry));
  }
}

}  // namespace

StatusOr<Suite> load_suite(const std::string& path) {
  Diagnostics diagnostics(path);
  auto root = parse_toml_file(path, diagnostics);
  if (!root) return diagnostics.to_status();
  Suite suite;
  suite.source_path = path;
  TableReader reader(*root, "", diagnostics);
  read_suite_header(reader, suite);
  read_suite_entries(reader, suite);
  reader.reject_unknown_keys();
  if (!diagnostics.empty()) return diagnostics.to_status();
  return suite;
}

bool is_suite_file(const std::string& path) {
  Diagnostics ignored(path);
  auto root = parse_toml_file(path, ignored);
  return root && root->contains("suite") && root->get("suite")->is_table();
}

Suite suite_of_files(const std::vector<std::string>& files) {
  Suite suite;
  suite.title = std::to_string(files.size()) + " experiments";
  for (const auto& file : files) suite.entries.push_back({file, {}, {}, {}});
  return suite;
}

}  // namespace chaos::orchestrator
