// Brings a 3-node lab up under the prefix "clb", checks that the NATS
// cluster forms and JetStream stores and delivers the probe's messages, and
// that `down` leaves no namespace, link, process or file behind, also after
// the supervisor was killed (a crashed `up`); and with the brokers in
// Podman containers (`up --runtime podman`).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>
#include <nlohmann/json.hpp>

#include "common/command_runner.h"
#include "lab/http_check.h"
#include "lab/proc_scan.h"
#include "lab/readiness.h"
#include "lab/testbed/safe_kill.h"
#include "tests/support/lab_lock_file_check.h"

namespace chaos::lab {
namespace {

const std::string kStateDir = "/tmp/chaos-clb-integration";

std::vector<std::string> lab_flags() {
  return {"--prefix", "clb", "--subnet", "10.78.0", "--state-dir", kStateDir, "--nodes", "3",
          "--prometheus-port", "19191", "--probe-port", "19891"};
}

class LabLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
    ASSERT_NE(build_dir, nullptr);
    chaosctl_ = std::string(build_dir) + "/bin/chaosctl";
    (void)lab("down");  // a previous failed run must not make this one fail
  }
  void TearDown() override {
    if (chaosctl_.empty()) return;
    (void)lab("down");
    // The test's own lab, and no verb runs now: its lock file can go.
    std::filesystem::remove(kStateDir + ".lock");
  }

  CommandResult lab(const std::string& action, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {chaosctl_, "lab", action};
    const auto flags = lab_flags();
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = runner_.run(argv, RunOptions{"", std::chrono::seconds(150)});
    EXPECT_TRUE(result.ok()) << result.status().to_string();
    return result.ok() ? *result : CommandResult{-1, "", result.status().message()};
  }

  std::string run_output(const std::vector<std::string>& argv) {
    auto result = runner_.run(argv);
    return result.ok() ? result->stdout_text : "";
  }

  void expect_nothing_left() {
    EXPECT_EQ(run_output({"ip", "netns", "list"}).find("clb-n"), std::string::npos);
    const std::string links = run_output({"ip", "-br", "link", "show"});
    EXPECT_EQ(links.find("clb0"), std::string::npos) << links;
    EXPECT_EQ(links.find("clb-v"), std::string::npos) << links;
    for (const char* program : {"nats-server", "chaos-agent", "dnsmasq", "prometheus", "chaosctl"}) {
      EXPECT_TRUE(find_processes(program, kStateDir).empty()) << program << " still running";
    }
    EXPECT_TRUE(find_processes("chaos-probe", "127.0.0.1:19891").empty());
    EXPECT_FALSE(std::filesystem::exists("/etc/netns/clb-n1"));
    EXPECT_FALSE(std::filesystem::exists(kStateDir));
    chaos::testing::expect_only_the_lab_lock_file(kStateDir);
    // The JetStream stores' loop devices are detached (their images went with the state dir).
    EXPECT_EQ(run_output({"losetup", "-a"}).find(kStateDir), std::string::npos);
    if (podman_installed()) {
      EXPECT_EQ(run_output({"podman", "ps", "-a", "--filter", "label=chaos.lab=clb", "--format", "{{.Names}}"}), "");
      EXPECT_TRUE(find_processes("conmon", "clb-nats-").empty()) << "conmon still running";
      EXPECT_TRUE(find_processes("podman", kStateDir + "/podman-api.sock").empty()) << "podman API service still running";
    }
  }

  bool podman_installed() { return run_output({"podman", "--version"}).find("podman") != std::string::npos; }

  std::string chaosctl_;
  ProcessCommandRunner runner_;
};

int route_count(const std::string& node_ip) {
  auto reply = http_get(node_ip, 8222, "/routez");
  if (!reply.ok()) return -1;
  auto json = nlohmann::json::parse(reply->body, nullptr, false);
  return json.is_object() ? json.value("num_routes", -1) : -1;
}

