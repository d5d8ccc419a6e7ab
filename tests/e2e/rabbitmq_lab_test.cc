// The RabbitMQ lab end to end: `chaosctl lab up --broker rabbitmq` once for
// the whole binary (CI time: ~1 min of RabbitMQ boot), then what it must
// show: three nodes in one cluster, the probe's quorum queue with a leader
// that the inventory labels, `lab status`, Prometheus scraping the nodes;
// last, `lab down` leaving no process, namespace or file behind. Uses the
// real lab constants (prefix chaoslab, /run/chaos-lab, ports 19090/19800),
// like lab_experiments_test, so the rabbitmq-*.toml experiments can be
// added here as tests between the lab checks and ZzDownLeavesNothingBehind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/command_runner.h"
#include "common/url_encode.h"
#include "lab/http_check.h"
#include "lab/lab_layout.h"
#include "common/clock.h"
#include "lab/proc_scan.h"
#include "lab/readiness.h"
#include "lab/rabbitmq/management_api.h"
#include "lab/rabbitmq/queue_leader.h"
#include "lab/rabbitmq/rabbitmq_readiness.h"

namespace chaos::lab {
namespace {

const std::string kRabbitmqStateDir = "/run/chaos-lab";

CommandResult rabbitmq_run(const std::vector<std::string>& argv,
                           std::chrono::seconds timeout = std::chrono::seconds(60)) {
  ProcessCommandRunner runner;
  auto result = runner.run(argv, RunOptions{"", timeout});
  return result.ok() ? *result : CommandResult{-1, "", result.status().to_string()};
}

std::string rabbitmq_chaosctl() {
  const char* dir = std::getenv("CHAOS_BUILD_DIR");
  return std::string(dir ? dir : ".") + "/bin/chaosctl";
}

// Entries of a directory the RabbitMQ package owns, to see that the lab
// added nothing there.
std::set<std::string> rabbitmq_dir_entries(const std::string& dir) {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error)) {
    names.insert(entry.path().string());
  }
  return names;
}

std::string rabbitmq_read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `check` (every 250 ms, up to `limit`): a generous effect check.
bool rabbitmq_eventually(std::chrono::seconds limit, const std::function<bool()>& check) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!check()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return true;
}

// Every node's firewall and qdiscs, to compare before and after a run.
std::string rabbitmq_node_rules() {
  std::string text;
  for (const std::string node : {"chaoslab-n1", "chaoslab-n2", "chaoslab-n3"}) {
    text += rabbitmq_run({"ip", "netns", "exec", node, "nft", "list", "ruleset"}).stdout_text;
    text += rabbitmq_run({"ip", "netns", "exec", node, "tc", "qdisc", "show"}).stdout_text;
  }
  return text;
}

// Runs an experiment once the probe is steady (so a verdict is the
// experiment's own, never the aftermath of the one before) and checks that
// no fault stayed behind; returns chaosctl's exit code.
int run_rabbitmq_experiment(const std::string& path) {
  const auto layout = LabLayout::create(LabParams{});
  if (!layout.ok()) {
    ADD_FAILURE() << layout.status().message();
    return -1;
  }
  SystemClock clock;
  const Status steady = wait_until(clock, std::chrono::seconds(90), "probe steady state",
                                   [&] { return probe_in_steady_state(*layout); });
  if (!steady.ok()) {
    ADD_FAILURE() << steady.message();
    return -1;
  }
  const std::string rules_before = rabbitmq_node_rules();
  const std::string report_dir = ::testing::TempDir() + "/rabbitmq-e2e-" +
                                 ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::filesystem::remove_all(report_dir);
  const auto result = rabbitmq_run({rabbitmq_chaosctl(), "run", path, "--report-dir", report_dir, "--history",
                                    report_dir + "/history.sqlite"}, std::chrono::seconds(240));
  std::cerr << result.stdout_text << result.stderr_text;
  EXPECT_TRUE(std::filesystem::exists(report_dir + "/report.html"));
  EXPECT_EQ(rabbitmq_node_rules(), rules_before) << "a fault was left behind";
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(report_dir);
  return result.exit_code;
}

class RabbitmqLabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    (void)rabbitmq_run({rabbitmq_chaosctl(), "lab", "down"});
    for (const char* dir : {"/var/lib/rabbitmq", "/var/log/rabbitmq"}) package_files_[dir] = rabbitmq_dir_entries(dir);
    root_cookie_existed_ = std::filesystem::exists("/root/.erlang.cookie");
    up_ = rabbitmq_run({rabbitmq_chaosctl(), "lab", "up", "--broker", "rabbitmq"}, std::chrono::seconds(300));
    if (up_.exit_code != 0) std::cerr << up_.stdout_text << up_.stderr_text;
    // Everything started inside the node namespaces (beam.smp, epmd,
    // erl_child_setup, inet_gethost, agents): all must be gone after down.
    for (const std::string ns : {"chaoslab-n1", "chaoslab-n2", "chaoslab-n3"}) {
      std::istringstream pids(rabbitmq_run({"ip", "netns", "pids", ns}).stdout_text);
      for (int pid = 0; pids >> pid;) namespace_pids_.insert(pid);
    }
  }
  static void TearDownTestSuite() {
    if (::geteuid() != 0) return;
    (void)rabbitmq_run({rabbitmq_chaosctl(), "lab", "down"}, std::chrono::seconds(90));
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the lab)";
    ASSERT_EQ(up_.exit_code, 0) << "chaosctl lab up --broker rabbitmq failed:\n" << up_.stdout_text << up_.stderr_text;
  }

  static CommandResult up_;
  static std::map<std::string, std::set<std::string>> package_files_;
  static bool root_cookie_existed_;
  static std::set<int> namespace_pids_;
};

CommandResult RabbitmqLabTest::up_{-1, "", "not run"};
std::map<std::string, std::set<std::string>> RabbitmqLabTest::package_files_;
bool RabbitmqLabTest::root_cookie_existed_ = false;
std::set<int> RabbitmqLabTest::namespace_pids_;

TEST_F(RabbitmqLabTest, UpClustersThreeNodesAndDeclaresTheQuorumQueue) {
  EXPECT_NE(up_.stdout_text.find("RabbitMQ cluster of 3 running nodes"), std::string::npos) << up_.stdout_text;
  auto nodes = management_get("10.77.0.12", "/api/nodes");
  ASSERT_TRUE(nodes.ok()) << nodes.status().to_string();
  EXPECT_EQ(running_nodes_from_api(nodes->body),
            (std::vector<std::string>{"rabbit@n1.lab", "rabbit@n2.lab", "rabbit@n3.lab"}));
  auto queue = management_get("10.77.0.13", probe_queue_api_path());
  ASSERT_TRUE(queue.ok()) << queue.status().to_string();
  const auto json = nlohmann::json::parse(queue->body, nullptr, false);
  ASSERT_TRUE(json.is_object()) << queue->body;
  EXPECT_EQ(json.value("type", ""), "quorum");
  EXPECT_TRUE(json.value("durable", false));
  // Not json["members"]: the API may name it twice (queue_leader.h).
  EXPECT_EQ(queue_members_from_api(queue->body).size(), 3u) << queue->body;
  EXPECT_TRUE(queue_leader_from_api(queue->body).has_value()) << queue->body;
  // The supervisor watches beam.smp itself, so a kill of it is the node's exit.
  for (const std::string node : {"n1", "n2", "n3"}) {
    const auto pid = read_pidfile(kRabbitmqStateDir + "/run/rabbitmq-" + node + ".pid");
    ASSERT_TRUE(pid && process_alive(*pid)) << node;
    const auto argv = process_cmdline(*pid);
    ASSERT_FALSE(argv.empty());
    EXPECT_TRUE(cmdline_matches(argv, "beam.smp", kRabbitmqStateDir + "/nodes/" + node + "/rabbitmq/home"))
        << argv.front();
  }
}

