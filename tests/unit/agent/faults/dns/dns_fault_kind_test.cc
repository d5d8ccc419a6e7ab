// dns.fail end to end minus the kernel: a real responder on loopback, the
// nft calls recorded by a FakeCommandRunner.
#include "agent/faults/dns/dns_fault_kind.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "agent/faults/dns/dns_fault_kinds.h"
#include "agent/faults/dns/live_dns_fault.h"
#include "agent/policy.h"
#include "tests/support/fake_command_runner.h"
#include "tests/unit/agent/faults/dns/dns_test_client.h"

namespace chaos::agent::dns {
namespace {

using namespace std::chrono_literals;

class DnsFaultKindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    resolv_conf_ = std::filesystem::path(::testing::TempDir()) / ("cdn-resolv-" + std::to_string(::getpid()));
    // Loopback only: a unit test must never send a query off the machine.
    std::ofstream(resolv_conf_) << "nameserver 127.0.0.1\n";
    env_.commands = &commands_;
    env_.clock = &clock_;
    DnsFaultOptions options;
    options.resolv_conf_path = resolv_conf_.string();
    options.upstream_socket_mark = 0;
    options.seed = 1;
    // The test's own queries would otherwise be recognised as the agent's.
    options.exempt_own_lookups = false;
    kind_ = std::make_unique<DnsFaultKind>(env_, options);
  }
  void TearDown() override { std::filesystem::remove(resolv_conf_); }

  static v1::FaultSpec nxdomain_spec() {
    v1::FaultSpec spec;
    spec.mutable_dns()->add_patterns("*.lab");
    spec.mutable_dns()->set_mode(v1::DnsFault::MODE_NXDOMAIN);
    return spec;
  }
  static FaultContext context(const std::string& id) { return FaultContext{id, "exp", 60s}; }

  std::filesystem::path resolv_conf_;
  chaos::testing::FakeCommandRunner commands_;
  FakeClock clock_;
  AgentEnvironment env_;
  std::unique_ptr<DnsFaultKind> kind_;
};

TEST_F(DnsFaultKindTest, FactoryRegistersDnsFail) {
  auto kinds = make_dns_fault_kinds(env_);
  ASSERT_EQ(kinds.size(), 1u);
  EXPECT_EQ(kinds[0]->name(), "dns.fail");
  EXPECT_EQ(kinds[0]->backend(), "dns-stub");
  EXPECT_EQ(kinds[0]->required_capabilities(), std::vector<std::string>{"CAP_NET_ADMIN"});
  EXPECT_FALSE(kinds[0]->effect_survives_reboot());  // resolv.conf is only read
}

