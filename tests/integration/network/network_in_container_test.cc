// network.delay inside a real podman container (root, podman): the fault is
// applied through ContainerTargetingKind, so every tool and the NFQUEUE
// engine act in the container's network namespace while the host's ruleset
// and qdiscs stay as they were. The container runs with --network none; the
// test gives it one veth end, whose peer sits in a namespace of the test's
// own that answers pings.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "agent/faults/network/network_fault_kinds.h"
#include "agent/targets/container_targeting_kind.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/proc_reader.h"
#include "tests/integration/network/delayed_rtt_floor.h"
#include "tests/support/fixed_container_finder.h"

namespace chaos::agent::network {
namespace {

namespace fs = std::filesystem;

const std::string kPeerAddress = "10.231.7.1";
const std::string kContainerAddress = "10.231.7.2";

// Listings with what changes by itself (counters, timestamps) taken out.
std::string normalised(std::string text) {
  text = std::regex_replace(text, std::regex("(^|\n)#[^\n]*"), "$1");
  text = std::regex_replace(text, std::regex("\\[[0-9]+:[0-9]+\\]"), "[]");
  return std::regex_replace(text, std::regex("packets [0-9]+ bytes [0-9]+"), "packets bytes");
}

// The fastest round trip of `busybox ping` run inside the container; -1
// when no reply came.
double fastest_ping_ms(CommandRunner& commands, const std::string& container) {
  RunOptions options;
  options.timeout = std::chrono::seconds(20);
  auto pinged = commands.run({"podman", "exec", container, "/bin/busybox", "ping", "-c", "3", "-i", "0.2", "-W", "2",
                              kPeerAddress},
                             options);
  if (!pinged.ok()) return -1;
  std::smatch match;
  static const std::regex summary("min/avg/max = ([0-9.]+)/");
  if (pinged->exit_code != 0 || !std::regex_search(pinged->stdout_text, match, summary)) return -1;
  return std::stod(match[1].str());
}

class NetworkInContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!fs::exists("/usr/bin/podman") || !fs::exists("/bin/busybox")) GTEST_SKIP() << "needs podman and busybox";
    const std::string tag = std::to_string(getpid());
    name_ = "chaos-test-" + tag + "-netdelay";
    peer_namespace_ = "chaos-test-" + tag + "-peer";
    veth_container_ = "ctc" + tag;
    veth_peer_ = "ctp" + tag;
    rootfs_ = fs::temp_directory_path() / ("chaos-test-" + tag + "-rootfs");
    fs::create_directories(rootfs_ / "bin");
    fs::copy_file("/bin/busybox", rootfs_ / "bin" / "busybox", fs::copy_options::overwrite_existing);

    run({"podman", "run", "-d", "--name", name_, "--network", "none", "--cap-add", "NET_RAW", "--ulimit",
         "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--rootfs", rootfs_.string(), "/bin/busybox",
         "sleep", "600"});
    const std::string pid_text = run({"podman", "inspect", "--format", "{{.State.Pid}}", name_});
    pid_ = std::atoi(pid_text.c_str());
    ASSERT_GT(pid_, 0) << pid_text;
    const std::string pid = std::to_string(pid_);
    run({"ip", "netns", "add", peer_namespace_});
    run({"ip", "link", "add", veth_container_, "type", "veth", "peer", "name", veth_peer_});
    run({"ip", "link", "set", veth_peer_, "netns", peer_namespace_});
    run({"ip", "link", "set", veth_container_, "netns", pid});
    run({"ip", "-n", peer_namespace_, "addr", "add", kPeerAddress + "/30", "dev", veth_peer_});
    run({"ip", "-n", peer_namespace_, "link", "set", veth_peer_, "up"});
    run({"nsenter", "-t", pid, "-n", "ip", "addr", "add", kContainerAddress + "/30", "dev", veth_container_});
    run({"nsenter", "-t", pid, "-n", "ip", "link", "set", veth_container_, "up"});
    ASSERT_FALSE(HasFailure());

