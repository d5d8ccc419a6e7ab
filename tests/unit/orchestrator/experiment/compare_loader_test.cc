// [[compare]]: node sets resolved by the loader, $nodes substituted with
// escaped regexes, and every bad input reported as file:line:col with its key.
#include "orchestrator/experiment/compare_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "orchestrator/experiment/experiment_loader.h"
#include "tests/unit/orchestrator/experiment/three_agent_inventory.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using test_support::TempDir;

// 16 lines; the [[compare]] table a test appends starts on line 17.
const char* kCompareBase = R"([experiment]
title = "Slow the client node"

[prometheus]
url = "http://127.0.0.1:19090"

[agents]
inventory = "inventory.toml"

[[method]]
name = "kill on n3"
kind = "process.kill"
duration = "5s"
params = { name = "nats-server", signal = "KILL" }
targets = { labels = { role = "client" } }

)";

class CompareLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.write("inventory.toml", testing::kThreeAgentInventory); }
  StatusOr<Experiment> load(const std::string& compare, const LoadOptions& options = {}) {
    return load_experiment(dir_.write("exp.toml", std::string(kCompareBase) + compare), options);
  }
  std::string errors(const std::string& compare, const LoadOptions& options = {}) {
    auto experiment = load(compare, options);
    EXPECT_FALSE(experiment.ok()) << "loaded:\n" << compare;
    return experiment.ok() ? "" : experiment.status().message();
  }
  std::string at(int line, int column) const {
    return dir_.path() + "/exp.toml:" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  }
  TempDir dir_;
};

TEST_F(CompareLoaderTest, ControlDefaultsToEveryOtherAgentsNode) {
  auto experiment = load(R"([[compare]]
name = "p99 faulted vs control"
query = 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{node=~"$nodes"}[30s])))'
tolerance = 0.25
)");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  ASSERT_EQ(experiment->compare.size(), 1u);
  const CompareCheck& check = experiment->compare[0];
  EXPECT_EQ(check.name, "p99 faulted vs control");
  EXPECT_TRUE(check.relative);
  EXPECT_DOUBLE_EQ(check.tolerance, 0.25);
  EXPECT_TRUE(check.applies_to(Phase::kDuring));
  EXPECT_FALSE(check.applies_to(Phase::kAfter));
  EXPECT_EQ(check.faulted_nodes, std::vector<std::string>{"n3"});
  EXPECT_EQ(check.control_nodes, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(check.faulted_query, R"(histogram_quantile(0.99, sum by (le) (rate(x_bucket{node=~"n3"}[30s]))))");
  EXPECT_EQ(check.control_query, R"(histogram_quantile(0.99, sum by (le) (rate(x_bucket{node=~"n1|n2"}[30s]))))");
}

TEST_F(CompareLoaderTest, ControlNodesWithAnAbsoluteDifferenceAndBothPhases) {
  auto experiment = load(R"([[compare]]
query = 'sum(rate(ok{node=~"$nodes"}[10s]))'
max_difference = 5
phases = ["during", "after"]
control_nodes = ["probe.1"]
)");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  const CompareCheck& check = experiment->compare.at(0);
  EXPECT_EQ(check.name, "compare[0]");
  EXPECT_FALSE(check.relative);
  EXPECT_TRUE(check.applies_to(Phase::kAfter));
  // The regex escapes the dot; the PromQL string literal escapes that backslash.
  EXPECT_EQ(check.control_query, R"(sum(rate(ok{node=~"probe\\.1"}[10s])))");
}

TEST_F(CompareLoaderTest, ControlLabelsSelectAgents) {
  auto experiment = load(R"([[compare]]
query = 'up{node=~"$nodes"}'
tolerance = 0.1
control = { labels = { role = "broker" } }
)");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->compare.at(0).control_nodes, (std::vector<std::string>{"n1", "n2"}));
}

TEST_F(CompareLoaderTest, BadInputIsReportedAtItsKey) {
  EXPECT_EQ(errors("[[compare]]\nquery = 'up'\ntolerance = 0.1\n"),
            at(18, 9) + "compare[0].query: has no $nodes placeholder: write it where the node label is matched, "
                        "like {node=~\"$nodes\"} (faulted and control nodes are put in its place)");
  EXPECT_THAT(errors("[[compare]]\nquery = 'up{node=~$nodes}'\ntolerance = 0.1\n"),
              HasSubstr(at(18, 9) + "compare[0].query: $nodes (at offset 9) must stand inside a quoted"));
  EXPECT_EQ(errors("[[compare]]\nquery = 'up{node=~\"$nodes\"}'\ntolerance = 0\n"),
            at(19, 13) + "compare[0].tolerance: must be a number above 0");
  EXPECT_THAT(errors("[[compare]]\nquery = 'up{node=~\"$nodes\"}'\ntolerance = 0.1\nmax_difference = 1\n"),
              HasSubstr(at(17, 1) + "compare[0]: give tolerance (relative) or max_difference (absolute), not both"));
  EXPECT_THAT(errors("[[compare]]\nquery = 'up{node=~\"$nodes\"}'\n"),
              HasSubstr(at(17, 1) + "compare[0]: needs tolerance (relative"));
  EXPECT_THAT(errors("[[compare]]\nquery = 'up{node=~\"$nodes\"}'\ntolerance = 0.1\nphases = [\"before\"]\n"),
              HasSubstr(at(20, 10) + "compare[0].phases: 'before' is not during or after"));
  EXPECT_THAT(errors("[[compare]]\nquery = 'up{node=~\"$nodes\"}'\ntolerance = 0.1\ntolerence = 0.2\n"),
              HasSubstr("compare[0]: unknown key 'tolerence'"));
}

