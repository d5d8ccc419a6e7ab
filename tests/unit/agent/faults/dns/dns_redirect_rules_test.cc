#include "agent/faults/dns/dns_redirect_rules.h"

#include <gtest/gtest.h>

#include "tests/support/fake_command_runner.h"

namespace chaos::agent::dns {
namespace {

TEST(DnsRedirectRulesTest, TableNameIsDerivedFromTheFaultIdOnly) {
  EXPECT_EQ(redirect_table_name("f-42"), "chaos_dns_f_42");
  EXPECT_EQ(redirect_table_name("a;delete table inet filter"), "chaos_dns_a_delete_table_inet_filter");
  EXPECT_EQ(redirect_table_name(std::string(500, 'x')).size(), 64u);
}

TEST(DnsRedirectRulesTest, RedirectsUdpAndTcpExceptMarkedSockets) {
  RedirectRules rules{"chaos_dns_t", 40053, kUpstreamSocketMark, false, false};
  const std::string script = render_redirect_ruleset(rules);
  EXPECT_NE(script.find("table inet chaos_dns_t {"), std::string::npos) << script;
  EXPECT_NE(script.find("type nat hook output priority -100;"), std::string::npos) << script;
  EXPECT_NE(script.find("meta mark 0x4348444e return"), std::string::npos) << script;
  EXPECT_NE(script.find("meta nfproto ipv4 udp dport 53 redirect to :40053"), std::string::npos) << script;
  EXPECT_NE(script.find("meta nfproto ipv4 tcp dport 53 redirect to :40053"), std::string::npos) << script;
  EXPECT_EQ(script.find("ipv6"), std::string::npos) << "no IPv6 rule without an IPv6 listener";
  // The exemption must come before the redirect or it exempts nothing.
  EXPECT_LT(script.find("meta mark"), script.find("redirect"));
}

TEST(DnsRedirectRulesTest, LoopbackUpstreamOnlyCatchesLoopbackDestinations) {
  RedirectRules rules{"chaos_dns_t", 40053, kUpstreamSocketMark, true, true};
  const std::string script = render_redirect_ruleset(rules);
  EXPECT_NE(script.find("ip daddr 127.0.0.0/8 udp dport 53"), std::string::npos) << script;
  EXPECT_NE(script.find("ip6 daddr ::1 tcp dport 53"), std::string::npos) << script;
  EXPECT_EQ(script.find("meta nfproto"), std::string::npos) << script;
}

TEST(DnsRedirectRulesTest, InstallIsOneTransactionReplacingALeftoverOfTheSameFault) {
  chaos::testing::FakeCommandRunner commands;
  RedirectRules rules{"chaos_dns_t", 40053, kUpstreamSocketMark, false, false};
  ASSERT_TRUE(install_redirect(commands, rules).ok());
  ASSERT_EQ(commands.call_lines(), (std::vector<std::string>{"nft -f -"}));
  EXPECT_EQ(commands.stdin_texts().at(0),
            "add table inet chaos_dns_t\ndelete table inet chaos_dns_t\n" + render_redirect_ruleset(rules));
  commands.fail_on("nft -f", "Error: syntax error");
  auto status = install_redirect(commands, rules);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("chaos_dns_t"), std::string::npos) << status.message();
}

TEST(DnsRedirectRulesTest, RemovalIsOneTransactionThatSucceedsForAnAbsentTable) {
  chaos::testing::FakeCommandRunner commands;
  EXPECT_TRUE(remove_redirect(commands, "chaos_dns_gone").ok());
  EXPECT_EQ(commands.call_lines(), (std::vector<std::string>{"nft -f -"}));
  EXPECT_EQ(commands.stdin_texts().at(0), "add table inet chaos_dns_gone\ndelete table inet chaos_dns_gone\n");
  commands.fail_on("nft -f", "Error: Operation not permitted");
  EXPECT_FALSE(remove_redirect(commands, "chaos_dns_gone").ok());
}

}  // namespace
}  // namespace chaos::agent::dns
