// dns.fail against the real kernel (root): nftables redirect, the stub in a
// network namespace, dnsmasq as the real resolver, and dig / getent (glibc)
// as the clients whose lookups are faulted.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include "agent/faults/dns/dns_fault_kind.h"
#include "agent/faults/dns/live_dns_fault.h"
#include "tests/integration/dns/dns_lab.h"
#include "tests/unit/agent/faults/dns/dns_test_packets.h"

namespace chaos::agent::dns {
namespace {

using namespace std::chrono_literals;
using testing::DnsLab;
using testing::kLabAddress;
using testing::kLabName;
using testing::kOtherAddress;
using testing::kOtherName;

std::string dig_status(const CommandResult& result) {
  const auto at = result.stdout_text.find("status: ");
  if (at == std::string::npos) return "no-status(exit " + std::to_string(result.exit_code) + ")";
  return result.stdout_text.substr(at + 8, result.stdout_text.find(',', at) - at - 8);
}

class DnsFaultIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, nftables)";
    lab_ = std::make_unique<DnsLab>();
    ASSERT_TRUE(lab_->ready()) << lab_->error();
    client_ = std::make_unique<testing::NamespaceThread>(testing::kClientNamespace);
    ASSERT_TRUE(client_->ready()) << client_->error();
    env_.commands = &commands_;
    env_.clock = &clock_;
    DnsFaultOptions options;
    options.resolv_conf_path = lab_->client_resolv_conf();
    options.seed = 5;
    kind_ = std::make_unique<DnsFaultKind>(env_, options);
  }

  void TearDown() override {
    // The revert must run where the fault lives, or nft would look for the
    // table in the wrong namespace.
    if (client_ && client_->ready()) client_->run([this] { live_.reset(); });
  }

  void inject(v1::DnsFault::Mode mode, std::function<void(v1::DnsFault&)> extra = nullptr) {
    v1::FaultSpec spec;
    spec.mutable_dns()->add_patterns("*.LAB");
    spec.mutable_dns()->set_mode(mode);
    if (extra) extra(*spec.mutable_dns());
    client_->run([&] {
      auto live = kind_->apply(spec, FaultContext{"it1", "exp", 60s});
      ASSERT_TRUE(live.ok()) << live.status().to_string();
      live_ = std::move(live).value();
    });
    ASSERT_TRUE(live_);
  }

  void revert() {
    client_->run([this] { ASSERT_TRUE(live_->revert().ok()); });
  }

  CommandResult dig(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"dig", "+time=2", "+tries=1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(name);
    return lab_->in_client(argv);
  }

  CommandResult getent(const std::string& database, const std::string& name) {
    return lab_->in_client({"getent", database, name});
  }

  void expect_both_resolve_normally() {
    const auto lab = dig(kLabName);
    EXPECT_EQ(dig_status(lab), "NOERROR") << lab.stdout_text;
    EXPECT_NE(lab.stdout_text.find(kLabAddress), std::string::npos) << lab.stdout_text;
    const auto other = getent("ahostsv4", kOtherName);
    EXPECT_EQ(other.exit_code, 0) << other.stderr_text;
    EXPECT_NE(other.stdout_text.find(kOtherAddress), std::string::npos) << other.stdout_text;
    const auto lab_glibc = getent("ahostsv4", kLabName);
    EXPECT_NE(lab_glibc.stdout_text.find(kLabAddress), std::string::npos) << lab_glibc.stdout_text;
  }

  void expect_no_redirect_table() {
    const auto tables = lab_->in_client({"nft", "list", "tables"});
    EXPECT_EQ(tables.stdout_text.find("chaos_dns"), std::string::npos) << tables.stdout_text;
  }

  std::unique_ptr<DnsLab> lab_;  // created only as root
  std::unique_ptr<testing::NamespaceThread> client_;
  ProcessCommandRunner commands_;
  SystemClock clock_;
  AgentEnvironment env_;
  std::unique_ptr<DnsFaultKind> kind_;
  std::unique_ptr<LiveFault> live_;
};

