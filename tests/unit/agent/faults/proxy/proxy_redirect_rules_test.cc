#include "agent/faults/proxy/proxy_redirect_rules.h"

#include <gtest/gtest.h>

#include "tests/support/fake_command_runner.h"

namespace chaos::agent::proxy {
namespace {

ProxyRedirectRules local_rules() {
  ProxyRedirectRules rules;
  rules.table = proxy_table_name("f-42");
  rules.proxy_port = 40001;
  rules.port = 4222;
  return rules;
}

TEST(ProxyRedirectRules, TableIsNamedAfterTheFaultId) {
  EXPECT_EQ(proxy_table_name("f-42"), "chaos_tcp_f_42");
  EXPECT_EQ(proxy_table_name(std::string(100, 'a')).size(), 64u);
}

TEST(ProxyRedirectRules, LocalScopeRedirectsInNatOutputAndExemptsTheProxyMark) {
  EXPECT_EQ(render_proxy_ruleset(local_rules()),
            "table inet chaos_tcp_f_42 {\n"
            "  chain output {\n"
            "    type nat hook output priority -100; policy accept;\n"
            "    meta mark 0x43485450 return\n"
            "    meta nfproto ipv4 tcp dport 4222 tcp flags & (syn | ack) == syn redirect to :40001\n"
            "  }\n"
            "}\n");
}

TEST(ProxyRedirectRules, RemoteScopeAddsPreroutingAndGuardsTheProxyPort) {
  ProxyRedirectRules rules = local_rules();
  rules.local = false;
  rules.remote = true;
  rules.address = "10.0.0.3";
  const std::string script = render_proxy_ruleset(rules);
  EXPECT_EQ(script.find("hook output"), std::string::npos);
  EXPECT_NE(script.find("type nat hook prerouting priority -100; policy accept;\n"
                        "    ip daddr 10.0.0.3 tcp dport 4222 tcp flags & (syn | ack) == syn redirect to :40001\n"),
            std::string::npos);
  EXPECT_NE(script.find("    tcp dport 40001 ct status dnat accept\n    tcp dport 40001 drop\n"), std::string::npos);
}

TEST(ProxyRedirectRules, WithoutAnAddressBothFamiliesAreRedirectedWhenTheProxyHasIpv6) {
  ProxyRedirectRules rules = local_rules();
  rules.ipv6 = true;
  const std::string script = render_proxy_ruleset(rules);
  EXPECT_NE(script.find("    meta mark 0x43485450 return\n"
                        "    meta nfproto ipv4 tcp dport 4222 tcp flags & (syn | ack) == syn redirect to :40001\n"
                        "    meta nfproto ipv6 tcp dport 4222 tcp flags & (syn | ack) == syn redirect to :40001\n"),
            std::string::npos)
      << script;
  EXPECT_TRUE(check_proxy_listing(script, rules).ok());
  // A listing with the IPv4 rule alone lacks one.
  EXPECT_EQ(check_proxy_listing(render_proxy_ruleset(local_rules()), rules).message(),
            "nft table inet chaos_tcp_f_42 lacks the redirect \"tcp dport 4222 redirect to :40001\" in 1 of its 2 nat "
            "rules (one per chain and address family)");
}

TEST(ProxyRedirectRules, AnIpv6AddressIsMatchedWithIp6Daddr) {
  ProxyRedirectRules rules = local_rules();
  rules.address = "fd00::3";
  rules.ipv4 = false;
  rules.ipv6 = true;
  rules.remote = true;
  const std::string script = render_proxy_ruleset(rules);
  EXPECT_EQ(script.find("meta nfproto"), std::string::npos) << script;
  EXPECT_NE(script.find("chain output {\n    type nat hook output priority -100; policy accept;\n"
                        "    meta mark 0x43485450 return\n"
                        "    ip6 daddr fd00::3 tcp dport 4222 tcp flags & (syn | ack) == syn redirect to :40001\n"),
            std::string::npos)
      << script;
  EXPECT_NE(script.find("type nat hook prerouting priority -100; policy accept;\n"
                        "    ip6 daddr fd00::3 tcp dport 4222"),
            std::string::npos)
      << script;
  EXPECT_TRUE(check_proxy_listing(script, rules).ok());
}

TEST(ProxyRedirectRules, InstallReplacesALeftoverInOneTransaction) {
  chaos::testing::FakeCommandRunner commands;
  ASSERT_TRUE(install_proxy_redirect(commands, local_rules()).ok());
  ASSERT_EQ(commands.stdin_texts().size(), 1u);
  EXPECT_EQ(commands.stdin_texts()[0].rfind("add table inet chaos_tcp_f_42\ndelete table inet chaos_tcp_f_42\n"
                                            "table inet chaos_tcp_f_42 {\n",
                                            0),
            0u);
}

TEST(ProxyRedirectRules, ListingCheckNamesWhatIsMissing) {
  const ProxyRedirectRules rules = local_rules();
  // nft prints the rules as they were rendered, inside its own framing.
  EXPECT_TRUE(check_proxy_listing(render_proxy_ruleset(rules), rules).ok());
  ProxyRedirectRules other_port = rules;
  other_port.proxy_port = 40002;
  EXPECT_EQ(check_proxy_listing(render_proxy_ruleset(other_port), rules).message(),
            "nft table inet chaos_tcp_f_42 lacks the redirect \"tcp dport 4222 redirect to :40001\" in 1 of its 1 nat "
            "rules (one per chain and address family)");
  ProxyRedirectRules both = rules;
  both.remote = true;
  EXPECT_EQ(check_proxy_listing(render_proxy_ruleset(rules), both).message(),
            "nft table inet chaos_tcp_f_42 has no nat chain on the prerouting hook");
}

}  // namespace
}  // namespace chaos::agent::proxy
