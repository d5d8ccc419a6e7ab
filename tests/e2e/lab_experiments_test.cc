// The lab end to end: `chaosctl lab up`, experiments through `chaosctl run`
// with their verdicts (exit codes) and reports, no fault left behind in any
// node namespace, and `lab down` leaving no namespace, link or process.
// Uses the real lab constants (prefix chaoslab, /run/chaos-lab, port 19090)
// because the experiments under experiments/ name them.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/command_runner.h"
#include "common/clock.h"
#include "common/rfc3339.h"
#include "orchestrator/clients/prometheus_client.h"
#include "lab/lab_layout.h"
#include "lab/proc_scan.h"
#include "lab/readiness.h"
#include "tests/support/dashboard_queries.h"
#include "tests/support/lab_lock_file_check.h"

namespace chaos::lab {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

CommandResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(60)) {
  ProcessCommandRunner runner;
  auto result = runner.run(argv, RunOptions{"", timeout});
  return result.ok() ? *result : CommandResult{-1, "", result.status().to_string()};
}

std::string chaosctl() { return env("CHAOS_BUILD_DIR") + "/bin/chaosctl"; }

// Every node's firewall and qdiscs, to compare before and after a run.
std::string node_rules() {
  std::string text;
  for (const std::string node : {"chaoslab-n1", "chaoslab-n2", "chaoslab-n3"}) {
    text += run({"ip", "netns", "exec", node, "nft", "list", "ruleset"}).stdout_text;
    text += run({"ip", "netns", "exec", node, "tc", "qdisc", "show"}).stdout_text;
  }
  return text;
}

// The lab's Prometheus scrapes every target each second (lab/lab_files.cc).
constexpr double kLabScrapeIntervalSeconds = 1.0;

bool lab_condition_holds(double value, const std::string& comparator, double threshold) {
  if (std::isnan(value)) return false;
  if (comparator == "<") return value < threshold;
  if (comparator == "<=") return value <= threshold;
  if (comparator == ">") return value > threshold;
  if (comparator == ">=") return value >= threshold;
  if (comparator == "==") return value == threshold;
  return comparator == "!=" && value != threshold;
}

// The journal's time to recovery against the recovery visible in the lab's
// Prometheus, computed here without chaosctl's code: the after-checks'
// range data at the scrape interval from the last revert to the last
// after-check, and the first instant from which every check holds (at least
// one sample, every series within its threshold) to that end. The two must
// agree within 2 scrape intervals.
void expect_recovery_time_matches_range_data(const std::string& report_dir) {
  std::ifstream in(report_dir + "/journal.json");
  const auto journal = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(journal.is_discarded()) << report_dir << "/journal.json does not parse";
  const auto& verdict = journal["verdict"];
  ASSERT_EQ(verdict.value("recovery_source", ""), "prometheus_range") << verdict.dump();
  ASSERT_TRUE(verdict["time_to_recovery_seconds"].is_number()) << verdict.dump();
  const auto last_revert = parse_rfc3339(verdict.value("last_revert_at", ""));
  ASSERT_TRUE(last_revert.has_value()) << verdict.dump();
  double end = 0;
  for (const auto& evaluation : journal["evaluations"]) {
    if (evaluation["phase"] == "after") end = std::max(end, parse_rfc3339(evaluation.value("at", "")).value_or(0));
  }
  ASSERT_GT(end, *last_revert) << "no after-check evaluation after the last revert";
  auto prometheus = orchestrator::make_http_prometheus_client(
      {journal["experiment"].value("prometheus_url", ""), "", std::chrono::milliseconds(5000)});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().message();
  const auto to_time = [](double seconds) {
    return WallTime(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds)));
  };
  const auto steps = static_cast<size_t>((end - *last_revert) / kLabScrapeIntervalSeconds) + 1;
  std::vector<bool> all_hold(steps, true);
  for (const auto& check : journal["experiment"]["steady_state"]) {
    if (std::find(check["phases"].begin(), check["phases"].end(), "after") == check["phases"].end()) continue;
    const std::string query = check["query"];
    const auto range = (*prometheus)->range_query(query, to_time(*last_revert), to_time(end),
                                                  std::chrono::milliseconds(1000));
    ASSERT_TRUE(range.ok()) << range.status().message();
    std::vector<int> samples(steps, 0);
    std::vector<bool> failed(steps, false);
    for (const auto& series : range->series) {
      for (const auto& point : series.points) {
        const auto step = static_cast<long long>(std::llround((point.timestamp - *last_revert) / kLabScrapeIntervalSeconds));
        if (step < 0 || static_cast<size_t>(step) >= steps) continue;
        ++samples[step];
        if (!lab_condition_holds(point.value, check["comparator"], check["threshold"])) failed[step] = true;
      }
    }
    for (size_t i = 0; i < steps; ++i) all_hold[i] = all_hold[i] && samples[i] > 0 && !failed[i];
  }
  size_t first = steps;
  while (first > 0 && all_hold[first - 1]) --first;
  ASSERT_LT(first, steps) << "the lab's range data shows no recovery before the end of the run";
  const double from_range_data = static_cast<double>(first) * kLabScrapeIntervalSeconds;
  EXPECT_NEAR(verdict["time_to_recovery_seconds"].get<double>(), from_range_data, 2 * kLabScrapeIntervalSeconds)
      << "journal vs. the lab's Prometheus";
}

class LabExperimentsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    (void)run({chaosctl(), "lab", "down"});
    const auto up = run({chaosctl(), "lab", "up"}, std::chrono::seconds(150));
    lab_up_ = up.exit_code == 0;
    if (!lab_up_) std::cerr << up.stdout_text << up.stderr_text;
  }
  static void TearDownTestSuite() {
    if (::geteuid() != 0) return;
    (void)run({chaosctl(), "lab", "down"}, std::chrono::seconds(60));
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the lab)";
    ASSERT_TRUE(lab_up_) << "chaosctl lab up failed";
    // The experiments share one lab: each starts once the previous one's
    // aftermath has left the probe's 10 s windows, so a "violated" verdict
    // is the experiment's own and never a leftover of the one before.
    const auto layout = LabLayout::create(LabParams{});
    ASSERT_TRUE(layout.ok()) << layout.status().message();
    SystemClock clock;
    const Status steady = wait_until(clock, std::chrono::seconds(90), "probe steady state",
                                     [&] { return probe_in_steady_state(*layout); });
    ASSERT_TRUE(steady.ok()) << steady.message();
    rules_before_ = node_rules();
  }
  // A passing test's report is not needed; a failing one's is kept to read.
  void TearDown() override {
    if (!report_dir_.empty() && !HasFailure()) std::filesystem::remove_all(report_dir_);
  }

  // Runs `path`. Every fault kind the experiments use is offered by the
  // lab's agents: a missing one is a failure (exit 3), not a skip.
  int run_experiment(const std::string& path) {
    report_dir_ = ::testing::TempDir() + "/e2e-report-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(report_dir_);
    const auto result = run({chaosctl(), "run", path, "--report-dir", report_dir_, "--history",
                             report_dir_ + "/history.sqlite"}, std::chrono::seconds(300));
    std::cerr << result.stdout_text << result.stderr_text;
    EXPECT_TRUE(std::filesystem::exists(report_dir_ + "/journal.json"));
    EXPECT_TRUE(std::filesystem::exists(report_dir_ + "/junit.xml"));
    EXPECT_EQ(node_rules(), rules_before_) << "a fault was left behind";
    return result.exit_code;
  }

  // `files` as one suite; each run's report dir is report_dir_/NN-<title>.
  int run_suite(const std::vector<std::string>& files) {
    report_dir_ = ::testing::TempDir() + "/e2e-report-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(report_dir_);
    std::vector<std::string> argv = {chaosctl(), "run"};
    argv.insert(argv.end(), files.begin(), files.end());
    for (const std::string flag : {"--settle-timeout", "90s", "--history"}) argv.push_back(flag);
    argv.push_back(report_dir_ + "/history.sqlite");
    argv.push_back("--report-dir");
    argv.push_back(report_dir_);
    const auto result = run(argv, std::chrono::seconds(240) * files.size());
    std::cerr << result.stdout_text << result.stderr_text;
    EXPECT_EQ(node_rules(), rules_before_) << "a fault was left behind";
    return result.exit_code;
  }
  // The report dir of the suite's experiment `number` (1-based), or "".
  std::string suite_run_dir(size_t number) const {
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%02zu-", number);
    if (!std::filesystem::is_directory(report_dir_)) return "";
    for (const auto& entry : std::filesystem::directory_iterator(report_dir_)) {
      if (entry.is_directory() && entry.path().filename().string().rfind(prefix, 0) == 0) return entry.path();
    }
    return "";
  }
  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static inline bool lab_up_ = false;
  std::string rules_before_;
  std::string report_dir_;
};

