// Agents from Prometheus's active targets: one per gRPC address, from a
// target label or the agent's chaos_agent_info metric, down targets kept
// (preflight judges them), duplicates and label-less targets skipped with
// a reason, and the answer's size bounded.
#include "orchestrator/clients/prometheus_targets.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

// Shaped like Prometheus 2.42's answer for a file_sd job with four
// targets, one of another job.
constexpr const char* kTargetsJson = R"({"status":"success","data":{"activeTargets":[
 {"discoveredLabels":{"__address__":"10.0.0.1:9701"},"labels":{"instance":"10.0.0.1:9701","job":"chaos-agents",
  "chaos_agent_address":"10.0.0.1:9700","node":"n1","role":"broker"},"scrapePool":"chaos-agents",
  "scrapeUrl":"http://10.0.0.1:9701/metrics","health":"up","lastError":""},
 {"labels":{"instance":"10.0.0.2:9701","job":"chaos-agents","chaos_agent_address":"10.0.0.2:9700"},
  "scrapePool":"chaos-agents","health":"down","lastError":"connection refused"},
 {"labels":{"instance":"10.0.0.3:9701","job":"chaos-agents"},"scrapePool":"chaos-agents","health":"up"},
 {"labels":{"instance":"10.0.0.4:9701","job":"chaos-agents","chaos_agent_address":"10.0.0.1:9700"},
  "scrapePool":"chaos-agents","health":"up"},
 {"labels":{"instance":"10.0.0.9:9100","job":"node","chaos_agent_address":"10.0.0.9:9700"},
  "scrapePool":"node","health":"up"}],"droppedTargets":[]}})";

InventoryDiscovery targets_discovery(bool from_metric = false) {
  InventoryDiscovery settings;
  settings.prometheus = "http://prom:9090";
  settings.job = "chaos-agents";
  settings.address_from_metric = from_metric;
  return settings;
}

TEST(PrometheusTargetsTest, MapsTheJobsTargetsByLabelKeepingDownOnesAndSkippingDuplicates) {
  auto targets = parse_targets_response(kTargetsJson, "http://prom:9090");
  ASSERT_TRUE(targets.ok()) << targets.status().message();
  ASSERT_EQ(targets->size(), 5u);
  auto found = agents_from_targets(*targets, {}, targets_discovery());
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->agents.size(), 2u);
  EXPECT_EQ(found->agents[0].address, "10.0.0.1:9700");
  EXPECT_EQ(found->agents[0].node, "n1");
  EXPECT_EQ(found->agents[0].labels, (Labels{{"role", "broker"}}));
  EXPECT_EQ(found->agents[1].address, "10.0.0.2:9700");
  EXPECT_EQ(found->agents[1].node, "10.0.0.2");  // no node label: the instance's host
  ASSERT_EQ(found->warnings.size(), 3u);
  EXPECT_NE(found->warnings[0].find("10.0.0.2:9701 (agent 10.0.0.2:9700) is down for Prometheus (connection refused)"),
            std::string::npos)
      << found->warnings[0];
  EXPECT_NE(found->warnings[1].find("10.0.0.3:9701 skipped: it has no label chaos_agent_address"), std::string::npos);
  EXPECT_NE(found->warnings[2].find("10.0.0.4:9701 skipped: agent 10.0.0.1:9700 is listed by another target"),
            std::string::npos);
}

TEST(PrometheusTargetsTest, MetricModeTakesTheInfoSeriesAndDialsTheScrapedHostForAWildcardListener) {
  auto targets = parse_targets_response(kTargetsJson, "http://prom:9090");
  ASSERT_TRUE(targets.ok());
  std::vector<AgentInfo> infos = {{"10.0.0.1:9701", "0.0.0.0:9700", "n1"}, {"10.0.0.3:9701", "10.0.0.3:9800", "n3"}};
  auto found = agents_from_targets(*targets, infos, targets_discovery(true));
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->agents.size(), 2u);
  EXPECT_EQ(found->agents[0].address, "10.0.0.1:9700");
  EXPECT_EQ(found->agents[1].address, "10.0.0.3:9800");
  EXPECT_EQ(found->agents[1].node, "n3");
  QueryResult result;
  result.series.push_back({{{"instance", "10.0.0.5:9701"}, {"grpc_address", "10.0.0.5:9700"}, {"node", "n5"}}, {}});
  result.series.push_back({{{"instance", "10.0.0.6:9701"}}, {}});
  const auto parsed = agent_infos_of(result);
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].grpc_address, "10.0.0.5:9700");
}