TEST_F(DnsFaultKindTest, ValidateRejectsOtherKindsAndBadSpecs) {
  v1::FaultSpec other;
  other.mutable_process_kill();
  EXPECT_EQ(kind_->validate(other).code(), StatusCode::kInvalidArgument);
  v1::FaultSpec bad = nxdomain_spec();
  bad.mutable_dns()->set_mode(v1::DnsFault::MODE_UNSPECIFIED);
  EXPECT_EQ(kind_->validate(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(kind_->validate(nxdomain_spec()).ok());
}

TEST_F(DnsFaultKindTest, PolicyMaxDelayLimitsTheAnswerDelay) {
  Policy policy;
  policy.max_delay = 2s;
  v1::FaultSpec spec = nxdomain_spec();
  spec.mutable_dns()->set_mode(v1::DnsFault::MODE_DELAY);
  spec.mutable_dns()->mutable_delay()->set_seconds(2);
  EXPECT_TRUE(check_policy(policy, *kind_, spec).ok());
  spec.mutable_dns()->mutable_delay()->set_seconds(3);
  const Status refused = check_policy(policy, *kind_, spec);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(), "policy: dns.delay 3s exceeds max_delay 2s");
}

TEST_F(DnsFaultKindTest, ApplyStartsStubAndRedirectsToItsPort) {
  auto live = kind_->apply(nxdomain_spec(), context("f1"));
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ((*live)->backend(), "dns-stub");
  EXPECT_NE((*live)->detail().find("nxdomain for *.lab, upstream 127.0.0.1"), std::string::npos)
      << (*live)->detail();
  const auto undo = (*live)->undo_record();
  EXPECT_EQ(undo["nft_table"], "chaos_dns_f1");
  const int port = undo["stub_port"].get<int>();
  ASSERT_EQ(commands_.call_lines(), (std::vector<std::string>{"nft -f -"})) << "one transaction";
  EXPECT_NE(commands_.stdin_texts()[0].find("redirect to :" + std::to_string(port)), std::string::npos);
  auto reply = testing::udp_ask(static_cast<std::uint16_t>(port), testing::make_query(3, "x.lab"), 2000ms);
  ASSERT_TRUE(reply);
  EXPECT_EQ(testing::rcode_of(*reply), 3);

  EXPECT_NE((*live)->detail().find("; 1 queries, 1 faulted, 0 forwarded"), std::string::npos) << (*live)->detail();

  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(commands_.call_lines().back(), "nft -f -");
  EXPECT_EQ(commands_.stdin_texts().back(), "add table inet chaos_dns_f1\ndelete table inet chaos_dns_f1\n");
  EXPECT_FALSE(testing::udp_ask(static_cast<std::uint16_t>(port), testing::make_query(4, "x.lab"), 200ms));
  const auto calls = commands_.call_lines().size();
  EXPECT_TRUE((*live)->revert().ok()) << "idempotent";
  EXPECT_EQ(commands_.call_lines().size(), calls);
}

TEST_F(DnsFaultKindTest, OnlyOneDnsFaultAtATime) {
  auto first = kind_->apply(nxdomain_spec(), context("f1"));
  ASSERT_TRUE(first.ok());
  auto second = kind_->apply(nxdomain_spec(), context("f2"));
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*first)->revert().ok());
  auto third = kind_->apply(nxdomain_spec(), context("f3"));
  EXPECT_TRUE(third.ok()) << third.status().to_string();
}

TEST_F(DnsFaultKindTest, FailedNftLeavesNothingBehind) {
  commands_.fail_on("nft -f", "Error: Could not process rule: No such file or directory");
  auto failed = kind_->apply(nxdomain_spec(), context("f1"));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("chaos_dns_f1"), std::string::npos) << failed.status().message();
  commands_.clear();
  commands_.on("nft -f", [](const std::vector<std::string>&) -> StatusOr<CommandResult> { return CommandResult{}; });
  EXPECT_TRUE(kind_->apply(nxdomain_spec(), context("f2")).ok()) << "the single-fault slot was released";
}

TEST_F(DnsFaultKindTest, UnreadableResolvConfFailsBeforeTouchingNft) {
  std::filesystem::remove(resolv_conf_);
  auto failed = kind_->apply(nxdomain_spec(), context("f1"));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find(resolv_conf_.string()), std::string::npos);
  EXPECT_TRUE(commands_.calls().empty());
}

TEST_F(DnsFaultKindTest, RecoverDeletesTheTableByNameAndRefusesForeignNames) {
  ASSERT_TRUE(kind_->recover(nxdomain_spec(), context("f9"), nlohmann::json{{"nft_table", "chaos_dns_f9"}}).ok());
  ASSERT_TRUE(kind_->recover(nxdomain_spec(), context("f9"), nullptr).ok());
  ASSERT_TRUE(kind_->recover(nxdomain_spec(), context("f9"), nlohmann::json{{"nft_table", "filter"}}).ok());
  EXPECT_EQ(commands_.stdin_texts(),
            (std::vector<std::string>(3, "add table inet chaos_dns_f9\ndelete table inet chaos_dns_f9\n")));
}

