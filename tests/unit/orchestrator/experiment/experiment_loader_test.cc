#include "orchestrator/experiment/experiment_loader.h"

#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/orchestrator/experiment/three_agent_inventory.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using test_support::TempDir;

const char* kGood = R"([experiment]
title = "Kill one broker"
description = "While 1 of 3 brokers is killed, publishing keeps working."
tags = ["nats", "process"]
hypothesis = "publish success >= 99%"

[prometheus]
url = "http://127.0.0.1:19090"

[agents]
inventory = "inventory.toml"

[settings]
lease_ttl = "9s"
during_interval = "1s"

[[steady_state]]
name = "publish success ratio"
query = 'sum(rate(ok_total[5s])) / sum(rate(attempts_total[5s]))'
comparator = ">="
threshold = 0.99

[[steady_state]]
name = "p99"
query = 'histogram_quantile(0.99, rate(ack_seconds_bucket[5s]))'
comparator = "<"
threshold = 0.25
phases = ["during"]

[[abort]]
name = "publishing stopped"
query = 'sum(rate(ok_total[5s]))'
comparator = "<"
threshold = 1

[[method]]
name = "kill one broker"
kind = "process.kill"
duration = "20s"
params = { name = "nats-server", signal = "KILL" }
targets = { labels = { role = "broker" }, count = 1, seed = 7 }

[[method]]
name = "slow clients"
kind = "network.delay"
duration = "5s"
group = "g"
params = { delay = "50ms", ports = [4222] }
targets = { labels = { role = "client" } }

[[method]]
name = "lossy brokers"
kind = "network.loss"
duration = "8s"
group = "g"
params = { percent = 2.5 }
targets = { labels = { role = "broker" }, percent = 50 }

[[method]]
kind = "wait"
duration = "5s"

[recovery]
within = "20s"
)";

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_.write("inventory.toml", testing::kThreeAgentInventory); }
  StatusOr<Experiment> load(const std::string& text, const LoadOptions& options = {}) {
    return load_experiment(dir_.write("exp.toml", text), options);
  }
  std::string errors(const std::string& text, const LoadOptions& options = {}) {
    auto experiment = load(text, options);
    EXPECT_FALSE(experiment.ok());
    return experiment.ok() ? "" : experiment.status().message();
  }
  std::string file() const { return dir_.path() + "/exp.toml"; }
  TempDir dir_;
};

TEST_F(LoaderTest, LoadsCompleteExperiment) {
  auto experiment = load(kGood);
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->title, "Kill one broker");
  EXPECT_EQ(experiment->tags, (std::vector<std::string>{"nats", "process"}));
  EXPECT_EQ(experiment->agents.size(), 3u);
  EXPECT_EQ(experiment->settings.lease_ttl, std::chrono::seconds(9));
  EXPECT_EQ(experiment->settings.preflight_timeout, std::chrono::seconds(5));  // default
  ASSERT_EQ(experiment->steady_state.size(), 2u);
  EXPECT_TRUE(experiment->steady_state[0].applies_to(Phase::kBefore));
  EXPECT_FALSE(experiment->steady_state[1].applies_to(Phase::kBefore));
  EXPECT_TRUE(experiment->steady_state[1].applies_to(Phase::kDuring));
  EXPECT_EQ(experiment->steady_state[1].condition.comparator, Comparator::kLess);
  ASSERT_EQ(experiment->method.size(), 4u);
  EXPECT_EQ(experiment->method[0].targets.size(), 1u);
  EXPECT_EQ(experiment->method[0].spec.process_kill().target().name(), "nats-server");
  EXPECT_EQ(experiment->method[1].targets.at(0).node, "n3");
  EXPECT_EQ(experiment->method[1].spec.network_delay().scope().ports(0), 4222u);
  EXPECT_EQ(experiment->method[2].targets.size(), 1u);  // 50% of 2 brokers
  EXPECT_DOUBLE_EQ(experiment->method[2].spec.network_loss().percent(), 2.5);
  EXPECT_TRUE(experiment->method[3].is_wait());
  EXPECT_EQ(experiment->method[3].name, "method[3] wait");
  EXPECT_EQ(experiment->recovery_within, std::chrono::seconds(20));
}

TEST_F(LoaderTest, GroupsRunTogetherAndLastAsLongAsTheirLongestStep) {
  auto experiment = load(kGood);
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  const auto groups = experiment->schedule();
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[1].steps.size(), 2u);
  EXPECT_EQ(groups[1].duration(), std::chrono::seconds(8));
  EXPECT_EQ(experiment->method_duration(), std::chrono::seconds(33));
}