TEST(PrometheusTargetsTest, NoAgentInTheJobIsNotFoundNamingTheJob) {
  auto targets = parse_targets_response(kTargetsJson, "http://prom:9090");
  ASSERT_TRUE(targets.ok());
  InventoryDiscovery settings = targets_discovery();
  settings.job = "kafka-agents";
  auto found = agents_from_targets(*targets, {}, settings);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), StatusCode::kNotFound);
  EXPECT_NE(found.status().message().find("no active target in job kafka-agents"), std::string::npos);
}

TEST(PrometheusTargetsTest, RefusesMalformedErrorAndOversizedAnswersNamingTheUrl) {
  auto bad = parse_targets_response("<html>", "http://prom:9090");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("targets of http://prom:9090"), std::string::npos);
  auto failed = parse_targets_response(R"({"status":"error","errorType":"bad_data","error":"nope"})", "http://p");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("bad_data nope"), std::string::npos);
  std::string many = R"({"status":"success","data":{"activeTargets":[)";
  for (std::size_t i = 0; i <= kMaxDiscoveredTargets; ++i) many += std::string(i == 0 ? "" : ",") + "{}";
  many += "]}}";
  auto too_many = parse_targets_response(many, "http://p");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kResourceExhausted);
}

TEST(PrometheusTargetsTest, StaticAgentsWinAndDiscoveredOnesGetTheInventorysSecurity) {
  AgentSecurity security;
  security.tls.ca = "ca.crt";
  std::vector<AgentEndpoint> statics = {{"10.0.0.1:9700", "static-n1", {}}};
  std::vector<AgentEndpoint> discovered = {{"10.0.0.1:9700", "n1", {}}, {"10.0.0.2:9700", "n2", {}}};
  const auto merged = merge_discovered_agents(statics, discovered, security);
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].node, "static-n1");
  EXPECT_EQ(merged[1].security.tls.ca, "ca.crt");
  EXPECT_EQ(merged[1].security.server_name, "n2");
}

// Issue 17 item 6: two spellings of one endpoint are one agent.
ScrapeTarget targets_labelled(const std::string& instance, const std::string& address) {
  return {"chaos-agents", "up", "", {{"job", "chaos-agents"}, {"instance", instance}, {"chaos_agent_address", address}}};
}

TEST(PrometheusTargetsTest, SpellingsOfOneAddressAreOneAgent) {
  const std::vector<ScrapeTarget> targets = {
      targets_labelled("a:1", "[::1]:7000"),          targets_labelled("b:1", "[0:0::1]:7000"),
      targets_labelled("c:1", "10.0.0.1:7000"),       targets_labelled("d:1", "10.0.0.1:07000"),
      targets_labelled("e:1", "Agent-1.Example.com:7000"), targets_labelled("f:1", "agent-1.example.com.:7000")};
  auto found = agents_from_targets(targets, {}, targets_discovery());
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->agents.size(), 3u);
  EXPECT_EQ(found->agents[0].address, "[::1]:7000");  // dialled as the first target spelled it
  EXPECT_EQ(found->agents[1].address, "10.0.0.1:7000");
  EXPECT_EQ(found->agents[2].address, "Agent-1.Example.com:7000");
  ASSERT_EQ(found->warnings.size(), 3u);
  EXPECT_EQ(found->warnings[0],
            "target b:1 skipped: agent [0:0::1]:7000 is listed by another target already (as [::1]:7000)");
  EXPECT_NE(found->warnings[1].find("target d:1 skipped: agent 10.0.0.1:07000"), std::string::npos);
  EXPECT_NE(found->warnings[2].find("target f:1 skipped: agent agent-1.example.com.:7000"), std::string::npos);
}

TEST(PrometheusTargetsTest, AnUnparseableAddressIsSkippedNamingTheTarget) {
  const std::vector<ScrapeTarget> targets = {targets_labelled("a:1", "bad host/x:7000"),
                                             targets_labelled("b:1", "10.0.0.2:7000")};
  auto found = agents_from_targets(targets, {}, targets_discovery());
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->agents.size(), 1u);
  ASSERT_EQ(found->warnings.size(), 1u);
  EXPECT_EQ(found->warnings[0], "target a:1 skipped: address: host 'bad host/x' of 'bad host/x:7000' is neither "
                                "an IP address nor a host name");
}