// A fault in a container: its own command runner (the real one enters the
// container's namespace) and its root, where its resolv.conf is.
class DnsContainerContextTest : public DnsFaultKindTest {
 protected:
  void SetUp() override {
    DnsFaultKindTest::SetUp();
    root_ = std::filesystem::path(::testing::TempDir()) / ("cdn-container-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "etc");
    scope_.ref.set_name("cdn-c1");
    scope_.commands = &container_commands_;
    // Opening needs no privilege; only entering it would.
    scope_.network_namespace_fd = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    scope_.root_path = root_.string();
  }
  void TearDown() override {
    if (scope_.network_namespace_fd >= 0) ::close(scope_.network_namespace_fd);
    std::filesystem::remove_all(root_);
    DnsFaultKindTest::TearDown();
  }
  FaultContext in_container(const std::string& id) {
    FaultContext inside = context(id);
    inside.container = &scope_;
    return inside;
  }

  std::filesystem::path root_;
  chaos::testing::FakeCommandRunner container_commands_;
  ContainerScope scope_;
};

TEST_F(DnsContainerContextTest, ActsInContainers) { EXPECT_TRUE(kind_->acts_in_containers()); }

TEST_F(DnsContainerContextTest, ApplyReadsTheResolvConfUnderTheContainersRoot) {
  // The host's resolv.conf (the fixture's) is readable; the container's is
  // missing, and that is the one a container fault must use.
  auto failed = kind_->apply(nxdomain_spec(), in_container("c1"));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find(root_.string() + "/etc/resolv.conf"), std::string::npos)
      << failed.status().message();
  EXPECT_TRUE(commands_.calls().empty());
  EXPECT_TRUE(container_commands_.calls().empty());
}

TEST_F(DnsContainerContextTest, RecoveryRunsNftThroughTheContainersRunner) {
  ASSERT_TRUE(kind_->recover(nxdomain_spec(), in_container("c9"), nlohmann::json{{"nft_table", "chaos_dns_c9"}}).ok());
  ASSERT_TRUE(kind_->recover_by_id(in_container("c9")).ok());
  container_commands_.on("nft list tables", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "table inet chaos_dns_c9\n", ""};
  });
  EXPECT_EQ(kind_->verify_recovered(in_container("c9"), nullptr).status().code(), StatusCode::kFailedPrecondition)
      << "the container's ruleset still has it";
  const auto calls = container_commands_.call_lines();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], "nft -f -");
  EXPECT_EQ(calls[1], "nft -f -");
  EXPECT_NE(calls[2].find("nft list tables"), std::string::npos) << calls[2];
  for (int i : {0, 1}) {
    EXPECT_EQ(container_commands_.stdin_texts()[i], "add table inet chaos_dns_c9\ndelete table inet chaos_dns_c9\n");
  }
  EXPECT_TRUE(commands_.calls().empty()) << "the host's ruleset is never touched";
}

// A tiny nft: which tables exist, so recovery is checked on the state.
class NftTables {
 public:
  explicit NftTables(chaos::testing::FakeCommandRunner& commands) {
    commands.on_input("nft -f -", [this](const std::vector<std::string>&,
                                         const std::string& script) -> StatusOr<CommandResult> {
      std::istringstream lines(script);
      std::set<std::string> tables = tables_;
      for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
        if (w.size() == 4 && w[0] == "add" && w[1] == "table") tables.insert(w[3]);
        if (w.size() == 4 && w[0] == "delete" && w[1] == "table" && tables.erase(w[3]) == 0) {
          return CommandResult{1, "", "Error: No such file or directory\n"};
        }
        if (w.size() == 4 && w[0] == "table" && w[3] == "{") tables.insert(w[2]);
      }
      tables_ = tables;
      return CommandResult{};
    });
  }
  std::set<std::string> tables_;
};

TEST_F(DnsFaultKindTest, RecoverByIdRemovesTheRedirectOfThatFaultOnly) {
  NftTables nft(commands_);
  auto live = kind_->apply(nxdomain_spec(), context("live"));
  ASSERT_TRUE(live.ok());
  nft.tables_.insert("chaos_dns_crashed");  // a dead agent's, its journal entry unreadable
  ASSERT_TRUE(kind_->recover_by_id(context("crashed")).ok());
  EXPECT_EQ(nft.tables_, (std::set<std::string>{"chaos_dns_live"}));
  ASSERT_TRUE(kind_->recover_by_id(context("crashed")).ok()) << "idempotent";
  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_TRUE(nft.tables_.empty());
}