// Three experiments as one suite (one `chaosctl run`, one lab state, a
// settle gate between them instead of SetUp's wait):
// - held: 100 ms on one broker; no acknowledged message goes missing. (The
//   one "lost" message this test used to see was the probe's own: it
//   published before its DeliverNew consumer existed. Fixed in the probe,
//   see tests/unit/lab/probe/probe_loops_test.cc.)
// - held: killing the stream leader costs a write outage under 15 s and no
//   acknowledged message; the supervisor brings the broker back.
// - violated: 300 ms on every broker breaks the ack-latency SLO. Every
//   node's ruleset is exactly as before afterwards (the agent removes the
//   mangle tables its steering made iptables-nft create).
// The worst verdict (violated) is the exit code; junit.xml has a testsuite
// per experiment, index.html links each run's report.
TEST_F(LabExperimentsTest, ASuiteOfLatencyKillAndViolatedLatencyExitsWithTheWorstVerdict) {
  const std::string source = env("CHAOS_SOURCE_DIR");
  EXPECT_EQ(run_suite({source + "/experiments/nats-latency-one-node.toml",
                       source + "/experiments/nats-kill-broker.toml",
                       source + "/tests/e2e/experiments/violated-latency.toml"}),
            1);
  const std::vector<std::string> verdicts = {"held", "held", "violated"};
  for (size_t i = 0; i < verdicts.size(); ++i) {
    const std::string dir = suite_run_dir(i + 1);
    ASSERT_FALSE(dir.empty()) << "no report dir for experiment " << i + 1;
    for (const char* file : {"journal.json", "junit.xml", "report.html"}) {
      EXPECT_TRUE(std::filesystem::exists(dir + "/" + file)) << dir << "/" << file;
    }
  }
  // The suite's junit.xml: one testsuite per experiment, in order, each with
  // its run's verdict.
  const std::string junit = read_file(report_dir_ + "/junit.xml");
  const std::string marker = "<property name=\"verdict\" value=\"";
  size_t at = 0;
  for (const auto& verdict : verdicts) {
    at = junit.find("<testsuite name=", at);
    ASSERT_NE(at, std::string::npos) << junit;
    const size_t property = junit.find(marker, at);
    ASSERT_NE(property, std::string::npos) << junit;
    EXPECT_EQ(junit.substr(property + marker.size(), verdict.size() + 1), verdict + "\"") << junit;
    at = property;
  }
  EXPECT_EQ(junit.find("<testsuite name=", at), std::string::npos) << "more than 3 testsuites:\n" << junit;
  const std::string index = read_file(report_dir_ + "/index.html");
  for (size_t i = 1; i <= verdicts.size(); ++i) {
    const std::string link = std::filesystem::path(suite_run_dir(i)).filename().string() + "/report.html";
    EXPECT_NE(index.find("href=\"" + link + "\""), std::string::npos) << link;
  }
  // One history row per experiment (newest first), with the verdict and, for
  // the kill, the time to recovery the journal gives.
  const auto history = run({chaosctl(), "history", "--history", report_dir_ + "/history.sqlite", "--output", "json"});
  ASSERT_EQ(history.exit_code, 0) << history.stderr_text;
  const auto rows = nlohmann::json::parse(history.stdout_text, nullptr, false);
  ASSERT_FALSE(rows.is_discarded()) << history.stdout_text;
  ASSERT_EQ(rows["runs"].size(), verdicts.size()) << history.stdout_text;
  for (size_t i = 0; i < verdicts.size(); ++i) {
    EXPECT_EQ(rows["runs"][verdicts.size() - 1 - i]["verdict"], verdicts[i]) << history.stdout_text;
  }
  // The time to recovery in the journal is the one the lab's Prometheus shows.
  expect_recovery_time_matches_range_data(suite_run_dir(2));
  // The kill: the supervisor brought the broker back.
  for (const std::string node : {"n1", "n2", "n3"}) {
    const auto pid = read_pidfile("/run/chaos-lab/run/nats-" + node + ".pid");
    ASSERT_TRUE(pid.has_value()) << node;
    EXPECT_TRUE(process_alive(*pid)) << node << " broker not restarted";
  }
}

