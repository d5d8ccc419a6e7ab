// mTLS, bearer token, audit log and the plaintext rule against the real
// chaos-agent binary on 127.0.0.1, with certificates from real openssl.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/integration/security/security_fixture.h"
#include "lab/testbed/safe_kill.h"

namespace chaos::security_testing {
namespace {

using namespace std::chrono_literals;

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fresh_dir("pki"));
    certificates_ = new Certificates(*root_);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*root_);
    delete certificates_;
    delete root_;
  }
  void SetUp() override {
    ASSERT_TRUE(certificates_->status().ok()) << certificates_->status().message();
    dir_ = fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    agent_.reset();
    fs::remove_all(dir_);
  }

  AgentProcess& start_agent(std::vector<std::string> extra) {
    agent_ = std::make_unique<AgentProcess>((dir_ / "state").string(), (dir_ / "agent.log").string(), extra);
    EXPECT_TRUE(agent_->start()) << agent_->log();
    return *agent_;
  }

  // An agent with mTLS that also wants kToken from every caller.
  // Returns the token file.
  std::string start_agent_with_token() {
    const std::string token_file = (dir_ / "token").string();
    std::ofstream(token_file) << kToken << "\n";
    fs::permissions(token_file, fs::perms::owner_read | fs::perms::owner_write);
    auto flags = certificates_->agent_flags();
    flags.insert(flags.end(), {"--token-file", token_file});
    start_agent(flags);
    return token_file;
  }

  // A raw gRPC channel with the given client credentials (no chaosctl code).
  grpc::Status raw_capabilities(const grpc::SslCredentialsOptions& options, const std::string& server_name) {
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride(server_name);
    auto channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(agent_->grpc_port()),
                                             grpc::SslCredentials(options), arguments);
    auto stub = v1::Agent::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    v1::CapabilitiesResponse response;
    return stub->Capabilities(&context, v1::CapabilitiesRequest{}, &response);
  }

  static std::string file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static fs::path* root_;
  static Certificates* certificates_;
  fs::path dir_;
  std::unique_ptr<AgentProcess> agent_;
};

fs::path* SecurityTest::root_ = nullptr;
Certificates* SecurityTest::certificates_ = nullptr;