TEST_F(DnsFaultIntegrationTest, NxdomainHitsMatchingNamesOnlyAndRevertRestores) {
  expect_both_resolve_normally();
  inject(v1::DnsFault::MODE_NXDOMAIN);
  EXPECT_EQ(dig_status(dig(kLabName)), "NXDOMAIN");
  EXPECT_EQ(dig_status(dig(kLabName, {"+tcp"})), "NXDOMAIN") << "tcp is redirected too";
  EXPECT_EQ(dig_status(dig(kLabName, {"AAAA"})), "NXDOMAIN");
  EXPECT_EQ(getent("ahosts", kLabName).exit_code, 2) << "glibc: not found";
  EXPECT_EQ(getent("hosts", kLabName).exit_code, 2);
  EXPECT_NE(getent("hosts", kOtherName).stdout_text.find(kOtherAddress), std::string::npos);
  const auto other = getent("ahostsv4", kOtherName);
  EXPECT_EQ(other.exit_code, 0);
  EXPECT_NE(other.stdout_text.find(kOtherAddress), std::string::npos) << other.stdout_text;
  EXPECT_NE(dig(kOtherName, {"+tcp"}).stdout_text.find(kOtherAddress), std::string::npos);
  revert();
  expect_no_redirect_table();
  expect_both_resolve_normally();
}

TEST_F(DnsFaultIntegrationTest, ServfailAndRefusedAreAnsweredAsConfigured) {
  inject(v1::DnsFault::MODE_SERVFAIL);
  EXPECT_EQ(dig_status(dig(kLabName)), "SERVFAIL");
  EXPECT_NE(getent("ahostsv4", kLabName).exit_code, 0);
  EXPECT_EQ(getent("ahostsv4", kOtherName).exit_code, 0);
  revert();
  inject(v1::DnsFault::MODE_REFUSED);
  EXPECT_EQ(dig_status(dig(kLabName)), "REFUSED");
  EXPECT_EQ(dig_status(dig(kOtherName)), "NOERROR");
  revert();
  expect_both_resolve_normally();
}

TEST_F(DnsFaultIntegrationTest, SpoofAnswersAAndAaaaWithTheGivenAddresses) {
  inject(v1::DnsFault::MODE_SPOOF, [](v1::DnsFault& dns) {
    dns.add_spoof_addresses("10.66.0.1");
    dns.add_spoof_addresses("fd00:66::1");
  });
  const auto v4 = getent("ahostsv4", kLabName);
  EXPECT_NE(v4.stdout_text.find("10.66.0.1"), std::string::npos) << v4.stdout_text;
  EXPECT_EQ(v4.stdout_text.find(kLabAddress), std::string::npos) << v4.stdout_text;
  // glibc sends A and AAAA together; both come back spoofed.
  const auto both = getent("ahosts", kLabName);
  EXPECT_NE(both.stdout_text.find("10.66.0.1"), std::string::npos) << both.stdout_text;
  EXPECT_NE(both.stdout_text.find("fd00:66::1"), std::string::npos) << both.stdout_text;
  EXPECT_NE(getent("ahostsv4", kOtherName).stdout_text.find(kOtherAddress), std::string::npos);
  revert();
  expect_both_resolve_normally();
}

TEST_F(DnsFaultIntegrationTest, SpoofWithOnlyIpv4LeavesAaaaEmptyButFinal) {
  inject(v1::DnsFault::MODE_SPOOF, [](v1::DnsFault& dns) { dns.add_spoof_addresses("10.66.0.2"); });
  // The AAAA half of glibc's paired query gets an authoritative NODATA, so
  // the lookup succeeds with the IPv4 address instead of failing over.
  const auto both = getent("ahosts", kLabName);
  EXPECT_EQ(both.exit_code, 0) << both.stderr_text;
  EXPECT_NE(both.stdout_text.find("10.66.0.2"), std::string::npos) << both.stdout_text;
  EXPECT_EQ(both.stdout_text.find("fd00:202::11"), std::string::npos) << "the real AAAA must not leak through";
  const auto aaaa = dig(kLabName, {"AAAA"});
  EXPECT_EQ(dig_status(aaaa), "NOERROR");
  EXPECT_NE(aaaa.stdout_text.find("ANSWER: 0"), std::string::npos) << aaaa.stdout_text;
  revert();
}