TEST_F(LabExperimentsTest, KillingEveryBrokerIsViolatedAndTheClusterComesBack) {
  EXPECT_EQ(run_experiment(env("CHAOS_SOURCE_DIR") + "/tests/e2e/experiments/violated-kill-all.toml"), 1);
  // The supervisor restarts all three; the probe publishes again.
  const auto status = run({chaosctl(), "lab", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.stdout_text << status.stderr_text;
}

// Every PromQL expression in dashboards/*.json (panel targets, annotations,
// template variables) runs against the lab's real Prometheus and must
// return data. A fault is injected, reverted and injected again through
// `chaosctl inject`/`revert`, so the fault-live, injection, revert and
// inject-latency series exist for real; nothing is faked with
// `or vector(0)`. Runs in this shared lab (its own `lab up` cost ~20 s of
// CI) after the experiments, so their series exist too.
TEST_F(LabExperimentsTest, EveryDashboardExpressionReturnsData) {
  constexpr const char* kInventory = "/run/chaos-lab/inventory.toml";
  constexpr const char* kExperiment = "dashboards-e2e";
  constexpr const char* kKind = "network.delay";
  const std::string inventory = read_file(kInventory);
  std::smatch match;
  ASSERT_TRUE(std::regex_search(inventory, match, std::regex(R"re(address\s*=\s*"([^"]+)")re")));
  const std::string agent = match[1];
  ASSERT_TRUE(std::regex_search(inventory, match, std::regex(R"re(node\s*=\s*"([^"]+)")re")));
  const std::string node = match[1];
  const auto revert_all = [&] {
    return run({chaosctl(), "revert", "--inventory", kInventory, "--agent", agent, "--all"});
  };
  const auto inject = [&] {
    // The lab's agents speak mTLS: the inventory carries the certificates.
    return run({chaosctl(), "inject", "--inventory", kInventory, "--agent", agent, kKind, "--param", "interface=eth0",
                "--param", "delay=20ms", "--duration", "120s", "--experiment-id", kExperiment});
  };
  // Reverted on every path, also when an assertion below returns early.
  struct RevertAtExit {
    std::function<CommandResult()> revert;
    ~RevertAtExit() {
      const auto cleaned = revert();
      EXPECT_EQ(cleaned.exit_code, 0) << cleaned.stdout_text << cleaned.stderr_text;
    }
  } revert_at_exit{revert_all};
  auto injected = inject();  // an injection, then a revert: the revert series exists
  ASSERT_EQ(injected.exit_code, 0) << injected.stdout_text << injected.stderr_text;
  const auto reverted = revert_all();
  ASSERT_EQ(reverted.exit_code, 0) << reverted.stdout_text << reverted.stderr_text;
  injected = inject();  // and a live fault for the fault-live series and annotations
  ASSERT_EQ(injected.exit_code, 0) << injected.stdout_text << injected.stderr_text;

  auto prometheus = orchestrator::make_http_prometheus_client({"http://127.0.0.1:19090", "", std::chrono::milliseconds(5000)});
  ASSERT_TRUE(prometheus.ok());
  const std::map<std::string, std::string> values = {
      {"experiment", kExperiment}, {"kind", kKind}, {"node", node}, {"datasource", "prometheus"},
      {"__rate_interval", "30s"}, {"__interval", "5s"}, {"__range", "5m"}};
  const auto queries = testing::dashboard_queries(env("CHAOS_SOURCE_DIR") + "/dashboards");
  EXPECT_GE(queries.size(), 25u) << "the dashboards lost their queries";
  // What is wrong with a query's answer now; empty when nothing is.
  const auto problem = [&](const testing::DashboardQuery& query) -> std::string {
    const std::string expr = testing::substitute_variables(query.expr, values);
    if (expr.find('$') != std::string::npos) return query.where + ": unknown variable in " + expr;
    const auto result = (*prometheus)->instant_query(expr);
    if (!result.ok()) return query.where + ": " + result.status().message();
    if (result->empty()) return query.where + " returned no data: " + expr;
    if (query.variable_label.empty()) return "";
    // A variable's values must include what we injected (node, kind, experiment).
    const auto wanted = values.find(query.variable_label);
    if (wanted == values.end()) return query.where + ": no test value for " + query.variable_label;
    for (const auto& series : result->series) {
      const auto label = series.labels.find(query.variable_label);
      if (label != series.labels.end() && label->second == wanted->second) return "";
    }
    return query.where + ": '" + wanted->second + "' is not among its values";
  };
  // Asked again until every answer is right (a rate needs two scrapes of its
  // series), for up to a minute, instead of a fixed wait a slow scrape outlasts.
  std::vector<std::string> problems;
  const auto patience = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  do {
    if (!problems.empty()) std::this_thread::sleep_for(std::chrono::seconds(1));
    problems.clear();
    for (const auto& query : queries) {
      if (auto found = problem(query); !found.empty()) problems.push_back(std::move(found));
    }
  } while (!problems.empty() && std::chrono::steady_clock::now() < patience);
  for (const auto& found : problems) ADD_FAILURE() << found;
}

// A finding and its remedied twin (experiments/findings/): a client that
// connects to n3 first with the NATS library's PING defaults (every 2 min)
// sits on n3 while n3 is cut off from everything (violated, and the report
// says which check broke first and what the remedy is); the same client
// PINGing every second leaves n3 within seconds (held).
// Each runs with the probe its [lab] table names. Keep this test last
// before ZzDownLeavesNothingBehind: the lab's probe is left non-standard.
TEST_F(LabExperimentsTest, SlowPingFindingIsViolatedAndItsRemediedTwinHolds) {
  const std::string findings = env("CHAOS_SOURCE_DIR") + "/experiments/findings/";
  const auto probe_for = [&](const std::string& file) {
    const auto restarted = run({chaosctl(), "lab", "probe", "--for", findings + file}, std::chrono::seconds(120));
    EXPECT_EQ(restarted.exit_code, 0) << restarted.stdout_text << restarted.stderr_text;
    return restarted.exit_code == 0;
  };
  ASSERT_TRUE(probe_for("isolated-server-slow-ping.toml"));
  EXPECT_EQ(run_experiment(findings + "isolated-server-slow-ping.toml"), 1);
  const auto journal = nlohmann::json::parse(read_file(report_dir_ + "/journal.json"), nullptr, false);
  ASSERT_FALSE(journal.is_discarded());
  const auto& first = journal["verdict"]["first_violation"];
  ASSERT_TRUE(first.is_object()) << journal["verdict"].dump();
  EXPECT_EQ(first.value("name", ""), "longest wait for a publish ack (stall)") << first.dump();
  EXPECT_EQ(first.value("phase", ""), "during") << first.dump();
  const std::string report = read_file(report_dir_ + "/report.html");
  EXPECT_NE(report.find("<section id=\"finding\""), std::string::npos);
  EXPECT_NE(report.find("--ping-interval 1s"), std::string::npos) << "the remedy text";

  // The twin's run reuses the report dir: keep the finding's when it failed.
  if (!HasFailure() && probe_for("isolated-server-slow-ping-remedied.toml")) {
    EXPECT_EQ(run_experiment(findings + "isolated-server-slow-ping-remedied.toml"), 0);
    const std::string remedied = read_file(report_dir_ + "/report.html");
    EXPECT_EQ(remedied.find("<section id=\"finding\""), std::string::npos) << "a held run has no finding section";
  }
  // No `lab probe --reset`: only ZzDownLeavesNothingBehind follows, and it
  // takes the lab down (the reset itself is tested in the lab lifecycle test).
}

// Last (gtest runs tests in file order): down leaves nothing behind.
TEST_F(LabExperimentsTest, ZzDownLeavesNothingBehind) {
  const auto down = run({chaosctl(), "lab", "down"});
  EXPECT_EQ(down.exit_code, 0) << down.stderr_text;
  EXPECT_EQ(run({"ip", "netns", "list"}).stdout_text.find("chaoslab-"), std::string::npos);
  EXPECT_EQ(run({"ip", "-br", "link"}).stdout_text.find("chaoslab"), std::string::npos);
  for (const char* program : {"nats-server", "chaos-agent", "dnsmasq", "prometheus"}) {
    EXPECT_TRUE(find_processes(program, "/run/chaos-lab").empty()) << program;
  }
  EXPECT_TRUE(find_processes("chaos-probe", "127.0.0.1:19800").empty());
  EXPECT_FALSE(std::filesystem::exists("/run/chaos-lab"));
  chaos::testing::expect_only_the_lab_lock_file("/run/chaos-lab");
  // The tests run one at a time under their own lock: no lab verb can be
  // using the file now, so the run leaves nothing at all.
  std::filesystem::remove("/run/chaos-lab.lock");
}

}  // namespace
}  // namespace chaos::lab
