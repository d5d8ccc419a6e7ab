// The proxy faults over IPv6, inside the test bed's namespaces only: ULA
// addresses on the A-B veth pair (nodad: usable at once), an IPv6 echo
// server and python3's http.server in B, clients and the agent in A. A
// tcp.* fault on an IPv6 destination slows new IPv6 connections (and not
// IPv4 ones, nor the connection opened before it); an http.* fault without
// an address covers IPv6 clients too; revert restores the direct path and
// A's ruleset.
#include <filesystem>
#include <fstream>

#include "tests/integration/agent/server_in_namespace.h"
#include "tests/integration/agent/tcp_echo_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace tcp_bed;

constexpr const char* kIpv6AddressA = "fd00:c4a0::1";
constexpr const char* kIpv6AddressB = "fd00:c4a0::2";
constexpr int kIpv6HttpPort = 8080;

UniqueFd ipv6_connect_to_b(int port) {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET6, kIpv6AddressB, &address.sin6_addr);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fd.reset();
  return fd;
}

// A connection from A to B over IPv6 (on the calling thread: none).
UniqueFd ipv6_client(AgentTestBed& bed, int port) {
  UniqueFd fd;
  in_namespace(bed.a(), [&] { fd = ipv6_connect_to_b(port); });
  return fd;
}

// How long one echo round trip on `fd` takes; nullopt when it fails.
std::optional<std::chrono::steady_clock::duration> timed_round_trip(int fd) {
  const auto sent = std::chrono::steady_clock::now();
  if (round_trip(fd) != "ping") return std::nullopt;
  return std::chrono::steady_clock::now() - sent;
}

// The fastest of three round trips on `fd`, for "not held by the proxy":
// one stalled thread on a loaded machine must not look like a delay.
// nullopt when one fails.
std::optional<std::chrono::steady_clock::duration> fastest_round_trip(int fd) {
  std::optional<std::chrono::steady_clock::duration> fastest;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto took = timed_round_trip(fd);
    if (!took) return std::nullopt;
    if (!fastest || *took < *fastest) fastest = took;
  }
  return fastest;
}

class AgentProxyIpv6Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("cag-v6-" + std::to_string(::getpid()));
    bed_ = std::make_unique<AgentTestBed>();
    ASSERT_EQ(bed_->error(), "");
    auto& network = bed_->network();
    const std::string link_b = "cntba" + network.link_a_to_b().substr(5);
    ProcessCommandRunner commands;
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"ip", "-n", network.a(), "addr", "add", std::string(kIpv6AddressA) + "/64", "dev",
              network.link_a_to_b(), "nodad"},
             {"ip", "-n", network.b(), "addr", "add", std::string(kIpv6AddressB) + "/64", "dev", link_b, "nodad"}}) {
      auto added = commands.run_checked(argv);
      ASSERT_TRUE(added.ok()) << added.status().message();
    }
    echo6_ = std::make_unique<TcpEchoServer>(network.b(), AF_INET6);
    echo4_ = std::make_unique<TcpEchoServer>(network.b(), AF_INET);
    ASSERT_TRUE(eventually([&] { return ipv6_client(*bed_, kTcpEchoPort).valid(); }, 10s, 50ms))
        << "no IPv6 path from A to B";
    agent_ = std::make_unique<NamespacedAgent>(bed_->a(), (*dir_ / "state").string(), (*dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->start()) << agent_->log();
    auto baseline = bed_->snapshot();
    ASSERT_TRUE(baseline.ok()) << baseline.status().message();
    baseline_ = std::make_unique<chaos::testing::NodeStateSnapshot>(std::move(*baseline));
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    agent_.reset();
    echo6_.reset();
    echo4_.reset();
    bed_.reset();
    dir_.reset();
  }

  std::string inject(const v1::FaultSpec& spec) {
    v1::InjectResponse injected;
    const auto status = agent_->inject(inject_request(spec, "cag-v6"), &injected);
    EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
    EXPECT_EQ(injected.fault().backend(), "tcp-proxy");
    return injected.fault().id();
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<AgentTestBed> bed_;
  std::unique_ptr<TcpEchoServer> echo6_;
  std::unique_ptr<TcpEchoServer> echo4_;
  std::unique_ptr<NamespacedAgent> agent_;
  std::unique_ptr<chaos::testing::NodeStateSnapshot> baseline_;
};

