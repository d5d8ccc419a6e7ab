// dashboards/*.json offline: importable structure, variables defined where
// used, a fault-window annotation everywhere, and every expression valid
// PromQL according to the real `promtool check rules`. (That each one
// returns data is the lab's job: EveryDashboardExpressionReturnsData in
// tests/e2e/lab_experiments_test.cc.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "common/command_runner.h"
#include "tests/support/dashboard_queries.h"

namespace chaos::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string dashboards_dir() {
  const char* source = std::getenv("CHAOS_SOURCE_DIR");
  return std::string(source ? source : ".") + "/dashboards";
}

std::map<std::string, json> dashboards() {
  std::map<std::string, json> result;
  for (const auto& entry : fs::directory_iterator(dashboards_dir())) {
    if (entry.path().extension() == ".json") {
      result[entry.path().filename().string()] = json::parse(std::ifstream(entry.path()), nullptr, false);
    }
  }
  return result;
}

std::set<std::string> variable_names(const json& dashboard) {
  std::set<std::string> names;
  for (const auto& variable : dashboard["templating"]["list"]) names.insert(variable.value("name", ""));
  return names;
}

TEST(Dashboards, AreImportableJsonWithUniqueUidsAndAPrometheusDatasourceVariable) {
  const auto all = dashboards();
  ASSERT_EQ(all.size(), 3u);
  std::set<std::string> uids;
  for (const auto& [file, dashboard] : all) {
    ASSERT_FALSE(dashboard.is_discarded()) << file << " is not valid JSON";
    EXPECT_FALSE(dashboard.value("title", "").empty()) << file;
    EXPECT_TRUE(uids.insert(dashboard.value("uid", "")).second) << file << ": duplicate or missing uid";
    EXPECT_TRUE(variable_names(dashboard).count("datasource")) << file;
  }
}

TEST(Dashboards, EveryVariableAnExpressionUsesIsDefined) {
  const std::regex variable(R"(\$\{?([A-Za-z_][A-Za-z0-9_]*))");
  const auto all = dashboards();
  for (const auto& query : dashboard_queries(dashboards_dir())) {
    const auto defined = variable_names(all.at(query.dashboard));
    for (std::sregex_iterator it(query.expr.begin(), query.expr.end(), variable), end; it != end; ++it) {
      const std::string name = (*it)[1];
      if (name.rfind("__", 0) == 0) continue;  // Grafana's own ($__rate_interval, ...)
      EXPECT_TRUE(defined.count(name)) << query.where << " uses $" << name << " which is not defined";
    }
  }
}

TEST(Dashboards, EachShadesFaultWindowsFromTheAgentsLiveFaultMetric) {
  for (const auto& [file, dashboard] : dashboards()) {
    bool found = false;
    for (const auto& annotation : dashboard["annotations"]["list"]) {
      found = found || annotation.value("expr", "").find("chaos_agent_fault_live") != std::string::npos;
    }
    EXPECT_TRUE(found) << file;
  }
}

// promtool parses every expression as a recording rule (with the variables
// set to plausible values), offline.
TEST(Dashboards, EveryExpressionIsValidPromql) {
  const auto queries = dashboard_queries(dashboards_dir());
  ASSERT_GE(queries.size(), 25u);
  const std::map<std::string, std::string> values = {{"node", "n1"}, {"kind", "network.delay"},
                                                     {"experiment", "e-1"}, {"__rate_interval", "30s"},
                                                     {"__interval", "5s"}, {"__range", "5m"}};
  std::string rules = "groups:\n  - name: dashboards\n    rules:\n";
  for (size_t i = 0; i < queries.size(); ++i) {
    rules += "      - record: dashboard_query_" + std::to_string(i) + "\n        expr: " +
             json(substitute_variables(queries[i].expr, values)).dump() + "\n";
  }
  std::string pattern = (fs::temp_directory_path() / "chaos-dashboards-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  const std::string file = pattern + "/rules.yml";
  std::ofstream(file) << rules;
  ProcessCommandRunner runner;
  auto result = runner.run({"promtool", "check", "rules", file});
  fs::remove_all(pattern);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->exit_code, 0) << result->stdout_text << result->stderr_text << rules;
  EXPECT_THAT(result->stdout_text, ::testing::HasSubstr("SUCCESS: " + std::to_string(queries.size()) + " rules found"));
}

TEST(Dashboards, SubstitutionLeavesLongerVariableNamesAlone) {
  EXPECT_EQ(substitute_variables("a{n=\"$node\", m=\"$node_name\", k=\"${node}\"}", {{"node", "n1"}}),
            "a{n=\"n1\", m=\"$node_name\", k=\"n1\"}");
}

}  // namespace
}  // namespace chaos::testing