TEST_F(RabbitmqLabTest, InventoryAndStatusNameTheQueueLeader) {
  std::string leader;
  ASSERT_TRUE(rabbitmq_eventually(std::chrono::seconds(15), [&] {
    auto queue = management_get("10.77.0.11", probe_queue_api_path());
    leader = queue.ok() ? queue_leader_from_api(queue->body).value_or("") : "";
    return !leader.empty() && rabbitmq_read_file(kRabbitmqStateDir + "/inventory.toml")
                                      .find("name = \"" + leader + "\", queue_leader = \"true\"") != std::string::npos;
  })) << "leader " << leader << "\n" << rabbitmq_read_file(kRabbitmqStateDir + "/inventory.toml");
  const auto status = rabbitmq_run({rabbitmq_chaosctl(), "lab", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.stderr_text;
  EXPECT_NE(status.stdout_text.find("broker: rabbitmq (quorum queue chaos-probe); 3 of 3 nodes running in the "
                                    "cluster; queue leader " + leader),
            std::string::npos)
      << status.stdout_text;
  EXPECT_NE(status.stdout_text.find("rabbitmq-n3 running"), std::string::npos) << status.stdout_text;
}

TEST_F(RabbitmqLabTest, PrometheusScrapesEveryNode) {
  const std::string query = url_encode("count(up{job=\"rabbitmq\"} == 1)");
  std::string body;
  EXPECT_TRUE(rabbitmq_eventually(std::chrono::seconds(20), [&] {
    auto reply = http_get("127.0.0.1", 19090, "/api/v1/query?query=" + query);
    body = reply.ok() ? reply->body : reply.status().to_string();
    const auto json = nlohmann::json::parse(body, nullptr, false);
    return json.is_object() && json["data"]["result"].is_array() && !json["data"]["result"].empty() &&
           json["data"]["result"][0]["value"][1] == "3";
  })) << body;
}

// `up`'s repair for a quorum queue declared before every node had joined
// (the probe may win that race): on a queue of its own, not the probe's.
TEST_F(RabbitmqLabTest, MissingQueueReplicasAreAdded) {
  LabParams params;
  params.broker = kBrokerRabbitmq;
  const auto layout = LabLayout::create(params);
  ASSERT_TRUE(layout.ok());
  const std::string queue = "chaos-lab-test-replicas";
  auto declared = management_put("10.77.0.11", "/api/queues/%2F/" + queue,
                                 R"({"durable":true,"arguments":{"x-queue-type":"quorum","x-quorum-initial-group-size":1}})");
  ASSERT_TRUE(declared.ok() && declared->status == 201) << (declared.ok() ? declared->body : declared.status().to_string());
  EXPECT_FALSE(queue_replicated(*layout, queue).ok());
  ProcessCommandRunner runner;
  const Status added = add_missing_queue_members(*layout, runner, queue);
  EXPECT_TRUE(added.ok()) << added.to_string();
  EXPECT_TRUE(rabbitmq_eventually(std::chrono::seconds(10), [&] { return queue_replicated(*layout, queue).ok(); }))
      << queue_replicated(*layout, queue).to_string();
}

// The probe publishes with confirms and consumes the quorum queue: the
// before-checks of the kill experiment (success ratio, confirm latency,
// nothing missing, broker="rabbitmq") are its steady state. Killing the
// queue leader's Erlang VM holds (a new leader within seconds, nothing
// lost), and the supervisor brings the node back into the cluster.
TEST_F(RabbitmqLabTest, KillingTheQueueLeaderHolds) {
  EXPECT_EQ(run_rabbitmq_experiment(std::string(std::getenv("CHAOS_SOURCE_DIR")) +
                                    "/experiments/rabbitmq-kill-queue-leader.toml"),
            0);
  auto nodes = management_get("10.77.0.11", "/api/nodes");
  EXPECT_TRUE(rabbitmq_eventually(std::chrono::seconds(60), [&] {
    nodes = management_get("10.77.0.11", "/api/nodes");
    return nodes.ok() && running_nodes_from_api(nodes->body).size() == 3;
  })) << (nodes.ok() ? nodes->body : nodes.status().to_string());
}

// Designed to be violated: 300 ms on every node's egress puts every
// confirm over the experiment's 250 ms p99 bound (the same file as the NATS
// lab's; the SLIs are the probe's, whatever the broker).
TEST_F(RabbitmqLabTest, LatencyOnEveryNodeIsViolated) {
  EXPECT_EQ(run_rabbitmq_experiment(std::string(std::getenv("CHAOS_SOURCE_DIR")) +
                                    "/tests/e2e/experiments/violated-latency.toml"),
            1);
}

// Last (gtest runs tests in file order): down leaves nothing behind.
TEST_F(RabbitmqLabTest, ZzDownLeavesNothingBehind) {
  ASSERT_FALSE(namespace_pids_.empty());
  const auto down = rabbitmq_run({rabbitmq_chaosctl(), "lab", "down"}, std::chrono::seconds(90));
  EXPECT_EQ(down.exit_code, 0) << down.stdout_text << down.stderr_text;
  EXPECT_EQ(rabbitmq_run({"ip", "netns", "list"}).stdout_text.find("chaoslab-"), std::string::npos);
  EXPECT_EQ(rabbitmq_run({"ip", "-br", "link"}).stdout_text.find("chaoslab"), std::string::npos);
  // beam.smp, epmd (daemonized per namespace), erl_child_setup, inet_gethost, agents.
  for (int pid : namespace_pids_) {
    EXPECT_FALSE(process_alive(pid)) << pid << " " << (process_cmdline(pid).empty() ? "" : process_cmdline(pid)[0]);
  }
  for (const char* program : {"beam.smp", "chaos-agent", "dnsmasq", "prometheus"}) {
    EXPECT_TRUE(find_processes(program, kRabbitmqStateDir).empty()) << program;
  }
  EXPECT_TRUE(find_processes("chaos-probe", "127.0.0.1:19800").empty());
  EXPECT_FALSE(std::filesystem::exists(kRabbitmqStateDir));
  EXPECT_FALSE(std::filesystem::exists("/etc/netns/chaoslab-n1"));
  EXPECT_EQ(std::filesystem::exists("/root/.erlang.cookie"), root_cookie_existed_);
  for (const auto& [dir, before] : package_files_) EXPECT_EQ(rabbitmq_dir_entries(dir), before) << dir;
}

}  // namespace
}  // namespace chaos::lab