TEST_F(SecurityTest, ClientWithoutCertificateIsRefused) {
  start_agent(certificates_->agent_flags());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = file(certificates_->trusted("ca.crt"));
  const grpc::Status status = raw_capabilities(options, kAgentName);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(SecurityTest, ClientCertificateFromAnotherCaIsRefused) {
  start_agent(certificates_->agent_flags());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = file(certificates_->trusted("ca.crt"));
  options.pem_cert_chain = file(certificates_->other("mallory.crt"));
  options.pem_private_key = file(certificates_->other("mallory.key"));
  EXPECT_EQ(raw_capabilities(options, kAgentName).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(SecurityTest, PlaintextClientToATlsAgentIsRefused) {
  start_agent(certificates_->agent_flags());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  v1::CapabilitiesResponse response;
  EXPECT_FALSE(agent_->stub().Capabilities(&context, v1::CapabilitiesRequest{}, &response).ok());
}

TEST_F(SecurityTest, ValidClientWorksAndSeesTheAgentsName) {
  start_agent(certificates_->agent_flags());
  auto client = chaosctl_client(*agent_, certificates_->chaosctl_security());
  auto capabilities = client->capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().message() << "\n" << agent_->log();
  EXPECT_EQ(capabilities->node_name(), "cag-node");
  EXPECT_GT(capabilities->fault_kinds_size(), 0);  // root: every kind offered
  auto reverted = client->revert_all("");
  ASSERT_TRUE(reverted.ok()) << reverted.status().message();
  EXPECT_NE(agent_->log().find("mTLS on"), std::string::npos);
}

TEST_F(SecurityTest, ChaosctlRefusesAnAgentWhoseCertificateNamesAnotherAgent) {
  start_agent(certificates_->agent_flags());
  auto security = certificates_->chaosctl_security();
  security.server_name = "agent-b";
  auto client = chaosctl_client(*agent_, security);
  auto capabilities = client->capabilities();
  ASSERT_FALSE(capabilities.ok());
  EXPECT_EQ(capabilities.status().code(), StatusCode::kUnavailable) << capabilities.status().message();
}

TEST_F(SecurityTest, MissingOrWrongTokenIsRefusedAndTheAuditLogNamesTheCaller) {
  const std::string token_file = start_agent_with_token();
  auto security = certificates_->chaosctl_security();

  auto no_token = chaosctl_client(*agent_, security)->revert_all("");
  ASSERT_FALSE(no_token.ok());
  EXPECT_NE(no_token.status().message().find("missing bearer token"), std::string::npos) << no_token.status().message();
  const std::string wrong_file = (dir_ / "wrong").string();
  std::ofstream(wrong_file) << "not-the-token-0123456789\n";
  security.token_file = wrong_file;
  EXPECT_FALSE(chaosctl_client(*agent_, security)->revert_all("").ok());
  security.token_file = token_file;
  auto accepted = chaosctl_client(*agent_, security)->revert_all("");
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();

  const auto lines = read_lines((dir_ / "state/audit.log").string());
  ASSERT_EQ(lines.size(), 3u) << file((dir_ / "state/audit.log").string());
  const auto refused = nlohmann::json::parse(lines[0]);
  const auto ok = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(refused["rpc"], "RevertAll");
  EXPECT_EQ(refused["result"], "unauthenticated");
  EXPECT_NE(refused["caller"].get<std::string>().find("CN=chaosctl"), std::string::npos) << lines[0];
  EXPECT_EQ(nlohmann::json::parse(lines[1])["message"], "invalid bearer token");
  EXPECT_EQ(ok["result"], "ok");
  EXPECT_EQ(ok["caller"], refused["caller"]);
  EXPECT_EQ(ok["peer"].get<std::string>().rfind("ipv4:127.0.0.1:", 0), 0u) << lines[2];
  EXPECT_EQ(fs::status(dir_ / "state/audit.log").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  httplib::Client metrics("127.0.0.1", agent_->metrics_port());
  auto scraped = metrics.Get("/metrics");
  ASSERT_TRUE(scraped);
  EXPECT_NE(scraped->body.find("chaos_agent_audit_events_total{rpc=\"RevertAll\",result=\"unauthenticated\"} 2"),
            std::string::npos);
  EXPECT_NE(scraped->body.find("chaos_agent_audit_events_total{rpc=\"RevertAll\",result=\"ok\"} 1"),
            std::string::npos);
}

TEST_F(SecurityTest, PlaintextOnANonLoopbackAddressIsRefusedAtStartUp) {
  const std::string log = (dir_ / "refused.log").string();
  const pid_t pid = agent::integration::spawn(
      {AgentProcess::binary(), "--listen", "0.0.0.0:0", "--metrics-listen", "127.0.0.1:0", "--state-dir",
       (dir_ / "state").string()},
      log);
  int status = 0;
  ASSERT_TRUE(eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 20s)) << file(log);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(file(log).find("refusing to serve gRPC in plaintext on non-loopback address 0.0.0.0:0"),
            std::string::npos)
      << file(log);
}

TEST_F(SecurityTest, PlaintextOnANonLoopbackAddressStartsOnlyWithTheLoudFlag) {
  // Binds the wildcard on an ephemeral port for a moment; no packet is sent.
  const std::string log = (dir_ / "forced.log").string();
  const pid_t pid = agent::integration::spawn(
      {AgentProcess::binary(), "--listen", "0.0.0.0:0", "--metrics-listen", "127.0.0.1:0", "--state-dir",
       (dir_ / "state").string(), "--insecure-plaintext-on-non-loopback"},
      log);
  const bool serving = eventually([&] { return file(log).find("grpc listening on 0.0.0.0:") != std::string::npos; }, 20s);
  ::chaos::test_support::safe_kill(pid, SIGTERM);
  int status = 0;
  eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 20s);
  ASSERT_TRUE(serving) << file(log);
  EXPECT_NE(file(log).find("WARNING: INSECURE"), std::string::npos);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(SecurityTest, PartialTlsFlagsAreAConfigurationError) {
  const std::string log = (dir_ / "partial.log").string();
  const pid_t pid = agent::integration::spawn(
      {AgentProcess::binary(), "--listen", "127.0.0.1:0", "--state-dir", (dir_ / "state").string(), "--tls-cert",
       certificates_->trusted("agent-a.crt")},
      log);
  int status = 0;
  ASSERT_TRUE(eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 20s));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(file(log).find("missing: key (--tls-key) client CA (--tls-client-ca)"), std::string::npos) << file(log);
}

int run_to_end(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = agent::integration::spawn(argv, log);
  if (pid <= 0) return -1;
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 30s)) {
    ::chaos::test_support::safe_kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// chaosctl's exit code for an agent that refuses the caller is "refused"
// (6), not "unreachable" (5) nor the catch-all 3 (exit_codes.h).
TEST_F(SecurityTest, ChaosctlExitsRefusedWhenTheAgentRejectsItsToken) {
  const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
  const std::string chaosctl = std::string(build_dir ? build_dir : "build") + "/bin/chaosctl";
  const std::string token_file = start_agent_with_token();
  const std::string wrong_file = (dir_ / "wrong").string();
  std::ofstream(wrong_file) << "not-the-token-0123456789\n";
  const auto inventory = [&](const std::string& token) {
    const std::string path = (dir_ / "inventory.toml").string();
    std::ofstream(path) << "token_file = \"" << token << "\"\n[tls]\nca = \"" << certificates_->trusted("ca.crt")
                        << "\"\ncert = \"" << certificates_->trusted("chaosctl.crt") << "\"\nkey = \""
                        << certificates_->trusted("chaosctl.key") << "\"\n\n[[agents]]\naddress = \"127.0.0.1:"
                        << agent_->grpc_port() << "\"\nnode = \"" << kAgentName << "\"\n";
    return path;
  };
  const std::string log = (dir_ / "chaosctl.log").string();
  const std::string wrong = inventory(wrong_file);
  EXPECT_EQ(run_to_end({chaosctl, "faults", "--agent", kAgentName, "--inventory", wrong}, log), 6) << file(log);
  EXPECT_EQ(run_to_end({chaosctl, "agents", "--inventory", wrong}, log), 6) << file(log);
  EXPECT_EQ(run_to_end({chaosctl, "halt", "--inventory", wrong}, log), 6) << file(log);
  EXPECT_NE(file(log).find("refused by the agent"), std::string::npos) << file(log);
  const std::string right = inventory(token_file);
  EXPECT_EQ(run_to_end({chaosctl, "faults", "--agent", kAgentName, "--inventory", right}, log), 0) << file(log);
}

TEST_F(SecurityTest, CertsCommandIssuesCertificatesOpensslAccepts) {
  const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
  const std::string chaosctl = std::string(build_dir ? build_dir : "build") + "/bin/chaosctl";
  const std::string pki = (dir_ / "pki").string();
  const std::string log = (dir_ / "certs.log").string();
  ASSERT_EQ(run_to_end({chaosctl, "certs", "init", "--dir", pki}, log), 0) << file(log);
  ASSERT_EQ(run_to_end({chaosctl, "certs", "issue", "--dir", pki, "--agent", "n1", "--san", "10.77.0.11"}, log), 0)
      << file(log);
  ASSERT_EQ(run_to_end({chaosctl, "certs", "issue", "--dir", pki, "--client", "ops"}, log), 0) << file(log);
  EXPECT_NE(file(log).find("wrote " + pki + "/n1.key (private key, 0600)"), std::string::npos) << file(log);
  for (const char* key : {"ca.key", "n1.key", "ops.key"}) {
    EXPECT_EQ(fs::status(pki + "/" + key).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << key;
  }
  EXPECT_EQ(run_to_end({"/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.crt", "-purpose", "sslserver",
                        pki + "/n1.crt"},
                       log),
            0);
  EXPECT_EQ(run_to_end({"/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.crt", "-purpose", "sslclient",
                        pki + "/ops.crt"},
                       log),
            0);
  // A client certificate is no server certificate.
  EXPECT_NE(run_to_end({"/usr/bin/openssl", "verify", "-CAfile", pki + "/ca.crt", "-purpose", "sslserver",
                        pki + "/ops.crt"},
                       log),
            0);
  EXPECT_EQ(run_to_end({chaosctl, "certs", "issue", "--dir", pki, "--agent", "n1"}, log), 3) << "no overwrite";
  EXPECT_EQ(run_to_end({chaosctl, "certs", "issue", "--dir", pki, "--agent", "../evil"}, log), 3);
}

}  // namespace
}  // namespace chaos::security_testing
