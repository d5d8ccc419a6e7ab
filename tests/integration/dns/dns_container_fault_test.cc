// dns.fail inside a podman container (root): the container joins the lab's
// cdn-client namespace (with `--dns` at the lab's dnsmasq), the fault is
// applied through ContainerTargetingKind as the agent does, and busybox
// nslookup inside the container is the client. The test process itself
// stays in the host's namespace: everything the fault does in the
// container's namespace it must do on its own.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/faults/dns/dns_fault_kind.h"
#include "agent/targets/container_targeting_kind.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/proc_reader.h"
#include "tests/integration/dns/dns_lab.h"

namespace chaos::agent::dns {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::kLabAddress;
using testing::kLabName;
using testing::kOtherAddress;
using testing::kOtherName;

// Finds the containers the test started by name, as the real finder would
// describe them.
class NamedContainersFinder final : public ContainerFinder {
 public:
  void add(v1::ContainerRef ref) { refs_.push_back(std::move(ref)); }
  StatusOr<std::vector<v1::ContainerRef>> find(const v1::ContainerSelector& selector, const std::string& field,
                                               std::uint64_t) override {
    for (const auto& ref : refs_) {
      if (ref.name() == selector.name()) return std::vector<v1::ContainerRef>{ref};
    }
    return not_found(field + ": no container " + selector.name());
  }

 private:
  std::vector<v1::ContainerRef> refs_;
};

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

class DnsContainerFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (podman, network namespaces, nftables)";
    if (!commands_.run({"podman", "--version"}).ok()) GTEST_SKIP() << "needs podman";
    lab_ = std::make_unique<testing::DnsLab>();
    ASSERT_TRUE(lab_->ready()) << lab_->error();
    name_ = "chaos-test-" + std::to_string(::getpid()) + "-dns";
    dir_ = fs::path("/tmp") / name_;
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rootfs/bin");
    fs::create_directories(dir_ / "rootfs/etc");
    fs::copy_file("/bin/busybox", dir_ / "rootfs/bin/busybox");
    // Podman bind-mounts its own resolv.conf over this one; --dns makes it
    // name the same resolver.
    std::ofstream(dir_ / "rootfs/etc/resolv.conf") << "nameserver " << testing::kResolverAddress << "\n";
    ASSERT_NO_FATAL_FAILURE(start_container(
        name_, {"--network", std::string("ns:/run/netns/") + testing::kClientNamespace, "--dns",
                testing::kResolverAddress}));
    // A second container in a namespace of its own (podman's, loopback
    // only): a DNS fault there must not meet the first container's.
    ASSERT_NO_FATAL_FAILURE(start_container(name_ + "-2", {"--network", "none"}));
    env_.commands = &commands_;
    env_.clock = &clock_;
    DnsFaultOptions options;
    options.seed = 5;
    kind_ = std::make_unique<ContainerTargetingKind>(std::make_unique<DnsFaultKind>(env_, options), &finder_,
                                                     commands_);
  }

  void TearDown() override {
    // Reverted while the containers' namespaces are still held.
    live_.reset();
    second_.reset();
    for (const auto& name : containers_) {
      (void)commands_.run({"podman", "rm", "-f", "-t", "0", name}, RunOptions{"", 60s});
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
    lab_.reset();
  }

  // Runs busybox sleep in container `name` on the test's rootfs and tells
  // the finder about it.
  void start_container(const std::string& name, const std::vector<std::string>& network) {
    containers_.push_back(name);  // from here on TearDown removes it, also a half-created one
    (void)commands_.run({"podman", "rm", "-f", "-t", "0", name}, RunOptions{"", 60s});
    std::vector<std::string> argv = {"podman", "run", "-d", "--name", name, "--ulimit", "nofile=1024:1024",
                                     "--ulimit", "nproc=1024:1024"};
    argv.insert(argv.end(), network.begin(), network.end());
    argv.insert(argv.end(), {"--rootfs", (dir_ / "rootfs").string(), "/bin/busybox", "sleep", "600"});
    auto started = commands_.run_checked(argv, RunOptions{"", 60s});
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    auto pid = commands_.run_checked({"podman", "inspect", "--format", "{{.State.Pid}}", name});
    ASSERT_TRUE(pid.ok()) << pid.status().to_string();
    v1::ContainerRef ref;
    ref.set_runtime("podman");
    ref.set_name(name);
    ref.set_id(started->stdout_text.substr(0, 64));
    ref.set_pid(std::stoi(pid->stdout_text));
    const auto stat = ProcReader().stat(ref.pid());
    ASSERT_TRUE(stat.has_value());
    ref.set_pid_start_time(stat->start_time);
    auto netns = namespace_of(ref.pid(), "net");
    ASSERT_TRUE(netns.ok()) << netns.status().to_string();
    ref.set_network_namespace(netns->to_string("net"));
    finder_.add(ref);
  }

  static v1::FaultSpec nxdomain_in(const std::string& container) {
    v1::FaultSpec spec;
    spec.mutable_dns()->add_patterns("*.lab");
    spec.mutable_dns()->set_mode(v1::DnsFault::MODE_NXDOMAIN);
    spec.mutable_target()->set_runtime("podman");
    spec.mutable_target()->set_name(container);
    return spec;
  }

  CommandResult nslookup(const std::string& name) {
    auto result = commands_.run({"podman", "exec", name_, "/bin/busybox", "nslookup", name}, RunOptions{"", 30s});
    if (!result.ok()) return CommandResult{-1, "", result.status().to_string()};
    return *result;
  }

  std::string container_tables() { return lab_->in_client({"nft", "list", "tables"}).stdout_text; }

  std::string host_ruleset() {
    auto listed = commands_.run({"nft", "list", "ruleset"});
    return listed.ok() ? listed->stdout_text : listed.status().to_string();
  }

  std::unique_ptr<testing::DnsLab> lab_;
  ProcessCommandRunner commands_;
  SystemClock clock_;
  AgentEnvironment env_;
  std::string name_;
  fs::path dir_;
  std::vector<std::string> containers_;
  NamedContainersFinder finder_;
  std::unique_ptr<ContainerTargetingKind> kind_;
  std::unique_ptr<LiveFault> live_;
  std::unique_ptr<LiveFault> second_;
};

