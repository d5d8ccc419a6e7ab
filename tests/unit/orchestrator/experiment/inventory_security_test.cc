// Inventory [tls] / token_file / insecure / server_name, and chaosctl's
// plaintext rule (mirror of the agent's): plaintext only to loopback unless
// the inventory says insecure = true.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "orchestrator/clients/agent_client.h"
#include "orchestrator/experiment/inventory.h"

namespace chaos::orchestrator {
namespace {

namespace fs = std::filesystem;

class InventorySecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("inventory-security-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "certs");
    for (const char* name : {"ca.crt", "client.crt", "client.key"}) std::ofstream(dir_ / "certs" / name) << "pem";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& text) {
    const std::string path = (dir_ / "inventory.toml").string();
    std::ofstream(path) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(InventorySecurityTest, TlsPathsAreRelativeToTheInventoryAndServerNameDefaultsToNode) {
  auto agents = load_inventory(write("[tls]\nca = \"certs/ca.crt\"\ncert = \"certs/client.crt\"\n"
                                     "key = \"certs/client.key\"\n"
                                     "[[agents]]\naddress = \"10.0.0.1:9700\"\nnode = \"n1\"\n"
                                     "[[agents]]\naddress = \"10.0.0.2:9700\"\nnode = \"n2\"\nserver_name = \"n2.lab\"\n"));
  ASSERT_TRUE(agents.ok()) << agents.status().message();
  ASSERT_EQ(agents->size(), 2u);
  EXPECT_EQ((*agents)[0].security.tls.ca, (dir_ / "certs/ca.crt").string());
  EXPECT_EQ((*agents)[0].security.tls.key, (dir_ / "certs/client.key").string());
  EXPECT_EQ((*agents)[0].security.server_name, "n1");
  EXPECT_EQ((*agents)[1].security.server_name, "n2.lab");
  EXPECT_FALSE((*agents)[1].security.insecure);
  auto found = find_agent(*agents, "n2");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->address, "10.0.0.2:9700");
  EXPECT_FALSE(find_agent(*agents, "n9").ok());
}

TEST_F(InventorySecurityTest, BadSecuritySettingsPointAtTheLine) {
  auto agents = load_inventory(write("[tls]\nca = \"certs/ca.crt\"\ncert = \"certs/missing.crt\"\n"
                                     "[[agents]]\naddress = \"10.0.0.1:9700\"\n"));
  ASSERT_FALSE(agents.ok());
  const std::string message = agents.status().message();
  EXPECT_NE(message.find("inventory.toml:3:8: tls.cert: cannot read"), std::string::npos) << message;
  EXPECT_NE(message.find("tls: missing required key 'key'"), std::string::npos) << message;
  agents = load_inventory(write("insecure = \"yes\"\n[[agents]]\naddress = \"10.0.0.1:9700\"\n"));
  ASSERT_FALSE(agents.ok());
  EXPECT_NE(agents.status().message().find("inventory.toml:1:12: insecure: expected true or false"),
            std::string::npos)
      << agents.status().message();
  agents = load_inventory(write("insecure = true\n[tls]\nca = \"certs/ca.crt\"\ncert = \"certs/client.crt\"\n"
                                "key = \"certs/client.key\"\n[[agents]]\naddress = \"10.0.0.1:9700\"\n"));
  ASSERT_FALSE(agents.ok());
  EXPECT_NE(agents.status().message().find("contradicts [tls]"), std::string::npos);
}

TEST_F(InventorySecurityTest, PlaintextOnlyToLoopbackUnlessInsecure) {
  EXPECT_TRUE(open_agent_channel("127.0.0.1:9700", {}).ok());
  EXPECT_TRUE(open_agent_channel("localhost:9700", {}).ok());
  auto refused = open_agent_channel("10.77.0.11:9700", {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("10.77.0.11:9700"), std::string::npos);
  EXPECT_FALSE(open_agent_channel("0.0.0.0:9700", {}).ok());
  AgentSecurity insecure;
  insecure.insecure = true;
  EXPECT_TRUE(open_agent_channel("10.77.0.11:9700", insecure).ok());
}

TEST_F(InventorySecurityTest, RefusedConnectionFailsEveryCallWithTheReason) {
  GrpcAgentClientFactory factory(std::chrono::milliseconds(100));
  auto client = factory.connect("10.77.0.11:9700");
  auto answer = client->capabilities();
  ASSERT_FALSE(answer.ok());
  EXPECT_NE(answer.status().message().find("refusing plaintext"), std::string::npos) << answer.status().message();
}

TEST_F(InventorySecurityTest, TokenFileIsReadForEveryChannel) {
  std::ofstream(dir_ / "token") << "abc-token\n";
  AgentSecurity security;
  security.token_file = (dir_ / "token").string();
  auto opened = open_agent_channel("127.0.0.1:9700", security);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->bearer_token, "abc-token");
  security.token_file = (dir_ / "missing").string();
  EXPECT_FALSE(open_agent_channel("127.0.0.1:9700", security).ok());
}

TEST(CheckAgentAddress, NeedsHostAndARealPort) {
  EXPECT_EQ(check_agent_address("10.77.0.11:9700"), "");
  EXPECT_EQ(check_agent_address("[::1]:9700"), "");
  EXPECT_EQ(check_agent_address("nohostport"), "address 'nohostport' is not HOST:PORT");
  EXPECT_EQ(check_agent_address(":9700"), "address ':9700' is not HOST:PORT");
  EXPECT_EQ(check_agent_address("n1:"), "address 'n1:' has no valid port (1-65535)");
  EXPECT_EQ(check_agent_address("n1:0"), "address 'n1:0' has no valid port (1-65535)");
  EXPECT_EQ(check_agent_address("n1:65536"), "address 'n1:65536' has no valid port (1-65535)");
}

}  // namespace
}  // namespace chaos::orchestrator
