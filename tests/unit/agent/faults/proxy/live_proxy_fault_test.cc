// LiveProxyFault's verify steps against the agent's own /proc/net/tcp and
// tcp6 (no root: a fake runner answers for nft, the proxy listens on
// loopback): gone means no listener of either family is left.
#include "agent/faults/proxy/live_proxy_fault.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "agent/faults/proxy/tcp_fault_filter.h"
#include "common/unique_fd.h"
#include "tests/support/fake_command_runner.h"

namespace chaos::agent::proxy {
namespace {

class LiveTestFactory final : public StreamFilterFactory {
 public:
  std::unique_ptr<StreamFilter> make(const ConnectionInfo&) override { return std::make_unique<PassThroughFilter>(); }
};

// An IPv6-only listener on [::1]:port, or an invalid fd when the port or
// IPv6 is not available here.
UniqueFd live_test_listen6(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(port);
  address.sin6_addr = in6addr_loopback;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd.get(), 1) != 0) {
    return UniqueFd();
  }
  return fd;
}

TEST(LiveProxyFault, VerifyGoneSeesALeftoverIpv6Listener) {
  ProxyEngineOptions options;
  options.factory = std::make_shared<LiveTestFactory>();
  options.ipv6 = false;
  auto engine = ProxyEngine::start(std::move(options));
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  const std::uint16_t port = (*engine)->port();
  (*engine)->stop();  // the IPv4 listener is gone
  UniqueFd leftover = live_test_listen6(port);
  if (!leftover.valid()) GTEST_SKIP() << "no IPv6 loopback here";

  testing::FakeCommandRunner commands;  // `nft list tables`: empty
  LiveProxyFaultSetup setup;
  setup.rules.table = "chaos_tcp_test";
  setup.rules.proxy_port = port;
  setup.rules.port = 4222;
  setup.rules.ipv6 = true;
  setup.report = [] { return ProxyFaultReport{}; };
  LiveProxyFault fault(commands, std::move(setup), std::move(*engine), std::make_shared<std::atomic<bool>>(true));
  auto gone = fault.verify_gone();
  ASSERT_FALSE(gone.ok()) << "an IPv6 listener is left: " << *gone;
  EXPECT_EQ(gone.status().message(),
            "a socket still listens on the proxy's port " + std::to_string(port) + " (/proc/net/tcp6)");
  leftover.reset();
  EXPECT_TRUE(fault.verify_gone().ok());
}

}  // namespace
}  // namespace chaos::agent::proxy