TEST(PrometheusTargetsTest, AnUnbracketedIpv6AddressIsSkippedNamingTheBracketedSpelling) {
  const std::vector<ScrapeTarget> targets = {targets_labelled("a:1", "fd00::7:9701"),
                                             targets_labelled("b:1", "10.0.0.2:7000")};
  auto found = agents_from_targets(targets, {}, targets_discovery());
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->agents.size(), 1u);
  ASSERT_EQ(found->warnings.size(), 1u);
  EXPECT_EQ(found->warnings[0], "target a:1 skipped: address: IPv6 address in 'fd00::7:9701' must be in brackets, "
                                "as [fd00::7]:9701 (without them the last ':' can be read as part of it)");
}

TEST(PrometheusTargetsTest, AStaticAgentWinsOverAnotherSpellingOfItsAddress) {
  std::vector<AgentEndpoint> statics = {{"[::1]:7000", "static-v6", {}}, {"Agent-1.example.com:7000", "static-n", {}}};
  std::vector<AgentEndpoint> discovered = {{"[0:0::1]:7000", "n1", {}}, {"agent-1.example.com.:07000", "n2", {}},
                                           {"10.0.0.3:7000", "n3", {}}};
  const auto merged = merge_discovered_agents(statics, discovered, AgentSecurity{});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[2].node, "n3");
}

TEST(PrometheusTargetsTest, InventoryDiscoveryTableIsReadAndResolvedThroughTheInstalledDiscoverer) {
  test_support::TempDir dir;
  const std::string path =
      dir.write("inventory.toml",
                "[discovery]\nprometheus = \"http://prom:9090\"\njob = \"chaos-agents\"\naddress_from = \"metric\"\n"
                "[[agents]]\naddress = \"127.0.0.1:9700\"\n");
  auto inventory = read_inventory(path);
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  ASSERT_TRUE(inventory->discovery.has_value());
  EXPECT_TRUE(inventory->discovery->address_from_metric);
  EXPECT_EQ(inventory->discovery->job, "chaos-agents");
  set_inventory_discoverer([](const Inventory& read) -> StatusOr<std::vector<AgentEndpoint>> {
    return merge_discovered_agents(read.agents, {{"10.0.0.2:9700", "n2", {}}}, read.security);
  });
  auto agents = load_inventory(path);
  set_inventory_discoverer(nullptr);
  ASSERT_TRUE(agents.ok()) << agents.status().message();
  ASSERT_EQ(agents->size(), 2u);
  EXPECT_EQ((*agents)[1].address, "10.0.0.2:9700");

  auto refused = load_inventory(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("inventory.toml:1:1: discovery:"), std::string::npos)
      << refused.status().message();
  auto bad = read_inventory(dir.write("bad.toml", "[discovery]\nprometheus = \"prom:9090\"\njob = \"j\"\n"
                                                  "address_from = \"dns\"\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.toml:2:14: discovery.prometheus:"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("bad.toml:4:16: discovery.address_from: 'dns' is not one of label, metric"),
            std::string::npos)
      << bad.status().message();
}

TEST(PrometheusTargetsTest, DiscoveryReachesAnHttpsPrometheusWithTheExperimentsTlsAndCredentialKeys) {
  test_support::TempDir dir;
  dir.write("ca.crt", "not parsed at load time\n");
  dir.write("token", "s3cret\n");
  auto inventory = read_inventory(dir.write(
      "inventory.toml",
      "[discovery]\nprometheus = \"https://prom:9090\"\njob = \"chaos-agents\"\nca_file = \"ca.crt\"\n"
      "bearer_token_file = \"token\"\n"));
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  ASSERT_TRUE(inventory->discovery.has_value());
  EXPECT_EQ(inventory->discovery->endpoint.url, "https://prom:9090");
  EXPECT_EQ(inventory->discovery->endpoint.ca_file, dir.path() + "/ca.crt");
  EXPECT_EQ(inventory->discovery->endpoint.bearer_token, "s3cret");

  auto twice = read_inventory(dir.write("twice.toml", "[discovery]\nprometheus = \"https://prom:9090\"\n"
                                                      "url = \"https://other:9090\"\njob = \"j\"\n"));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("twice.toml:3:"), std::string::npos) << twice.status().message();
  auto lonely_user = read_inventory(dir.write("user.toml", "[discovery]\nprometheus = \"https://prom:9090\"\n"
                                                           "job = \"j\"\nbasic_auth_user = \"chaos\"\n"));
  EXPECT_FALSE(lonely_user.ok());
}

}  // namespace
}  // namespace chaos::orchestrator
