// The Prometheus client against a loopback Prometheus stand-in over plain
// http: the bearer token and basic auth reach it as headers, and a
// Prometheus that never answers is a timeout naming the URL asked. (TLS, a
// wrong CA and a wrong password against a real Prometheus:
// tests/integration/orchestrator/prometheus_tls_test.cc.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>

#include "orchestrator/clients/prometheus_client.h"
#include "tests/support/test_http_server.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr const char* kOneSample =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"probe"},"value":[1800000000,"1"]}]}})";

// Answers /api/v1/query at once, or holds every answer until it is
// destroyed; records the Authorization header of the last request.
class StandInPrometheus {
 public:
  explicit StandInPrometheus(bool answers = true) : answers_(answers) {
    const auto handler = [this](const httplib::Request& request, httplib::Response& response) {
      {
        std::lock_guard lock(mutex_);
        authorization_ = request.get_header_value("Authorization");
      }
      if (!answers_) server_.hold_until_closing();
      response.set_content(kOneSample, "application/json");
    };
    server_.routes().Get("/api/v1/query", handler);
    server_.routes().Post("/api/v1/query", handler);
    EXPECT_TRUE(server_.listen_on_loopback());
  }
  std::string url() const { return server_.url(); }
  std::string authorization() {
    std::lock_guard lock(mutex_);
    return authorization_;
  }

 private:
  const bool answers_;
  std::mutex mutex_;
  std::string authorization_;
  test_support::TestHttpServer server_;  // last: stopped before the members its handler uses
};

std::unique_ptr<PrometheusClient> client_for(const HttpEndpointConfig& config) {
  auto client = make_http_prometheus_client(config);
  EXPECT_TRUE(client.ok()) << client.status().message();
  return client.ok() ? std::move(*client) : nullptr;
}

TEST(PrometheusClientTest, TheBearerTokenReachesPrometheusAsAnAuthorizationHeader) {
  StandInPrometheus prometheus;
  HttpEndpointConfig config;
  config.url = prometheus.url();
  config.bearer_token = "s3cret-token";
  auto client = client_for(config);
  ASSERT_NE(client, nullptr);
  const auto result = client->instant_query("up");
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(result->series.size(), 1u);
  EXPECT_EQ(prometheus.authorization(), "Bearer s3cret-token");
}

TEST(PrometheusClientTest, BasicAuthReachesPrometheusAsAnAuthorizationHeader) {
  StandInPrometheus prometheus;
  HttpEndpointConfig config;
  config.url = prometheus.url();
  config.basic_auth_user = "chaos";
  config.basic_auth_password = "pw";
  auto client = client_for(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->instant_query("up").ok());
  EXPECT_EQ(prometheus.authorization(), "Basic Y2hhb3M6cHc=");  // base64("chaos:pw")
}

TEST(PrometheusClientTest, WithoutCredentialsNoAuthorizationHeaderIsSent) {
  StandInPrometheus prometheus;
  HttpEndpointConfig config;
  config.url = prometheus.url();
  auto client = client_for(config);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->instant_query("up").ok());
  EXPECT_EQ(prometheus.authorization(), "");
}

TEST(PrometheusClientTest, APrometheusThatNeverAnswersIsATimeoutNamingTheUrlAsked) {
  StandInPrometheus prometheus(/*answers=*/false);
  HttpEndpointConfig config;
  config.url = prometheus.url();
  config.timeout = 200ms;
  auto client = client_for(config);
  ASSERT_NE(client, nullptr);
  const auto result = client->instant_query("up");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr(prometheus.url() + "/api/v1/query"));
  EXPECT_THAT(result.status().message(), HasSubstr("no (complete) answer within 200ms"));
}

}  // namespace
}  // namespace chaos::orchestrator
