// Every PromQL expression in dashboards/*.json (panel targets, annotations,
// template variables) runs against the lab's real Prometheus and must
// return data. The lab is brought up, a fault is injected, reverted and
// injected again through `chaosctl inject`/`revert` so the fault-live,
// injection, revert and inject-latency series exist for real; nothing is
// faked with `or vector(0)`. Faults are reverted and the lab torn down in
// every path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>


#include "common/command_runner.h"
#include "orchestrator/clients/prometheus_client.h"
#include "tests/support/dashboard_queries.h"

namespace chaos::orchestrator {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kPrometheus = "http://127.0.0.1:19090";
constexpr const char* kInventory = "/run/chaos-lab/inventory.toml";
constexpr const char* kExperiment = "dashboards-e2e";
constexpr const char* kKind = "network.delay";

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout = 60s) {
  ProcessCommandRunner runner;
  auto result = runner.run(argv, RunOptions{"", timeout});
  return result.ok() ? *result : CommandResult{-1, "", result.status().to_string()};
}

std::string chaosctl() { return env("CHAOS_BUILD_DIR") + "/bin/chaosctl"; }

class DashboardsPromqlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    (void)run({chaosctl(), "lab", "down"});
    const auto up = run({chaosctl(), "lab", "up"}, 150s);
    lab_up_ = up.exit_code == 0;
    if (!lab_up_) std::cerr << up.stdout_text << up.stderr_text;
  }
  static void TearDownTestSuite() {
    if (::geteuid() != 0) return;
    (void)run({chaosctl(), "halt", "--inventory", kInventory});
    (void)run({chaosctl(), "lab", "down"}, 60s);
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the lab)";
    ASSERT_TRUE(lab_up_) << "chaosctl lab up failed";
  }
  void TearDown() override {
    if (!agent_.empty()) (void)run({chaosctl(), "revert", "--inventory", kInventory, "--agent", agent_, "--all"});
  }

  // The first agent of the lab inventory and its node name.
  void pick_agent() {
    std::ifstream in(kInventory);
    std::stringstream text;
    text << in.rdbuf();
    std::smatch match;
    const std::string inventory = text.str();
    ASSERT_TRUE(std::regex_search(inventory, match, std::regex(R"re(address\s*=\s*"([^"]+)")re")));
    agent_ = match[1];
    ASSERT_TRUE(std::regex_search(inventory, match, std::regex(R"re(node\s*=\s*"([^"]+)")re")));
    node_ = match[1];
  }

  void inject() {
    // The lab's agents speak mTLS: the inventory carries the certificates.
    const auto result = run({chaosctl(), "inject", "--inventory", kInventory, "--agent", agent_, kKind, "--param",
                             "interface=eth0", "--param",
                             "delay=20ms", "--duration", "120s", "--experiment-id", kExperiment});
    ASSERT_EQ(result.exit_code, 0) << result.stdout_text << result.stderr_text;
  }

  static inline bool lab_up_ = false;
  std::string agent_;
  std::string node_;
};

TEST_F(DashboardsPromqlTest, EveryDashboardExpressionReturnsData) {
  pick_agent();
  inject();  // an injection, then a revert: the revert series exists
  const auto reverted = run({chaosctl(), "revert", "--inventory", kInventory, "--agent", agent_, "--all"});
  ASSERT_EQ(reverted.exit_code, 0) << reverted.stdout_text << reverted.stderr_text;
  inject();  // and a live fault for the fault-live series and annotations
  std::this_thread::sleep_for(6s);  // several 1 s scrapes of every series

  auto prometheus = make_http_prometheus_client({kPrometheus, "", 5000ms});
  ASSERT_TRUE(prometheus.ok());
  const std::map<std::string, std::string> values = {
      {"experiment", kExperiment}, {"kind", kKind}, {"node", node_}, {"datasource", "prometheus"},
      {"__rate_interval", "30s"}, {"__interval", "5s"}, {"__range", "5m"}};
  const auto queries = testing::dashboard_queries(env("CHAOS_SOURCE_DIR") + "/dashboards");
  ASSERT_GE(queries.size(), 25u) << "the dashboards lost their queries";
  for (const auto& query : queries) {
    const std::string expr = testing::substitute_variables(query.expr, values);
    ASSERT_EQ(expr.find('$'), std::string::npos) << query.where << ": unknown variable in " << expr;
    auto result = (*prometheus)->instant_query(expr);
    ASSERT_TRUE(result.ok()) << query.where << ": " << result.status().message();
    EXPECT_FALSE(result->empty()) << query.where << " returned no data: " << expr;
    if (query.variable_label.empty()) continue;
    // A variable's values must include what we injected (node, kind, experiment).
    const auto wanted = values.find(query.variable_label);
    ASSERT_NE(wanted, values.end()) << query.where << ": no test value for " << query.variable_label;
    bool found = false;
    for (const auto& series : result->series) {
      const auto label = series.labels.find(query.variable_label);
      found = found || (label != series.labels.end() && label->second == wanted->second);
    }
    EXPECT_TRUE(found) << query.where << ": '" << wanted->second << "' is not among its values";
  }
}

}  // namespace
}  // namespace chaos::orchestrator
