// tcp.* through a real agent in namespace A: a TCP echo server in B, clients
// in A. Connections opened before the fault keep their direct path; new ones
// go through the proxy (tcp.latency: the round trip takes at least the
// delay; tcp.reset_peer: the client sees ECONNRESET); after revert new
// connections are direct again and A's ruleset is as before.
#include "tests/integration/agent/tcp_echo_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace tcp_bed;

TEST_F(AgentTcpProxyTest, LatencySlowsNewConnectionsOnlyAndRevertRestoresDirectPaths) {
  auto baseline = bed_->snapshot();
  ASSERT_TRUE(baseline.ok()) << baseline.status().message();
  UniqueFd before;
  in_namespace(bed_->a(), [&] { before = connect_to_b(); });
  ASSERT_TRUE(before.valid());
  ASSERT_EQ(round_trip(before.get()), "ping");

  v1::FaultSpec spec;
  *spec.mutable_tcp_latency()->mutable_scope() = echo_scope();
  spec.mutable_tcp_latency()->mutable_delay()->set_nanos(200'000'000);
  v1::InjectResponse injected;
  const auto status = agent_->inject(inject_request(spec, "cag-tcp"), &injected);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
  EXPECT_EQ(injected.fault().backend(), "tcp-proxy");
  EXPECT_TRUE(proxy_table_listed(*bed_));

  // The connection opened before the fault is not proxied.
  EXPECT_EQ(round_trip(before.get()), "ping");
  UniqueFd during;
  in_namespace(bed_->a(), [&] { during = connect_to_b(); });
  ASSERT_TRUE(during.valid());
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(round_trip(during.get()), "ping");
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 200ms) << "the new connection goes through the proxy";
  // The listed counters are refreshed about every second.
  std::uint64_t proxied = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       proxied == 0 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    v1::ListResponse listed;
    ASSERT_TRUE(agent_->list(&listed).ok());
    ASSERT_EQ(listed.faults_size(), 1);
    const auto& counters = listed.faults(0).counters();
    if (counters.count("connections_proxied") != 0) proxied = counters.at("connections_proxied");
  }
  EXPECT_EQ(proxied, 1u) << "only the new connection";

  ASSERT_TRUE(agent_->revert(injected.fault().id()).ok());
  EXPECT_FALSE(proxy_table_listed(*bed_));
  // Revert closes what the proxy carried; the direct connection lives on.
  EXPECT_EQ(round_trip(during.get()), "");
  EXPECT_EQ(round_trip(before.get()), "ping");
  UniqueFd after;
  in_namespace(bed_->a(), [&] { after = connect_to_b(); });
  ASSERT_TRUE(after.valid());
  EXPECT_EQ(round_trip(after.get()), "ping");
  EXPECT_EQ(bed_->diff_from(*baseline), "");
}

TEST_F(AgentTcpProxyTest, ResetPeerResetsNewConnections) {
  v1::FaultSpec spec;
  *spec.mutable_tcp_reset_peer()->mutable_scope() = echo_scope();
  spec.mutable_tcp_reset_peer()->set_after_bytes(1);
  v1::InjectResponse injected;
  const auto status = agent_->inject(inject_request(spec, "cag-tcp"), &injected);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
  UniqueFd client;
  in_namespace(bed_->a(), [&] { client = connect_to_b(); });
  ASSERT_TRUE(client.valid());
  int error = 0;
  EXPECT_EQ(round_trip(client.get(), &error), "");
  EXPECT_EQ(error, ECONNRESET);
  ASSERT_TRUE(agent_->revert(injected.fault().id()).ok());
  EXPECT_FALSE(proxy_table_listed(*bed_));
}

}  // namespace
}  // namespace chaos::agent::integration
