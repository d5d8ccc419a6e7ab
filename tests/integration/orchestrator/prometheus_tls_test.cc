// The Prometheus client against a real Prometheus serving HTTPS with basic
// auth (--web.config.file), certificates from the project's own CA code:
// queries work with the right CA and password; a wrong CA and a wrong
// password are clear errors that name the URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/command_runner.h"
#include "common/pki.h"
#include "lab/testbed/agent_harness.h"
#include "orchestrator/clients/prometheus_client.h"
#include "tests/integration/orchestrator/prometheus_server.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator::integration {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// bcrypt (cost 4, quick to check) of kTlsTestPassword, as Prometheus wants it.
constexpr const char* kTlsTestPassword = "chaos-pass";
constexpr const char* kTlsTestPasswordHash = "$2b$04$Zy/dm8lsflQER0FLBxfahOAKihMhkau/.AVyLJq2VbWMzicJVKb2a";

class PrometheusTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessCommandRunner runner;
    pki::CertificateAuthority ca(runner, dir_.path() + "/pki");
    ASSERT_TRUE(ca.init(1, false).ok());
    ASSERT_TRUE(ca.issue({pki::CertificateRole::kAgent, "prometheus", {"127.0.0.1"}, 1}, false).ok());
    pki::CertificateAuthority other(runner, dir_.path() + "/other");
    ASSERT_TRUE(other.init(1, false).ok());
    ca_file_ = ca.ca_cert();
    other_ca_file_ = other.ca_cert();
    std::ofstream(dir_.path() + "/web.yml")
        << "tls_server_config:\n  cert_file: " << ca.cert_path("prometheus") << "\n  key_file: "
        << ca.key_path("prometheus") << "\nbasic_auth_users:\n  chaos: '" << kTlsTestPasswordHash << "'\n";
    server_ = std::make_unique<PrometheusServer>(dir_.path(), std::vector<std::string>{}, "", dir_.path() + "/web.yml",
                                                 true);
  }

  HttpEndpointConfig endpoint(const std::string& ca_file, const std::string& password) const {
    HttpEndpointConfig config;
    config.url = server_->url();
    config.timeout = 2000ms;
    config.ca_file = ca_file;
    config.basic_auth_user = "chaos";
    config.basic_auth_password = password;
    return config;
  }

  test_support::TempDir dir_;
  std::string ca_file_;
  std::string other_ca_file_;
  std::unique_ptr<PrometheusServer> server_;
};

TEST_F(PrometheusTlsTest, QueriesOverHttpsWithBasicAuthAndClearErrorsOtherwise) {
  auto client = make_http_prometheus_client(endpoint(ca_file_, kTlsTestPassword));
  ASSERT_TRUE(client.ok()) << client.status().message();
  ASSERT_TRUE(agent::integration::eventually([&] { return (*client)->check_ready().ok(); }, 20s))
      << (*client)->check_ready().message();
  auto answer = (*client)->instant_query("vector(1)");
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  ASSERT_EQ(answer->series.size(), 1u);
  EXPECT_EQ(answer->series[0].points[0].text, "1");

  auto wrong_ca = make_http_prometheus_client(endpoint(other_ca_file_, kTlsTestPassword));
  ASSERT_TRUE(wrong_ca.ok());
  auto refused = (*wrong_ca)->instant_query("vector(1)");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("POST " + server_->url() + "/api/v1/query: TLS: the server's certificate does not verify "
                        "against ca_file '" + other_ca_file_ + "'"));

  auto wrong_password = make_http_prometheus_client(endpoint(ca_file_, "not-the-password"));
  ASSERT_TRUE(wrong_password.ok());
  auto unauthorized = (*wrong_password)->instant_query("vector(1)");
  ASSERT_FALSE(unauthorized.ok());
  EXPECT_THAT(unauthorized.status().message(),
              HasSubstr("prometheus at " + server_->url() + "/api/v1/query answered HTTP 401 Unauthorized"));
}

}  // namespace
}  // namespace chaos::orchestrator::integration