std::vector<std::string> running_probe_argv() {
  const auto pid = read_pidfile(kStateDir + "/run/probe.pid");
  return pid && process_alive(*pid) ? process_cmdline(*pid) : std::vector<std::string>{};
}

bool argv_ends_with(const std::vector<std::string>& argv, const std::vector<std::string>& tail) {
  return argv.size() >= tail.size() && std::equal(tail.rbegin(), tail.rend(), argv.rbegin());
}

TEST_F(LabLifecycleTest, UpFormsJetStreamClusterAndDownLeavesNothing) {
  const auto up = lab("up");
  ASSERT_EQ(up.exit_code, 0) << up.stdout_text << up.stderr_text;
  EXPECT_NE(up.stdout_text.find("JetStream cluster formed"), std::string::npos);

  for (const std::string ip : {"10.78.0.11", "10.78.0.12", "10.78.0.13"}) {
    EXPECT_EQ(route_count(ip), 2) << ip << " should route to both peers";
  }
  // The probe's messages go through the replicated stream and come back.
  auto metrics = http_get("127.0.0.1", 19891, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_GT(sample_value(metrics->body, "chaos_probe_publish_success_total").value_or(0), 0);
  EXPECT_GT(sample_value(metrics->body, "chaos_probe_messages_received_total").value_or(0), 0);
  EXPECT_EQ(sample_value(metrics->body, "chaos_probe_messages_lost_total").value_or(-1), 0);
  // Once the probe's loss grace (15 s) has passed for its first messages,
  // none of them is missing (checked below, 17 s from now, after the checks
  // that need no waiting): the consumer existed before the first publish
  // (it used not to, and the first message counted as lost in every run).
  const auto grace_passed = std::chrono::steady_clock::now() + std::chrono::seconds(17);
  // The inventory names the stream leader for the "pause the leader" experiment.
  EXPECT_TRUE(std::filesystem::exists(kStateDir + "/inventory.toml"));
  // ... and the link to the leader's store for disk.fill (nats-disk-full.toml).
  EXPECT_TRUE(std::filesystem::is_symlink(kStateDir + "/stream-leader-store"));
  EXPECT_TRUE(std::filesystem::is_directory(kStateDir + "/stream-leader-store"));

  const auto again = lab("up");
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.stderr_text.find("already up"), std::string::npos) << again.stderr_text;

  const auto status = lab("status");
  EXPECT_EQ(status.exit_code, 0) << status.stderr_text;
  EXPECT_NE(status.stdout_text.find("nats-n3     running"), std::string::npos) << status.stdout_text;
  // Each node's store is its own small filesystem, not the state dir's.
  EXPECT_NE(status.stdout_text.find("nodes/n3/jetstream  "), std::string::npos) << status.stdout_text;
  EXPECT_EQ(status.stdout_text.find("NOT MOUNTED"), std::string::npos) << status.stdout_text;

  std::this_thread::sleep_until(grace_passed);
  metrics = http_get("127.0.0.1", 19891, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(sample_value(metrics->body, "chaos_probe_messages_lost_total").value_or(-1), 0);
  EXPECT_EQ(sample_value(metrics->body, "chaos_probe_messages_missing").value_or(-1), 0);
  EXPECT_EQ(sample_value(metrics->body, "chaos_probe_consumer_recreations_total").value_or(-1), 0);

  const auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.stdout_text << down.stderr_text;
  expect_nothing_left();
  // 1: the lab is not up (chaos-lab's code, passed through by chaosctl lab).
  const auto after = lab("status");
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_NE(after.stderr_text.find("is down"), std::string::npos) << after.stderr_text;
}

// One `lab up` for three behaviours: the supervisor restarts a killed broker;
// `lab probe` restarts the probe with extra flags that the supervisor keeps;
// and when the supervisor itself crashes, `down` still removes everything
// (including the restarted broker, an orphan by then).
TEST_F(LabLifecycleTest, SupervisorRestartsKilledBrokerAndDownCleansUpAfterSupervisorCrash) {
  ASSERT_EQ(lab("up").exit_code, 0);
  const auto before = read_pidfile(kStateDir + "/run/nats-n2.pid");
  ASSERT_TRUE(before.has_value());
  ASSERT_EQ(::chaos::test_support::safe_kill(*before, SIGKILL), 0);
  // Restart delay 2 s; allow the broker time to rejoin.
  std::optional<int> after;
  for (int attempt = 0; attempt < 40 && (!after || *after == *before || !process_alive(*after)); ++attempt) {
    ::usleep(250 * 1000);
    after = read_pidfile(kStateDir + "/run/nats-n2.pid");
  }
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(*after, *before);
  EXPECT_TRUE(process_alive(*after));

  // The same lab: `lab probe` restarts the probe with extra flags, the
  // supervisor keeps them, --reset brings back the standard probe.
  const std::vector<std::string> extra = {"--ack-timeout", "3s"};
  const auto restarted = lab("probe", {"--", "--ack-timeout", "3s"});
  ASSERT_EQ(restarted.exit_code, 0) << restarted.stdout_text << restarted.stderr_text;
  EXPECT_NE(restarted.stdout_text.find("lab: probe steady"), std::string::npos) << restarted.stdout_text;
  EXPECT_TRUE(argv_ends_with(running_probe_argv(), extra));
  auto metrics = http_get("127.0.0.1", 19891, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_GT(sample_value(metrics->body, "chaos_probe_publish_success_total").value_or(0), 0);
  EXPECT_NE(metrics->body.find("ack_timeout=\"3s\""), std::string::npos) << "chaos_probe_config_info";
  EXPECT_NE(lab("status").stdout_text.find("probe flags --ack-timeout 3s"), std::string::npos);

  const auto same = lab("probe", {"--", "--ack-timeout", "3s"});
  EXPECT_EQ(same.exit_code, 0);
  EXPECT_NE(same.stdout_text.find("already running with --ack-timeout 3s"), std::string::npos) << same.stdout_text;

  // A chaos kill of the probe: the supervisor restarts it with the stored flags.
  const auto probe_before = read_pidfile(kStateDir + "/run/probe.pid");
  ASSERT_TRUE(probe_before.has_value());
  ASSERT_EQ(::chaos::test_support::safe_kill(*probe_before, SIGKILL), 0);
  std::optional<int> probe_after;
  for (int attempt = 0; attempt < 40 && (!probe_after || *probe_after == *probe_before || !process_alive(*probe_after)); ++attempt) {
    ::usleep(250 * 1000);
    probe_after = read_pidfile(kStateDir + "/run/probe.pid");
  }
  ASSERT_TRUE(probe_after && *probe_after != *probe_before);
  EXPECT_TRUE(argv_ends_with(process_cmdline(*probe_after), extra));

  // A flag the probe does not know: it exits at once, the command says why
  // and the previous flags come back.
  const auto bad = lab("probe", {"--", "--no-such-probe-flag"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.stdout_text.find("chaos-probe exited"), std::string::npos) << bad.stdout_text;
  EXPECT_NE(bad.stdout_text.find("no-such-probe-flag"), std::string::npos) << bad.stdout_text;
  EXPECT_NE(lab("status").stdout_text.find("probe flags --ack-timeout 3s"), std::string::npos);

  const auto reserved = lab("probe", {"--", "--servers", "nats://127.0.0.1:1"});
  EXPECT_EQ(reserved.exit_code, 4) << reserved.stderr_text;

  const auto reset = lab("probe", {"--reset"});
  ASSERT_EQ(reset.exit_code, 0) << reset.stdout_text << reset.stderr_text;
  const auto standard = running_probe_argv();
  ASSERT_FALSE(standard.empty());
  EXPECT_EQ(std::find(standard.begin(), standard.end(), "--ack-timeout"), standard.end());
  EXPECT_EQ(standard.back(), "127.0.0.1:19891");
  EXPECT_NE(lab("status").stdout_text.find("probe flags (none: the standard probe)"), std::string::npos);

  const auto supervisor = read_pidfile(kStateDir + "/run/supervisor.pid");
  ASSERT_TRUE(supervisor.has_value());
  // A crash: the supervisor dies without stopping its children.
  ASSERT_EQ(::chaos::test_support::safe_kill(*supervisor, SIGKILL), 0);
  ::usleep(200 * 1000);
  EXPECT_FALSE(find_processes("nats-server", kStateDir).empty()) << "orphans expected before down";
  const auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.stdout_text << down.stderr_text;
  expect_nothing_left();
}

TEST_F(LabLifecycleTest, PodmanRuntimeRunsBrokersInLabelledContainers) {
  if (!podman_installed()) GTEST_SKIP() << "needs podman (scripts/install-deps)";
  const auto up = lab("up", {"--runtime", "podman"});
  ASSERT_EQ(up.exit_code, 0) << up.stdout_text << up.stderr_text;
  const std::string labels =
      "{{.State.Pid}} {{.State.Running}} {{index .Config.Labels \"app\"}} {{index .Config.Labels \"chaos.lab\"}} "
      "{{index .Config.Labels \"io.kubernetes.pod.namespace\"}} {{index .Config.Labels \"io.kubernetes.pod.name\"}} "
      "{{index .Config.Labels \"io.kubernetes.container.name\"}}";
  for (int node = 1; node <= 3; ++node) {
    const std::string name = "clb-nats-" + std::to_string(node);
    const auto inspect = run_output({"podman", "inspect", "--format", labels, name});
    const auto pid = read_pidfile(kStateDir + "/run/nats-n" + std::to_string(node) + ".pid");
    ASSERT_TRUE(pid.has_value()) << name;
    // The supervisor watches the container's init, which is nats-server.
    EXPECT_EQ(inspect, std::to_string(*pid) + " true nats clb chaos-lab nats-" + std::to_string(node) + " nats\n");
    EXPECT_EQ(route_count("10.78.0.1" + std::to_string(node)), 2) << name << " should route to both peers";
    // The container sees the mounted store, not the directory under it.
    const auto store = kStateDir + "/nodes/n" + std::to_string(node) + "/jetstream";
    EXPECT_NE(run_output({"podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file", "exec", name,
                          "/bin/busybox", "df", store}).find("/dev/loop"), std::string::npos)
        << name;
  }
  // A chaos kill of nats-server ends its container; the supervisor starts a new one.
  const auto killed = read_pidfile(kStateDir + "/run/nats-n2.pid");
  ASSERT_TRUE(killed.has_value());
  ASSERT_EQ(::chaos::test_support::safe_kill(*killed, SIGKILL), 0);
  std::optional<int> restarted;
  for (int attempt = 0; attempt < 60 && (!restarted || *restarted == *killed || !process_alive(*restarted));
       ++attempt) {
    ::usleep(250 * 1000);
    restarted = read_pidfile(kStateDir + "/run/nats-n2.pid");
  }
  ASSERT_TRUE(restarted.has_value());
  EXPECT_NE(*restarted, *killed);
  EXPECT_EQ(run_output({"podman", "inspect", "--format", "{{.State.Pid}}", "clb-nats-2"}),
            std::to_string(*restarted) + "\n");

  // A crashed supervisor leaves its containers: `down` finds them by label.
  const auto supervisor = read_pidfile(kStateDir + "/run/supervisor.pid");
  ASSERT_TRUE(supervisor.has_value());
  ASSERT_EQ(::chaos::test_support::safe_kill(*supervisor, SIGKILL), 0);
  const auto down = lab("down");
  EXPECT_EQ(down.exit_code, 0) << down.stdout_text << down.stderr_text;
  EXPECT_NE(down.stdout_text.find("Podman containers of clb"), std::string::npos) << down.stdout_text;
  expect_nothing_left();
}

}  // namespace
}  // namespace chaos::lab