TEST_F(LoaderTest, SameSeedPicksTheSameBroker) {
  auto first = load(kGood);
  auto second = load(kGood);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->method[0].targets[0].address, second->method[0].targets[0].address);
}

TEST_F(LoaderTest, UnknownKeyReportedAtItsPosition) {
  std::string text = kGood;
  text.replace(text.find("tags ="), 0, "titel = \"typo\"\n");
  EXPECT_EQ(errors(text), file() + ":4:1: experiment: unknown key 'titel'");
}

TEST_F(LoaderTest, UnknownTopLevelTable) {
  EXPECT_THAT(errors(std::string(kGood) + "\n[recovry]\nwithin = \"1s\"\n"),
              HasSubstr("top level: unknown key 'recovry'"));
}

TEST_F(LoaderTest, WrongTypeReportedAtTheValue) {
  std::string text = kGood;
  text.replace(text.find("threshold = 0.99"), 16, "threshold = \"high\"");
  EXPECT_EQ(errors(text), file() + ":21:13: steady_state[0].threshold: expected a number, got string");
}

TEST_F(LoaderTest, BadDurationReportedAtTheValue) {
  std::string text = kGood;
  text.replace(text.find("duration = \"20s\""), 16, "duration = \"20\"");
  EXPECT_THAT(errors(text), HasSubstr(file() + ":39:12: method[0].duration: "));
  text = kGood;
  text.replace(text.find("within = \"20s\""), 14, "within = 20");
  EXPECT_EQ(errors(text), file() + ":64:10: recovery.within: expected a duration string like \"20s\", got integer");
}

TEST_F(LoaderTest, RecoveryStepIsBoundedAndDefaultsToOneSecond) {
  auto loaded = load(kGood);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->settings.recovery_step, std::chrono::seconds(1));
  std::string text = kGood;
  text.replace(text.find("during_interval = \"1s\""), 0, "recovery_step = \"250ms\"\n");
  loaded = load(text);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->settings.recovery_step, std::chrono::milliseconds(250));
  text = kGood;
  text.replace(text.find("during_interval = \"1s\""), 0, "recovery_step = \"10ms\"\n");
  EXPECT_EQ(errors(text), file() + ":15:17: settings.recovery_step: must be between 100ms and 1m");
}

// 1ns made the during phase query Prometheus without a pause and grow the
// journal by a round of evaluations each time.
TEST_F(LoaderTest, DuringIntervalIsBetween100msAndAnHour) {
  std::string text = kGood;
  text.replace(text.find("during_interval = \"1s\""), 22, "during_interval = \"1ns\"");
  EXPECT_EQ(errors(text), file() + ":15:19: settings.during_interval: must be between 100ms and 1h");
  text = kGood;
  text.replace(text.find("during_interval = \"1s\""), 22, "during_interval = \"100ms\"");
  EXPECT_TRUE(load(text).ok());
}

TEST_F(LoaderTest, UnknownFaultKind) {
  std::string text = kGood;
  text.replace(text.find("\"process.kill\""), 14, "\"process.explode\"");
  EXPECT_EQ(errors(text), file() + ":38:8: method[0].kind: unknown fault kind 'process.explode'");
}

TEST_F(LoaderTest, BadParamReportedAtTheParam) {
  std::string text = kGood;
  text.replace(text.find("delay = \"50ms\""), 14, "delay = \"fast\"");
  EXPECT_THAT(errors(text), HasSubstr(file() + ":48:20: network.delay param 'delay': "));
  text = kGood;
  text.replace(text.find("signal = \"KILL\""), 15, "sginal = \"KILL\"");
  EXPECT_EQ(errors(text), file() + ":40:43: process.kill param 'sginal': unknown parameter for this fault kind");
}

TEST_F(LoaderTest, SelectorMatchingNoAgent) {
  std::string text = kGood;
  text.replace(text.find("role = \"client\""), 15, "role = \"ghost\"");
  EXPECT_EQ(errors(text),
            file() + ":49:11: method[1]: targets {role=ghost} match none of the 3 known agents");
}

TEST_F(LoaderTest, OfflineValidationSkipsSelectorsAndInventory) {
  std::string text = kGood;
  text.replace(text.find("role = \"client\""), 15, "role = \"ghost\"");
  text.replace(text.find("inventory.toml"), 14, "missing.toml");
  LoadOptions options;
  options.resolve_agents = false;
  EXPECT_TRUE(load(text, options).ok());
}