TEST_F(CompareLoaderTest, ControlSetMustBeNonEmptyAndDisjointFromTheFaultedSet) {
  const std::string head = "[[compare]]\nquery = 'up{node=~\"$nodes\"}'\ntolerance = 0.1\n";
  EXPECT_EQ(errors(head + "control_nodes = [\"n1\", \"n3\"]\n"),
            at(20, 17) + "compare[0].control_nodes: the control set overlaps the faulted set (n3) in n3");
  EXPECT_EQ(errors(head + "control = { labels = { role = \"client\" } }\n"),
            at(20, 11) + "compare[0].control: the control set overlaps the faulted set (n3) in n3");
  EXPECT_EQ(errors(head + "control = { labels = { role = \"ghost\" } }\n"),
            at(20, 11) + "compare[0].control: the control labels {role=ghost} match no agent with a node name");
  EXPECT_EQ(errors(head + "control_nodes = []\n"), at(20, 17) + "compare[0].control_nodes: must name at least one node");
  EXPECT_THAT(errors(head + "control_nodes = [\"p\"]\ncontrol = { labels = { role = \"broker\" } }\n"),
              HasSubstr("compare[0]: give control (labels) or control_nodes, not both"));
  // A method that faults every agent leaves no default control.
  std::string all = kCompareBase;
  const std::string client_only = "targets = { labels = { role = \"client\" } }";
  all.replace(all.find(client_only), client_only.size(), "targets = {}");
  auto experiment = load_experiment(dir_.write("all.toml", all + head), {});
  ASSERT_FALSE(experiment.ok());
  EXPECT_THAT(experiment.status().message(),
              HasSubstr("compare[0]: the control set is empty: every agent's node is faulted (n1, n2, n3)"));
}

TEST_F(CompareLoaderTest, OfflineValidationChecksEverythingButTheNodeSets) {
  LoadOptions offline;
  offline.resolve_agents = false;
  auto experiment = load("[[compare]]\nquery = 'up{node=~\"$nodes\"}'\ntolerance = 0.1\n", offline);
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_TRUE(experiment->compare.at(0).faulted_nodes.empty());
  EXPECT_THAT(errors("[[compare]]\nquery = 'up'\ntolerance = 0.1\n", offline), HasSubstr("no $nodes placeholder"));
}

TEST_F(CompareLoaderTest, TwoChecksOfOneNameAreRefusedAtTheSecondName) {
  const std::string message = errors(R"([[compare]]
name = "p99"
query = 'x{node=~"$nodes"}'
tolerance = 0.25

[[compare]]
name = "p99"
query = 'y{node=~"$nodes"}'
tolerance = 0.25
)");
  EXPECT_THAT(message, HasSubstr(at(23, 8) + "compare[1].name: 'p99' is already the name of another check")) << message;
}

TEST(CompareSubstitution, EscapesRegexMetacharactersForTheStringLiteralItStandsIn) {
  EXPECT_EQ(nodes_regex({"n1", "a.b+c", "x(y)|z"}), R"(n1|a\.b\+c|x\(y\)\|z)");
  EXPECT_EQ(*substitute_nodes(R"(up{node=~"$nodes"})", {"a.b"}), R"(up{node=~"a\\.b"})");
  EXPECT_EQ(*substitute_nodes(R"(up{node=~'$nodes'})", {"it's"}), R"(up{node=~'it\'s'})");
  EXPECT_EQ(*substitute_nodes("up{node=~`$nodes`}", {"a.b"}), R"(up{node=~`a\.b`})");
  // Every occurrence, and an escaped quote does not end the string.
  EXPECT_EQ(*substitute_nodes(R"(a{x="\"", n=~"$nodes"} / b{n=~"$nodes"})", {"n1", "n2"}),
            R"(a{x="\"", n=~"n1|n2"} / b{n=~"n1|n2"})");
  EXPECT_FALSE(substitute_nodes("up{node=~`$nodes`}", {"a`b"}).ok());
  EXPECT_FALSE(substitute_nodes(R"(up{node=~"$nodes"})", {}).ok());
}

}  // namespace
}  // namespace chaos::orchestrator