TEST_F(DnsFaultIntegrationTest, PercentFaultsOnlyPartOfMatchingQueries) {
  inject(v1::DnsFault::MODE_NXDOMAIN, [](v1::DnsFault& dns) { dns.set_percent(50); });
  int faulted = 0;
  int normal = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string status = dig_status(dig(kLabName));
    faulted += status == "NXDOMAIN";
    normal += status == "NOERROR";
  }
  EXPECT_EQ(faulted + normal, 20);
  EXPECT_GT(faulted, 0);
  EXPECT_GT(normal, 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(dig_status(dig(kOtherName)), "NOERROR");
  revert();
}

TEST_F(DnsFaultIntegrationTest, TimeoutModeGivesNoAnswer) {
  inject(v1::DnsFault::MODE_TIMEOUT);
  const auto lab = dig(kLabName, {"+time=1"});
  EXPECT_EQ(lab.exit_code, 9) << "dig: no reply from server\n" << lab.stdout_text;
  EXPECT_EQ(dig_status(dig(kOtherName)), "NOERROR");
  revert();
  expect_both_resolve_normally();
}

TEST_F(DnsFaultIntegrationTest, DelayModeAnswersCorrectlyButLate) {
  inject(v1::DnsFault::MODE_DELAY, [](v1::DnsFault& dns) { dns.mutable_delay()->set_nanos(800'000'000); });
  const auto before = std::chrono::steady_clock::now();
  const auto lab = dig(kLabName, {"+time=5"});
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_EQ(dig_status(lab), "NOERROR");
  EXPECT_NE(lab.stdout_text.find(kLabAddress), std::string::npos) << lab.stdout_text;
  EXPECT_GE(took, 800ms) << "the real answer, held back by the delay";
  revert();
}

TEST_F(DnsFaultIntegrationTest, AgentsOwnQueriesBypassTheFault) {
  inject(v1::DnsFault::MODE_NXDOMAIN);
  std::vector<std::uint8_t> reply;
  client_->run([&] {
    // Sent from this (the agent's) process to the real resolver: redirected
    // into the stub like any query, but recognised as ours and forwarded.
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(53);
    inet_pton(AF_INET, testing::kResolverAddress, &to.sin_addr);
    const auto query = testing::make_query(77, kLabName);
    ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, 3000) == 1) {
      reply.resize(1500);
      reply.resize(static_cast<std::size_t>(std::max<ssize_t>(0, ::recv(fd, reply.data(), reply.size(), 0))));
    }
    ::close(fd);
  });
  ASSERT_GE(reply.size(), 12u);
  EXPECT_EQ(testing::rcode_of(reply), 0);
  EXPECT_EQ(testing::answer_count(reply), 1);
  EXPECT_EQ(dig_status(dig(kLabName)), "NXDOMAIN") << "while dig in the same namespace is faulted";
}

TEST_F(DnsFaultIntegrationTest, LocalCachingResolverUpstreamDoesNotLoop) {
  // resolv.conf says 127.0.0.1 (a local cache, like systemd-resolved's
  // 127.0.0.53). The stub forwards to it, and its own queries to the real
  // resolver must not be redirected back into the stub.
  ASSERT_TRUE(lab_->use_local_caching_resolver()) << lab_->error();
  expect_both_resolve_normally();
  inject(v1::DnsFault::MODE_NXDOMAIN);
  EXPECT_NE(live_->detail().find("upstream 127.0.0.1"), std::string::npos) << live_->detail();
  EXPECT_EQ(dig_status(dig(kLabName)), "NXDOMAIN");
  const auto other = dig(kOtherName);
  EXPECT_EQ(dig_status(other), "NOERROR");
  EXPECT_NE(other.stdout_text.find(kOtherAddress), std::string::npos) << other.stdout_text;
  EXPECT_NE(getent("ahostsv4", kOtherName).stdout_text.find(kOtherAddress), std::string::npos);
  revert();
  expect_both_resolve_normally();
}