TEST_F(DnsContainerFaultTest, NxdomainInsideTheContainerOnlyAndRevertRestores) {
  const auto before = nslookup(kLabName);
  ASSERT_NE(before.stdout_text.find(kLabAddress), std::string::npos) << before.stdout_text << before.stderr_text;
  const std::string host_rules = host_ruleset();
  const std::string host_resolv_conf = read_text("/etc/resolv.conf");

  const v1::FaultSpec spec = nxdomain_in(name_);
  ASSERT_TRUE(kind_->validate(spec).ok()) << kind_->validate(spec).to_string();
  auto live = kind_->apply(spec, FaultContext{"ct1", "exp", 60s});
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  live_ = std::move(live).value();
  auto effect = live_->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_TRUE(effect->impaired) << effect->evidence;
  EXPECT_NE(effect->evidence.find("got the nxdomain answer from the stub"), std::string::npos) << effect->evidence;
  ASSERT_EQ(live_->containers().size(), 1u);

  const auto faulted = nslookup(kLabName);
  EXPECT_NE(faulted.stdout_text.find("NXDOMAIN"), std::string::npos) << faulted.stdout_text << faulted.stderr_text;
  EXPECT_EQ(faulted.stdout_text.find(kLabAddress), std::string::npos) << faulted.stdout_text;
  const auto other = nslookup(kOtherName);
  EXPECT_NE(other.stdout_text.find(kOtherAddress), std::string::npos) << other.stdout_text << other.stderr_text;
  EXPECT_NE(container_tables().find("chaos_dns_ct1"), std::string::npos) << "the redirect is in the container";
  EXPECT_EQ(host_ruleset(), host_rules) << "the host's ruleset is untouched";
  EXPECT_EQ(read_text("/etc/resolv.conf"), host_resolv_conf);

  // One DNS fault per network namespace: another container's is its own,
  // a second one in the same namespace could never take effect.
  auto second = kind_->apply(nxdomain_in(name_ + "-2"), FaultContext{"ct2", "exp", 60s});
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  second_ = std::move(second).value();
  const auto same = kind_->apply(nxdomain_in(name_), FaultContext{"ct3", "exp", 60s});
  EXPECT_EQ(same.status().code(), StatusCode::kFailedPrecondition) << same.status().to_string();
  ASSERT_TRUE(second_->revert().ok());

  ASSERT_TRUE(live_->revert().ok());
  auto gone = live_->verify_gone();
  EXPECT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_EQ(container_tables().find("chaos_dns"), std::string::npos) << container_tables();
  const auto after = nslookup(kLabName);
  EXPECT_NE(after.stdout_text.find(kLabAddress), std::string::npos) << after.stdout_text << after.stderr_text;
  EXPECT_EQ(host_ruleset(), host_rules);
}

}  // namespace
}  // namespace chaos::agent::dns
