// [prometheus] TLS and credentials, [[notify]] and [grafana]: read at load
// time relative to the experiment file, errors as file:line:col.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "orchestrator/experiment/experiment_loader.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using test_support::TempDir;

// [prometheus] starts on line 3; what follows the method step on line 11.
std::string experiment_with(const std::string& prometheus, const std::string& tail = "") {
  return "[experiment]\ntitle = \"t\"\n[prometheus]\n" + prometheus +
         "\n[[agents.static]]\naddress = \"127.0.0.1:9700\"\nnode = \"n1\"\n"
         "[[method]]\nkind = \"wait\"\nduration = \"1s\"\n" + tail;
}

class EndpointLoaderTest : public ::testing::Test {
 protected:
  StatusOr<Experiment> load(const std::string& text) { return load_experiment(dir_.write("exp.toml", text), {}); }
  std::string errors(const std::string& text) {
    auto experiment = load(text);
    return experiment.ok() ? "(loaded)" : experiment.status().message();
  }
  TempDir dir_;
};

TEST_F(EndpointLoaderTest, PrometheusOverHttpsWithCaAndBasicAuthFromFiles) {
  dir_.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
  dir_.write("password", "s3cret\n");
  auto experiment = load(experiment_with(
      "url = \"https://prom.example:9090/prom/\"\nca_file = \"ca.crt\"\nbasic_auth_user = \"chaos\"\n"
      "basic_auth_password_file = \"password\""));
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  const HttpEndpointConfig& endpoint = experiment->prometheus_endpoint;
  EXPECT_EQ(endpoint.url, "https://prom.example:9090/prom/");
  EXPECT_EQ(endpoint.ca_file, dir_.path() + "/ca.crt");
  EXPECT_EQ(endpoint.basic_auth_user, "chaos");
  EXPECT_EQ(endpoint.basic_auth_password, "s3cret");
  EXPECT_EQ(experiment->prometheus_url, endpoint.url);
}

TEST_F(EndpointLoaderTest, CredentialsOverPlainHttpToARemoteHostAreRefusedUnlessInsecure) {
  dir_.write("token", "abc\n");
  const std::string file = dir_.path() + "/exp.toml";
  EXPECT_THAT(errors(experiment_with("url = \"http://prom.example:9090\"\nbearer_token_file = \"token\"")),
              HasSubstr(file + ":4:7: prometheus: refusing to send credentials over plain http to prom.example"));
  EXPECT_EQ(errors(experiment_with("url = \"http://prom.example:9090\"\nbearer_token_file = \"token\"\n"
                                   "insecure = true")),
            "(loaded)");
  EXPECT_EQ(errors(experiment_with("url = \"http://127.0.0.1:9090\"\nbearer_token_file = \"token\"")), "(loaded)");
}

TEST_F(EndpointLoaderTest, EndpointMistakesNameFileLineAndKey) {
  const std::string file = dir_.path() + "/exp.toml";
  EXPECT_THAT(errors(experiment_with("url = \"https://prom:9090\"\nca_file = \"missing.crt\"")),
              HasSubstr(file + ":5:11: prometheus.ca_file: cannot read '" + dir_.path() + "/missing.crt'"));
  EXPECT_THAT(errors(experiment_with("url = \"https://u:p@prom:9090\"")),
              HasSubstr(file + ":4:7: prometheus.url 'https://u:p@prom:9090': no user or password in the URL"));
  EXPECT_THAT(errors(experiment_with("url = \"https://prom:9090\"\nbasic_auth_password = \"inline\"")),
              HasSubstr(file + ":5:1"));
}

TEST_F(EndpointLoaderTest, NotifyWebhooksAndGrafanaLoad) {
  dir_.write("headers", "# for the hook\nX-Hook-Token: abc\n");
  dir_.write("grafana-token", "glsa_x\n");
  auto experiment = load(experiment_with("url = \"http://127.0.0.1:9090\"",
                                         "[[notify]]\nurl = \"https://hooks.example/chaos\"\n"
                                         "events = [\"verdict\"]\nformat = \"slack\"\ntimeout = \"2s\"\n"
                                         "retries = 1\nbackoff = \"500ms\"\nheaders_file = \"headers\"\n"
                                         "[grafana]\nurl = \"https://grafana.example\"\n"
                                         "token_file = \"grafana-token\"\ndashboard_uid = \"chaos\"\n"));
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  ASSERT_EQ(experiment->notify.webhooks.size(), 1u);
  const WebhookConfig& webhook = experiment->notify.webhooks[0];
  EXPECT_FALSE(webhook.on_start);
  EXPECT_FALSE(webhook.on_abort);
  EXPECT_TRUE(webhook.on_verdict);
  EXPECT_EQ(webhook.format, NotifyFormat::kSlack);
  EXPECT_EQ(webhook.endpoint.timeout, std::chrono::seconds(2));
  EXPECT_EQ(webhook.delivery.retries, 1);
  EXPECT_EQ(webhook.delivery.backoff, std::chrono::milliseconds(500));
  EXPECT_EQ(webhook.endpoint.headers,
            (std::vector<std::pair<std::string, std::string>>{{"X-Hook-Token", "abc"}}));
  ASSERT_TRUE(experiment->notify.grafana.has_value());
  EXPECT_EQ(experiment->notify.grafana->endpoint.bearer_token, "glsa_x");
  EXPECT_EQ(experiment->notify.grafana->dashboard_uid, "chaos");
}

TEST_F(EndpointLoaderTest, WebhookUrlCanBeASecretFromAFile) {
  dir_.write("slack-url", "https://hooks.example/services/T0/B0/XXXX\n");
  auto experiment = load(experiment_with("url = \"http://127.0.0.1:9090\"",
                                         "[[notify]]\nurl_file = \"slack-url\"\nformat = \"slack\"\n"));
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->notify.webhooks[0].endpoint.url, "https://hooks.example/services/T0/B0/XXXX");
  EXPECT_TRUE(experiment->notify.webhooks[0].endpoint.url_is_secret);
}

TEST_F(EndpointLoaderTest, NotifyMistakesNameFileLineAndKey) {
  const std::string file = dir_.path() + "/exp.toml";
  EXPECT_THAT(errors(experiment_with("url = \"http://127.0.0.1:9090\"",
                                     "[[notify]]\nurl = \"https://h.example\"\nevents = [\"finish\"]\n")),
              HasSubstr(file + ":13:10: notify[0].events: 'finish' is not one of start, abort, verdict"));
  EXPECT_THAT(errors(experiment_with("url = \"http://127.0.0.1:9090\"",
                                     "[[notify]]\nurl = \"https://h.example\"\nretries = 9\n")),
              HasSubstr(file + ":13:"));
  EXPECT_THAT(errors(experiment_with("url = \"http://127.0.0.1:9090\"",
                                     "[grafana]\nurl = \"https://g.example\"\ntoken_file = \"nope\"\n")),
              HasSubstr(file + ":13:14: grafana.token_file: cannot read '" + dir_.path() + "/nope'"));
}

}  // namespace
}  // namespace chaos::orchestrator
