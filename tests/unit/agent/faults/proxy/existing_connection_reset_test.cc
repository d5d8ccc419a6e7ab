#include "agent/faults/proxy/existing_connection_reset.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "tests/support/fake_command_runner.h"

namespace chaos::agent::proxy {
namespace {

std::string reset_line(const TcpScopeSpec& scope) {
  std::string line;
  for (const auto& word : existing_connection_reset_argv(scope)) line += (line.empty() ? "" : " ") + word;
  return line;
}

TEST(ExistingConnectionReset, LocalClientsAreMatchedByTheirRemoteEnd) {
  TcpScopeSpec scope;
  scope.port = 4222;
  scope.remote = false;
  EXPECT_EQ(reset_line(scope), "ss -K -H -t -n state established dport = :4222");
  scope.address = "10.0.0.3";
  EXPECT_EQ(reset_line(scope), "ss -K -H -t -n state established dport = :4222 and dst 10.0.0.3");
}

TEST(ExistingConnectionReset, RemoteClientsAreMatchedByTheServersEnd) {
  TcpScopeSpec scope;
  scope.port = 80;
  scope.local = false;
  scope.address = "10.0.0.3";
  EXPECT_EQ(reset_line(scope), "ss -K -H -t -n state established sport = :80 and src 10.0.0.3");
  scope.local = true;
  EXPECT_EQ(reset_line(scope),
            "ss -K -H -t -n state established ( dport = :80 and dst 10.0.0.3 ) or ( sport = :80 and src 10.0.0.3 )");
}

TEST(ExistingConnectionReset, AnIpv6AddressIsBracketedForSs) {
  TcpScopeSpec scope;
  scope.port = 4222;
  scope.remote = false;
  scope.address = "fd00::3";
  scope.family = AF_INET6;
  // ss would read "fd00::3" as host "fd00:" and port 3.
  EXPECT_EQ(reset_line(scope), "ss -K -H -t -n state established dport = :4222 and dst [fd00::3]");
}

TEST(ExistingConnectionReset, CountsTheSocketsSsDestroyed) {
  testing::FakeCommandRunner commands;
  commands.on("ss -K", [](const std::vector<std::string>&) -> StatusOr<CommandResult> {
    return CommandResult{0, "0 0 10.0.0.2:41000 10.0.0.3:4222\n0 0 10.0.0.2:41002 10.0.0.3:4222\n", ""};
  });
  TcpScopeSpec scope;
  scope.port = 4222;
  auto reset = reset_existing_connections(commands, scope);
  ASSERT_TRUE(reset.ok()) << reset.status().message();
  EXPECT_EQ(*reset, 2u);
}

TEST(ExistingConnectionReset, AFailingSsIsAnErrorNamingThePort) {
  testing::FakeCommandRunner commands;
  commands.fail_on("ss -K", "ss: not found");
  TcpScopeSpec scope;
  scope.port = 4222;
  auto reset = reset_existing_connections(commands, scope);
  ASSERT_FALSE(reset.ok());
  EXPECT_NE(reset.status().message().find("port 4222"), std::string::npos) << reset.status().message();
}

}  // namespace
}  // namespace chaos::agent::proxy