TEST_F(DnsFaultKindTest, FailedResponderThreadEndsTheFaultThroughOnTick) {
  DnsFaultSpec spec;
  spec.patterns.push_back(NamePattern::compile("*.lab").value());
  spec.mode = DnsFaultMode::kNxDomain;
  ResponderOptions options;
  options.upstream = upstream_from_text("127.0.0.1").value();
  options.is_exempt_peer = [](const sockaddr_storage&, bool) -> bool { throw std::runtime_error("boom"); };
  auto responder = DnsStubResponder::start(std::make_shared<QueryPolicy>(spec, 1), options, clock_);
  ASSERT_TRUE(responder.ok());
  const auto port = (*responder)->port();
  LiveDnsFault live(commands_, LiveDnsFaultSetup{RedirectRules{"chaos_dns_t", port}, options.upstream, spec, "nxdomain"},
                    std::move(responder).value(), std::make_shared<std::atomic<bool>>(true));
  EXPECT_TRUE(live.on_tick(clock_.steady_now()).ok());
  (void)testing::udp_ask(port, testing::make_query(1, "x.lab"), 200ms);
  Status status;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((status = live.on_tick(clock_.steady_now())).ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_EQ(status.message(), "engine_failed: dns stub responder: listener: boom");
  EXPECT_TRUE(live.revert().ok());
}

// The effect check without a kernel: the listing comes from the fake nft,
// and the probe goes to a loopback port standing in for where the redirect
// would take it.
class DnsEffectCheckTest : public DnsFaultKindTest {
 protected:
  // A live nxdomain fault whose probe is sent to 127.0.0.1:`probe_port`
  // (0: the stub's own port, as if redirected into it).
  std::unique_ptr<LiveDnsFault> start(std::uint16_t probe_port = 0) {
    DnsFaultSpec spec;
    spec.patterns.push_back(NamePattern::compile("*.lab").value());
    spec.mode = DnsFaultMode::kNxDomain;
    ResponderOptions options;
    options.upstream = upstream_from_text("127.0.0.1").value();
    auto responder = DnsStubResponder::start(std::make_shared<QueryPolicy>(spec, 1), options, clock_);
    if (!responder.ok()) return nullptr;
    rules_ = RedirectRules{"chaos_dns_f1", (*responder)->port()};
    UpstreamResolver target = options.upstream;
    reinterpret_cast<sockaddr_in&>(target.address).sin_port = htons(probe_port ? probe_port : rules_.stub_port);
    return std::make_unique<LiveDnsFault>(commands_, LiveDnsFaultSetup{rules_, target, spec, "nxdomain for *.lab"},
                                          std::move(responder).value(), std::make_shared<std::atomic<bool>>(true));
  }
  void kernel_lists(const std::string& listing, int exit_code = 0) {
    commands_.on("nft list table inet", [listing, exit_code](const std::vector<std::string>&) -> StatusOr<CommandResult> {
      return CommandResult{exit_code, exit_code == 0 ? listing : "", exit_code == 0 ? "" : listing};
    });
  }
  static std::uint64_t counter(const FaultEffect& effect, const std::string& name) {
    for (const auto& c : effect.counters) {
      if (c.name == name) return c.value;
    }
    ADD_FAILURE() << "no counter " << name;
    return 0;
  }
  RedirectRules rules_;
};

TEST_F(DnsEffectCheckTest, VerifyLiveNamesTheTableTheKernelDoesNotList) {
  auto live = start();
  ASSERT_TRUE(live);
  kernel_lists("Error: No such file or directory\nlist table inet chaos_dns_f1\n", 1);
  const auto effect = live->verify_live();
  EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(effect.status().message(),
            "nft table inet chaos_dns_f1 is not in the ruleset (nft: Error: No such file or directory)");
  EXPECT_EQ(live->responder().counters().probes.load(), 0u) << "no probe without the redirect";
  EXPECT_EQ(live->observe().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(DnsEffectCheckTest, VerifyLiveNamesTheMissingRedirectRule) {
  auto live = start();
  ASSERT_TRUE(live);
  RedirectRules other = rules_;
  other.stub_port = static_cast<std::uint16_t>(rules_.stub_port + 1);
  kernel_lists(render_redirect_ruleset(other));
  const auto effect = live->verify_live();
  EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(effect.status().message(), "nft table inet chaos_dns_f1 lacks the rule \"meta nfproto ipv4 udp dport 53 "
                                       "redirect to :" + std::to_string(rules_.stub_port) + "\"");
}

TEST_F(DnsEffectCheckTest, VerifyLivePassesWhenTheProbeGetsTheFaultyAnswerFromTheStub) {
  auto live = start();
  ASSERT_TRUE(live);
  kernel_lists(render_redirect_ruleset(rules_));
  auto armed = live->observe();
  ASSERT_TRUE(armed.ok()) << armed.status().to_string();
  EXPECT_FALSE(armed->impaired) << armed->evidence;
  const auto effect = live->verify_live();
  ASSERT_TRUE(effect.ok()) << effect.status().to_string();
  EXPECT_TRUE(effect->impaired);
  EXPECT_NE(effect->evidence.find("probe chaos-probe.lab A to 127.0.0.1:" + std::to_string(rules_.stub_port) +
                                  " got the nxdomain answer from the stub"),
            std::string::npos)
      << effect->evidence;
  EXPECT_EQ(counter(*effect, "queries_probe"), 1u);
  EXPECT_EQ(counter(*effect, "queries_nxdomain"), 0u) << "the probe is no user query";
  EXPECT_EQ(live->responder().counters().queries.load(), 0u);
  auto observed = live->observe();
  ASSERT_TRUE(observed.ok());
  EXPECT_TRUE(observed->impaired);
}

TEST_F(DnsEffectCheckTest, VerifyLiveFailsWhenSomethingOtherThanTheStubAnswersTheProbe) {
  testing::FakeUpstream elsewhere(7);  // answers every name normally
  auto live = start(elsewhere.port());
  ASSERT_TRUE(live);
  kernel_lists(render_redirect_ruleset(rules_));
  const auto effect = live->verify_live();
  EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(effect.status().message().find("did not reach the stub on :" + std::to_string(rules_.stub_port) +
                                           "; something else answered it"),
            std::string::npos)
      << effect.status().message();
}

TEST_F(DnsEffectCheckTest, VerifyGoneNeedsTheTableAbsentAndTheStubClosed) {
  auto live = start();
  ASSERT_TRUE(live);
  commands_.on("nft list tables", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "table inet chaos_dns_f1\ntable ip filter\n", ""};
  });
  ASSERT_TRUE(live->revert().ok());
  auto still = live->verify_gone();
  EXPECT_EQ(still.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(still.status().message(), "nft table inet chaos_dns_f1 is still in the ruleset");
  commands_.on("nft list tables", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "table ip filter\n", ""};
  });
  auto gone = live->verify_gone();
  ASSERT_TRUE(gone.ok()) << gone.status().to_string();
  EXPECT_NE(gone->find("absent from `nft list tables`; stub sockets on :" + std::to_string(rules_.stub_port) +
                       " closed"),
            std::string::npos)
      << *gone;
  EXPECT_NE(gone->find("no faulty answer"), std::string::npos) << *gone;
}

TEST_F(DnsEffectCheckTest, VerifyRecoveredLooksForTheTableOfTheFaultId) {
  commands_.on("nft list tables", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "table inet chaos_dns_f9\n", ""};
  });
  EXPECT_EQ(kind_->verify_recovered(context("f9"), nullptr).status().code(), StatusCode::kFailedPrecondition);
  auto other = kind_->verify_recovered(context("f8"), nullptr);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->find("chaos_dns_f8 absent"), std::string::npos) << *other;
}

}  // namespace
}  // namespace chaos::agent::dns
