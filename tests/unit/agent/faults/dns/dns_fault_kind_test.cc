// dns.fail end to end minus the kernel: a real responder on loopback, the
// nft calls recorded by a FakeCommandRunner.
#include "agent/faults/dns/dns_fault_kind.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/faults/dns/dns_fault_kinds.h"
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

TEST_F(DnsFaultKindTest, ApplyStartsStubAndRedirectsToItsPort) {
  auto live = kind_->apply(nxdomain_spec(), context("f1"));
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_EQ((*live)->backend(), "dns-stub");
  EXPECT_NE((*live)->detail().find("nxdomain for *.lab, upstream 127.0.0.1"), std::string::npos)
      << (*live)->detail();
  const auto undo = (*live)->undo_record();
  EXPECT_EQ(undo["nft_table"], "chaos_dns_f1");
  const int port = undo["stub_port"].get<int>();
  ASSERT_EQ(commands_.call_lines(),
            (std::vector<std::string>{"nft delete table inet chaos_dns_f1", "nft -f -"}));
  EXPECT_NE(commands_.stdin_texts()[1].find("redirect to :" + std::to_string(port)), std::string::npos);
  auto reply = testing::udp_ask(static_cast<std::uint16_t>(port), testing::make_query(3, "x.lab"), 2000ms);
  ASSERT_TRUE(reply);
  EXPECT_EQ(testing::rcode_of(*reply), 3);

  EXPECT_NE((*live)->detail().find("; 1 queries, 1 faulted, 0 forwarded"), std::string::npos) << (*live)->detail();

  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(commands_.call_lines().back(), "nft delete table inet chaos_dns_f1");
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
  EXPECT_EQ(commands_.call_lines(), (std::vector<std::string>(3, "nft delete table inet chaos_dns_f9")));
}

}  // namespace
}  // namespace chaos::agent::dns