TEST_F(LoaderTest, ReportsEveryErrorNotJustTheFirst) {
  std::string text = kGood;
  text.replace(text.find("comparator = \">=\""), 17, "comparator = \"=>\"");
  text.replace(text.find("duration = \"5s\"\n\n[recovery]"), 15, "duration = \"0s\"");
  const std::string message = errors(text);
  EXPECT_THAT(message, HasSubstr(":20:14: steady_state[0].comparator: '=>' is not one of < <= > >= == !="));
  EXPECT_THAT(message, HasSubstr(":61:12: method[3].duration: duration must be positive"));
}

TEST_F(LoaderTest, MissingRequiredPieces) {
  const std::string message = errors("[experiment]\ndescription = \"x\"\n");
  EXPECT_THAT(message, HasSubstr("experiment: missing required key 'title'"));
  EXPECT_THAT(message, HasSubstr("missing required table [prometheus]"));
  EXPECT_THAT(message, HasSubstr("missing required [[method]] steps"));
}

TEST_F(LoaderTest, CountAndPercentTogetherRejected) {
  std::string text = kGood;
  text.replace(text.find("count = 1, seed = 7"), 19, "count = 1, percent = 5");
  EXPECT_THAT(errors(text), HasSubstr("give count or percent, not both"));
}

TEST_F(LoaderTest, WaitStepTakesNoParams) {
  std::string text = kGood;
  text.replace(text.find("kind = \"wait\""), 13, "kind = \"wait\"\nparams = { delay = \"1s\" }");
  EXPECT_THAT(errors(text), HasSubstr("method[3].params: a wait step takes no params"));
}

TEST_F(LoaderTest, OverridesReplaceInventoryAndPrometheus) {
  const std::string other = dir_.write("other.toml", "[[agents]]\naddress = \"10.0.0.1:1\"\nlabels = { role = \"broker\" }\n"
                                                     "[[agents]]\naddress = \"10.0.0.2:1\"\nlabels = { role = \"client\" }\n");
  LoadOptions options;
  options.inventory_override = other;
  options.prometheus_override = "http://10.0.0.9:9090";
  auto experiment = load(kGood, options);
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->agents.size(), 2u);
  EXPECT_EQ(experiment->agents[0].node, "10.0.0.1:1");  // node defaults to the address
  EXPECT_EQ(experiment->prometheus_url, "http://10.0.0.9:9090");
}

TEST_F(LoaderTest, StaticAgentsAddToTheInventory) {
  std::string text = kGood;
  text.replace(text.find("[settings]"), 0,
               "[[agents.static]]\naddress = \"127.0.0.1:9800\"\nnode = \"extra\"\nlabels = { role = \"client\" }\n\n");
  auto experiment = load(text);
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->agents.size(), 4u);
  EXPECT_EQ(experiment->method[1].targets.size(), 2u);
}

TEST_F(LoaderTest, SyntaxErrorHasParserPosition) {
  EXPECT_THAT(errors("[experiment]\ntitle = \"unterminated\n"), HasSubstr(file() + ":2:"));
}

TEST_F(LoaderTest, DeeplyNestedInputIsRejectedNotCrashed) {
  std::string nested = "[experiment]\ntitle = \"x\"\ntags = " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  EXPECT_FALSE(load(nested).ok());
  std::string tables = "[experiment]\ntitle = \"x\"\n[";
  for (int i = 0; i < 5000; ++i) tables += "a.";
  tables += "b]\n";
  EXPECT_FALSE(load(tables).ok());
}

TEST_F(LoaderTest, OversizedFileIsRejected) {
  std::string huge = "[experiment]\ntitle = \"x\"\ndescription = \"" + std::string(2 << 20, 'a') + "\"\n";
  EXPECT_THAT(errors(huge), HasSubstr(":1:1: file is "));
}

TEST_F(LoaderTest, MissingFileIsAnError) {
  auto experiment = load_experiment(dir_.path() + "/nope.toml");
  ASSERT_FALSE(experiment.ok());
  EXPECT_THAT(experiment.status().message(), HasSubstr("nope.toml:1:1: cannot read file"));
}

TEST_F(LoaderTest, BadInventoryErrorsPointIntoTheInventory) {
  dir_.write("inventory.toml", "[[agents]]\naddress = \"nohostport\"\n");
  EXPECT_THAT(errors(kGood), HasSubstr(dir_.path() + "/inventory.toml:2:11: agents[0]: address 'nohostport' is not HOST:PORT"));
}

// One fault step whose `target` is written on line 11 from column 10.
std::string with_target(const std::string& target, const std::string& kind = "network.delay") {
  return "[experiment]\ntitle = \"t\"\n[prometheus]\nurl = \"http://127.0.0.1:19090\"\n[agents]\n"
         "inventory = \"inventory.toml\"\n[[method]]\nkind = \"" + kind + "\"\nduration = \"5s\"\n" +
         (kind == "network.delay" ? "params = { delay = \"50ms\" }\n" : "\n") + "target = " + target + "\n";
}