    v1::ContainerRef ref;
    ref.set_runtime("podman");
    ref.set_id(run({"podman", "inspect", "--format", "{{.Id}}", name_}));
    ref.set_name(name_);
    ref.set_pid(pid_);
    const auto stat = ProcReader().stat(pid_);
    ASSERT_TRUE(stat.has_value());
    ref.set_pid_start_time(stat->start_time);
    const auto identity = namespace_of(pid_, "net");
    ASSERT_TRUE(identity.ok()) << identity.status().to_string();
    ref.set_network_namespace(identity->to_string("net"));
    finder_ = std::make_unique<chaos::testing::FixedContainerFinder>(ref);
    env_.commands = &commands_;
    env_.clock = &clock_;
    // The engine, as on a kernel without netem: the path that opens
    // sockets inside the container's namespace.
    for (auto& kind : make_network_fault_kinds(env_, NetworkCapabilities{})) {
      if (kind->name() == "network.delay") {
        delay_ = std::make_unique<ContainerTargetingKind>(std::move(kind), finder_.get(), commands_);
      }
    }
    ASSERT_NE(delay_, nullptr);
  }

  void TearDown() override {
    // The fault first (it acts in the container), then what the test made.
    if (live_) (void)live_->revert();
    live_.reset();
    delay_.reset();
    RunOptions quiet;
    if (!name_.empty()) (void)commands_.run({"podman", "rm", "-f", "-t", "0", name_}, quiet);
    if (!peer_namespace_.empty()) (void)commands_.run({"ip", "netns", "del", peer_namespace_}, quiet);
    // Only on the host when SetUp stopped before moving it.
    if (!veth_container_.empty()) (void)commands_.run({"ip", "link", "del", veth_container_}, quiet);
    std::error_code ignored;
    if (!rootfs_.empty()) fs::remove_all(rootfs_, ignored);
  }

  std::string run(const std::vector<std::string>& argv) {
    RunOptions options;
    options.timeout = std::chrono::seconds(30);
    auto result = commands_.run_checked(argv, options);
    EXPECT_TRUE(result.ok()) << result.status().to_string();
    if (!result.ok()) return "";
    std::string out = result->stdout_text;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // Everything a network fault could change, as the host sees it.
  std::string host_state() {
    return normalised(run({"nft", "list", "ruleset"}) + "\n" + run({"iptables-save"}) + "\n" +
                      run({"ip6tables-save"}) + "\n" + run({"tc", "qdisc", "show"}));
  }
  std::string container_state() {
    const std::vector<std::string> inside{"nsenter", "-t", std::to_string(pid_), "-n"};
    auto in = [&](std::vector<std::string> argv) {
      argv.insert(argv.begin(), inside.begin(), inside.end());
      return run(argv);
    };
    return normalised(in({"nft", "list", "ruleset"}) + "\n" + in({"iptables-save"}) + "\n" +
                      in({"tc", "qdisc", "show"}));
  }

  ProcessCommandRunner commands_;
  SystemClock clock_;
  AgentEnvironment env_;
  std::string name_, peer_namespace_, veth_container_, veth_peer_;
  fs::path rootfs_;
  int pid_ = 0;
  std::unique_ptr<ContainerFinder> finder_;
  std::unique_ptr<FaultKind> delay_;
  std::unique_ptr<LiveFault> live_;
};

TEST_F(NetworkInContainerTest, DelayActsInTheContainersNamespaceAndLeavesTheHostAlone) {
  ASSERT_GT(fastest_ping_ms(commands_, name_), 0) << "the container reaches its peer before the fault";
  const std::string host_before = host_state();
  const std::string container_before = container_state();

  v1::FaultSpec spec;
  spec.mutable_target()->set_runtime("podman");
  spec.mutable_target()->set_name(name_);
  spec.mutable_network_delay()->mutable_delay()->set_nanos(50'000'000);
  spec.mutable_network_delay()->mutable_scope()->set_interface(veth_container_);
  ASSERT_TRUE(delay_->validate(spec).ok()) << delay_->validate(spec).to_string();
  auto live = delay_->apply(spec, FaultContext{"ctdelay" + std::to_string(getpid()), "exp", std::chrono::seconds(60)});
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  live_ = std::move(live).value();
  EXPECT_EQ(live_->backend(), "nfqueue");

  // Held: no undelayed round trip comes back.
  EXPECT_GE(fastest_ping_ms(commands_, name_), chaos::testing::delayed_rtt_floor_ms(50));
  const auto effect = live_->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_TRUE(effect->impaired) << effect->evidence;
  EXPECT_NE(container_state(), container_before) << "the steering is in the container";
  EXPECT_EQ(host_state(), host_before) << "nothing of the fault on the host";
  EXPECT_TRUE(live_->on_tick(std::chrono::steady_clock::now()).ok());

  ASSERT_TRUE(live_->revert().ok());
  const auto gone = live_->verify_gone();
  EXPECT_TRUE(gone.ok()) << gone.status().to_string();
  live_.reset();
  EXPECT_EQ(container_state(), container_before) << "the container's namespace is back to its baseline";
  EXPECT_EQ(host_state(), host_before);
  EXPECT_GT(fastest_ping_ms(commands_, name_), 0) << "still reachable after the revert";
}

}  // namespace
}  // namespace chaos::agent::network