TEST_F(AgentProxyIpv6Test, LatencyOnAnIpv6DestinationSlowsNewIpv6ConnectionsOnly) {
  constexpr auto kDelay = 300ms;
  UniqueFd before = ipv6_client(*bed_, kTcpEchoPort);
  ASSERT_TRUE(before.valid());
  ASSERT_EQ(round_trip(before.get()), "ping");

  v1::FaultSpec spec;
  auto& scope = *spec.mutable_tcp_latency()->mutable_scope();
  scope.set_port(kTcpEchoPort);
  scope.set_address(std::string("[") + kIpv6AddressB + "]");  // brackets are accepted, and dropped
  scope.set_origin(v1::TcpScope::ORIGIN_LOCAL);
  spec.mutable_tcp_latency()->mutable_delay()->set_nanos(static_cast<std::int32_t>(kDelay / 1ns));
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  const std::string ruleset = bed_->network().run_in_a({"nft", "list", "ruleset"}).stdout_text;
  EXPECT_NE(ruleset.find(std::string("ip6 daddr ") + kIpv6AddressB + " tcp dport 7500"), std::string::npos)
      << ruleset;

  const auto untouched = fastest_round_trip(before.get());
  ASSERT_TRUE(untouched.has_value());
  EXPECT_LT(*untouched, kDelay) << "the connection opened before the fault keeps its direct path";
  UniqueFd during = ipv6_client(*bed_, kTcpEchoPort);
  ASSERT_TRUE(during.valid());
  const auto slowed = timed_round_trip(during.get());
  ASSERT_TRUE(slowed.has_value()) << "the proxy reached the IPv6 original destination";
  EXPECT_GE(*slowed, kDelay) << "a new IPv6 connection goes through the proxy";
  UniqueFd ipv4;
  in_namespace(bed_->a(), [&] { ipv4 = connect_to_b(); });
  ASSERT_TRUE(ipv4.valid());
  const auto direct4 = fastest_round_trip(ipv4.get());
  ASSERT_TRUE(direct4.has_value());
  EXPECT_LT(*direct4, kDelay) << "the scope names an IPv6 address: IPv4 connections stay direct";

  v1::ListResponse listed;
  ASSERT_TRUE(agent_->list(&listed).ok());
  ASSERT_EQ(listed.faults_size(), 1);
  EXPECT_NE(listed.faults(0).detail().find(kIpv6AddressB), std::string::npos) << listed.faults(0).detail();

  ASSERT_TRUE(agent_->revert(id).ok());
  EXPECT_FALSE(proxy_table_listed(*bed_));
  EXPECT_EQ(round_trip(during.get()), "") << "revert closes what the proxy carried";
  EXPECT_EQ(round_trip(before.get()), "ping");
  UniqueFd after = ipv6_client(*bed_, kTcpEchoPort);
  ASSERT_TRUE(after.valid());
  const auto direct = fastest_round_trip(after.get());
  ASSERT_TRUE(direct.has_value());
  EXPECT_LT(*direct, kDelay) << "direct again";
  EXPECT_EQ(bed_->diff_from(*baseline_), "");
}

// One GET with Connection: close over IPv6; the status, 0 on failure.
int ipv6_http_status(AgentTestBed& bed, const std::string& path) {
  UniqueFd fd = ipv6_client(bed, kIpv6HttpPort);
  if (!fd.valid()) return 0;
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: [" + kIpv6AddressB + "]\r\nConnection: close\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return 0;
  std::string text;
  char buffer[4096];
  for (ssize_t count; (count = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(count));
  }
  return text.rfind("HTTP/1.", 0) == 0 && text.size() >= 12 ? std::atoi(text.substr(9, 3).c_str()) : 0;
}

TEST_F(AgentProxyIpv6Test, HttpAbortWithoutAnAddressAnswersIpv6Clients) {
  const auto site = *dir_ / "site";
  std::filesystem::create_directories(site);
  std::ofstream(site / "ok.txt") << "fine";
  ServerInNamespace server(bed_->network().b(),
                           {"/usr/bin/python3", "-m", "http.server", "--bind", kIpv6AddressB, "--directory",
                            site.string(), std::to_string(kIpv6HttpPort)},
                           [&] { return ipv6_client(*bed_, kIpv6HttpPort).valid(); });
  ASSERT_TRUE(server.ready()) << "python3 -m http.server did not listen on IPv6 in B";
  ASSERT_EQ(ipv6_http_status(*bed_, "/ok.txt"), 200);

  v1::FaultSpec spec;
  spec.mutable_http_abort()->mutable_scope()->set_port(kIpv6HttpPort);
  spec.mutable_http_abort()->mutable_scope()->set_origin(v1::TcpScope::ORIGIN_LOCAL);
  spec.mutable_http_abort()->mutable_match()->set_path("/ok.txt");
  spec.mutable_http_abort()->set_status(503);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  const std::string ruleset = bed_->network().run_in_a({"nft", "list", "ruleset"}).stdout_text;
  EXPECT_NE(ruleset.find("meta nfproto ipv6 tcp dport 8080"), std::string::npos) << ruleset;
  EXPECT_EQ(ipv6_http_status(*bed_, "/ok.txt"), 503);

  ASSERT_TRUE(agent_->revert(id).ok());
  EXPECT_FALSE(proxy_table_listed(*bed_));
  EXPECT_EQ(ipv6_http_status(*bed_, "/ok.txt"), 200) << "direct again";
  EXPECT_EQ(bed_->diff_from(*baseline_), "");
}

}  // namespace
}  // namespace chaos::agent::integration