TEST_F(LoaderTest, ContainerTargetBecomesTheSpecsTarget) {
  auto experiment = load(with_target("{ runtime = \"podman\", labels = { app = \"nats\" }, count = 1 }"));
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  const v1::FaultSpec& spec = experiment->method[0].spec;
  ASSERT_TRUE(spec.has_target());
  EXPECT_EQ(spec.target().runtime(), "podman");
  EXPECT_EQ(spec.target().labels().at("app"), "nats");
  EXPECT_EQ(spec.target().count(), 1u);
  EXPECT_EQ(experiment->method[0].targets.size(), 3u);  // every agent looks on its own host
  auto host = load(kGood);
  ASSERT_TRUE(host.ok()) << host.status().message();
  EXPECT_FALSE(host->method[0].spec.has_target());
}

TEST_F(LoaderTest, PodTargetAsASubTableForContainerPause) {
  std::string text = with_target("{ pod_namespace = \"x\" }", "container.pause");
  text.replace(text.find("target = "), std::string::npos,
               "[method.target]\npod_namespace = \"messaging\"\npod_name = \"nats-0\"\n"
               "pod_labels = { \"app.kubernetes.io/name\" = \"nats\" }\ncontainer_name = \"nats\"\npercent = 50\n");
  auto experiment = load(text);
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  const v1::FaultSpec& spec = experiment->method[0].spec;
  EXPECT_TRUE(spec.has_container_pause());
  EXPECT_EQ(spec.target().pod_namespace(), "messaging");
  EXPECT_EQ(spec.target().pod_name(), "nats-0");
  EXPECT_EQ(spec.target().pod_labels().at("app.kubernetes.io/name"), "nats");
  EXPECT_EQ(spec.target().container_name(), "nats");
  EXPECT_DOUBLE_EQ(spec.target().percent(), 50);
}

TEST_F(LoaderTest, ContainerTargetErrorsNameFileLineAndKey) {
  // {target, the text the error points at, the message}
  const std::vector<std::tuple<std::string, std::string, std::string>> bad = {
      {"{ name = \"a\", nmae = \"b\" }", "nmae", "method[0].target: unknown key 'nmae'"},
      {"{ name = 5 }", "5", "method[0].target.name: expected a string, got integer"},
      {"{ labels = { app = 1 } }", "1", "method[0].target.labels.app: expected a string, got integer"},
      {"{ name = \"a\", count = 0 }", "0", "method[0].target.count: 0 is outside 1..4294967295"},
      {"{ name = \"a\", percent = 150 }", "150", "method[0].target.percent: must be in (0, 100]"},
      {"{ id_prefix = \"xyz\" }", "\"xyz\"", "method[0].target.id_prefix: 4 to 64 hex characters"},
      {"{ runtime = \"lxc\", name = \"a\" }", "\"lxc\"",
       "method[0].target.runtime: 'lxc' is not one of podman, docker, containerd"},
      {"{ name = \"a\", count = 2, percent = 50 }", "{", "method[0].target: count and percent are exclusive"},
      {"{ pod_name = \"nats-0\" }", "{",
       "method[0].target.pod_namespace: required with pod_name, pod_labels or container_name"},
      {"{ runtime = \"podman\" }", "{",
       "method[0].target: name, id_prefix, labels or pod_namespace required (an empty selector would match "
       "every container on the node)"},
      {"\"nats\"", "\"nats\"", "method[0].target: expected a table, got string"},
  };
  for (const auto& [target, at, message] : bad) {
    const std::string where = file() + ":11:" + std::to_string(10 + target.find(at)) + ": ";
    EXPECT_EQ(errors(with_target(target)), where + message) << target;
  }
}

TEST_F(LoaderTest, ContainerPauseNeedsATarget) {
  std::string text = with_target("");
  text.replace(text.find("target = "), std::string::npos, "");
  text.replace(text.find("network.delay"), 13, "container.pause");
  text.replace(text.find("params = { delay = \"50ms\" }"), 27, "");
  EXPECT_EQ(errors(text), file() + ":8:8: method[0]: container.pause needs a target (the containers to act in)");
}

TEST_F(LoaderTest, WaitStepTakesNoContainerTarget) {
  std::string text = kGood;
  text.replace(text.find("kind = \"wait\""), 13, "kind = \"wait\"\ntarget = { name = \"nats-1\" }");
  EXPECT_THAT(errors(text), HasSubstr("method[3].target: a wait step takes no target"));
}

}  // namespace
}  // namespace chaos::orchestrator