TEST_F(DnsFaultIntegrationTest, RecoverRemovesALeftoverTableByFaultId) {
  inject(v1::DnsFault::MODE_NXDOMAIN);
  const auto undo = live_->undo_record();
  client_->run([&] {
    // A restarted agent knows only the journal: spec, id and undo record.
    ASSERT_TRUE(kind_->recover(v1::FaultSpec{}, FaultContext{"it1", "exp", 60s}, undo).ok());
    ASSERT_TRUE(kind_->recover(v1::FaultSpec{}, FaultContext{"it1", "exp", 60s}, undo).ok()) << "idempotent";
  });
  expect_no_redirect_table();
  EXPECT_EQ(dig_status(dig(kLabName)), "NOERROR");
  revert();
}

TEST_F(DnsFaultIntegrationTest, RecoverByIdRemovesTheRedirectKnowingOnlyTheFaultId) {
  inject(v1::DnsFault::MODE_NXDOMAIN);
  EXPECT_EQ(dig_status(dig(kLabName)), "NXDOMAIN");
  client_->run([&] {
    // The journal entry is unreadable: nothing but the id is known.
    ASSERT_TRUE(kind_->recover_by_id(FaultContext{"it1", "", {}}).ok());
    ASSERT_TRUE(kind_->recover_by_id(FaultContext{"it1", "", {}}).ok()) << "idempotent";
  });
  expect_no_redirect_table();
  EXPECT_EQ(dig_status(dig(kLabName)), "NOERROR");
  revert();
}

// The effect check with a real probe: sent from this (the agent's) process
// to the resolver in resolv.conf, caught by the kernel's redirect, answered
// by the stub.
TEST_F(DnsFaultIntegrationTest, NxdomainAndSpoofAreVerifiedLiveByAProbeAndGoneAfterRevert) {
  const auto verify_then_revert = [this](const std::string& want_in_evidence) {
    client_->run([&] {
      auto effect = live_->verify_live();
      ASSERT_TRUE(effect.ok()) << effect.status().to_string();
      EXPECT_TRUE(effect->impaired);
      EXPECT_NE(effect->evidence.find(want_in_evidence), std::string::npos) << effect->evidence;
      auto observed = live_->observe();
      ASSERT_TRUE(observed.ok()) << observed.status().to_string();
      EXPECT_TRUE(observed->impaired);
      ASSERT_TRUE(live_->revert().ok());
      auto gone = live_->verify_gone();
      ASSERT_TRUE(gone.ok()) << gone.status().to_string();
      EXPECT_NE(gone->find("absent from `nft list tables`"), std::string::npos) << *gone;
    });
  };
  inject(v1::DnsFault::MODE_NXDOMAIN);
  verify_then_revert("probe chaos-probe.lab A to " + std::string(testing::kResolverAddress) +
                     ":53 got the nxdomain answer from the stub");
  inject(v1::DnsFault::MODE_SPOOF, [](v1::DnsFault& dns) { dns.add_spoof_addresses("10.66.0.1"); });
  verify_then_revert("got the spoof answer from the stub");
  expect_both_resolve_normally();
}

TEST_F(DnsFaultIntegrationTest, RedirectDeletedBehindTheFaultsBackIsReportedMissing) {
  inject(v1::DnsFault::MODE_NXDOMAIN);
  ASSERT_EQ(lab_->in_client({"nft", "delete", "table", "inet", "chaos_dns_it1"}).exit_code, 0);
  client_->run([&] {
    const auto effect = live_->verify_live();
    EXPECT_EQ(effect.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(effect.status().message().find("nft table inet chaos_dns_it1 is not in the ruleset"), std::string::npos)
        << effect.status().message();
    EXPECT_EQ(live_->observe().status().code(), StatusCode::kFailedPrecondition);
    const auto* dns_live = dynamic_cast<LiveDnsFault*>(live_.get());
    ASSERT_NE(dns_live, nullptr);
    EXPECT_EQ(dns_live->responder().counters().probes.load(), 0u) << "no probe without the redirect";
  });
  revert();
}

}  // namespace
}  // namespace chaos::agent::dns
