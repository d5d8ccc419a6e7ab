// Notifications against webhook and Grafana receivers on loopback
// (httplib::Server on 127.0.0.1, a free port): what they receive, and that
// a receiver that hangs or fails never holds up a run or changes it.
#include "orchestrator/notify/run_notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>
#include <thread>

#include "orchestrator/run/experiment_run.h"
#include "tests/support/test_http_server.h"
#include "tests/unit/orchestrator/run_fakes.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::FakeAgentFactory;
using testing::FakeFleet;
using testing::FakePrometheus;
using testing::JumpingClock;

struct Received {
  std::string path;
  std::string authorization;
  nlohmann::json body;
};

// Answers every POST with the status `answer` returns for the n-th request
// (0-based); a handler told to hang (0) waits until the receiver is
// destroyed; one told to drip (-1) answers 200 and then one body byte every
// 50 ms for 30 s, so no single read ever times out.
class Receiver {
 public:
  explicit Receiver(std::function<int(int)> answer = [](int) { return 200; }) : answer_(std::move(answer)) {
    server_.routes().Post(R"(/.*)", [this](const httplib::Request& request, httplib::Response& response) {
      int n = 0;
      {
        std::lock_guard lock(mutex_);
        n = static_cast<int>(received_.size());
        received_.push_back({request.path, request.get_header_value("Authorization"),
                             nlohmann::json::parse(request.body, nullptr, false)});
      }
      const int status = answer_(n);
      if (status == -1) {
        response.set_chunked_content_provider("text/plain", [this](size_t offset, httplib::DataSink& sink) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          if (server_.closing() || offset >= 600) {
            sink.done();
          } else {
            sink.write("x", 1);
          }
          return true;
        });
        return;
      }
      if (status == 0) server_.hold_until_closing();
      response.status = status == 0 ? 200 : status;
    });
    EXPECT_TRUE(server_.listen_on_loopback());
  }

  std::string url(const std::string& path = "/hook") const { return server_.url(path); }
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::vector<std::string> events() {
    std::vector<std::string> names;
    for (const auto& item : received()) names.push_back(item.body.value("event", "?"));
    return names;
  }

 private:
  std::function<int(int)> answer_;
  std::mutex mutex_;
  std::vector<Received> received_;
  test_support::TestHttpServer server_;  // last: stopped before the members its handler uses
};

WebhookConfig webhook_to(const std::string& url) {
  WebhookConfig webhook;
  webhook.endpoint.url = url;
  webhook.endpoint.timeout = 2s;
  webhook.delivery.retries = 0;
  webhook.delivery.backoff = 10ms;
  return webhook;
}

Experiment one_fault_experiment() {
  Experiment experiment;
  experiment.title = "Kill one";
  experiment.source_path = "experiments/kill.toml";
  experiment.settings.lease_ttl = 3s;
  experiment.steady_state.push_back({{"ratio", "ratio", Comparator::kGreaterEqual, 0.99}});
  experiment.aborts.push_back({{"stopped", "rate", Comparator::kLess, 1}});
  MethodStep kill;
  kill.name = "kill";
  kill.kind = "process.kill";
  kill.duration = 10s;
  kill.spec.mutable_process_kill()->mutable_target()->set_name("sleep");
  kill.targets = {{"10.0.0.1:9700", "a", {}}};
  experiment.method = {kill};
  experiment.agents = kill.targets;
  return experiment;
}

class NotifierTest : public ::testing::Test {
 protected:
  // Runs the experiment with fakes and the notifier attached; `rate` 0
  // from second 4 fires the abort condition.
  RunOutcome run_with(RunNotifier& notifier, bool abort) {
    FakePrometheus prometheus(clock_, [abort](const std::string& query, double t) {
      if (query == "ratio") return std::optional<std::string>("1");
      return std::optional<std::string>(abort && t >= 4 ? "0" : "10");
    });
    journal_.add_observer(&notifier);
    RunContext context{experiment_, prometheus, factory_, clock_, journal_, interrupted_, identity_};
    return ExperimentRun(context).run();
  }
  std::unique_ptr<RunNotifier> notifier(const NotifyConfig& config) {
    auto created = RunNotifier::create(config, {experiment_.title, experiment_.source_path, identity_}, clock_);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? std::move(*created) : nullptr;
  }
  RunTimes times() const { return {clock_.wall_now() - 20s, clock_.wall_now()}; }

  Experiment experiment_ = one_fault_experiment();
  RunIdentity identity_{"kill-one-1", "kill-one-1-lease", 3s};
  JumpingClock clock_;
  FakeFleet fleet_;
  FakeAgentFactory factory_{fleet_};
  RunJournal journal_{clock_};
  std::atomic<bool> interrupted_{false};
  std::ostringstream warnings_;
};

TEST_F(NotifierTest, WebhookGetsStartAbortAndVerdictAsJson) {
  Receiver receiver;
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url()));
  auto notifier_ = notifier(config);
  const RunOutcome outcome = run_with(*notifier_, true);
  ASSERT_EQ(outcome.verdict, Verdict::kAborted);
  const DeliverySummary summary = notifier_->finish(outcome, journal_, times(), "reports/r/report.html", warnings_);
  EXPECT_EQ(summary.delivered, 3) << warnings_.str();
  EXPECT_THAT(receiver.events(), ElementsAre("start", "abort", "verdict"));
  const nlohmann::json verdict = receiver.received().back().body;
  EXPECT_EQ(receiver.received().back().path, "/hook");
  EXPECT_EQ(verdict["schema"], "chaos.notify/v1");
  EXPECT_EQ(verdict["experiment"], "Kill one");
  EXPECT_EQ(verdict["experiment_id"], "kill-one-1");
  EXPECT_EQ(verdict["verdict"], "aborted");
  EXPECT_EQ(verdict["exit_code"], 2);
  EXPECT_EQ(verdict["aborted_by"], "stopped");
  EXPECT_EQ(verdict["report"], "reports/r/report.html");
  EXPECT_TRUE(verdict["time_to_recovery_seconds"].is_null());
  EXPECT_THAT(receiver.received()[1].body["message"].get<std::string>(), HasSubstr("stopped"));
}

TEST_F(NotifierTest, OnlyTheChosenEventsAreSentInSlackFormat) {
  Receiver receiver;
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url()));
  config.webhooks[0].on_start = config.webhooks[0].on_abort = false;
  config.webhooks[0].format = NotifyFormat::kSlack;
  auto notifier_ = notifier(config);
  const RunOutcome outcome = run_with(*notifier_, false);
  notifier_->finish(outcome, journal_, times(), "", warnings_);
  const auto received = receiver.received();
  ASSERT_EQ(received.size(), 1u) << warnings_.str();
  EXPECT_EQ(received[0].body.size(), 1u);  // {"text": ...} and nothing else
  EXPECT_THAT(received[0].body["text"].get<std::string>(),
              HasSubstr("chaos: Kill one (kill-one-1) held (exit 0)"));
}

TEST_F(NotifierTest, HangingReceiverDoesNotHoldUpTheRunAndIsReportedFailed) {
  Receiver receiver([](int) { return 0; });  // never answers
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url()));
  config.webhooks[0].endpoint.timeout = 200ms;
  auto notifier_ = notifier(config);
  const RunOutcome outcome = run_with(*notifier_, false);
  EXPECT_EQ(outcome.verdict, Verdict::kHeld);  // the verdict is the run's, whatever the receiver does
  const auto begun = std::chrono::steady_clock::now();
  const DeliverySummary summary = notifier_->finish(outcome, journal_, times(), "", warnings_);
  EXPECT_LT(std::chrono::steady_clock::now() - begun, 20s);  // generous: bounded, not a timing check
  EXPECT_EQ(summary.delivered, 0);
  ASSERT_FALSE(summary.failed.empty());
  EXPECT_THAT(summary.failed[0], HasSubstr("POST " + receiver.url() + ": no (complete) answer within 200ms"));
  EXPECT_THAT(warnings_.str(), HasSubstr("warning: notification"));
}

// Each read has its timeout, a whole answer has none: a receiver that drips
// its answer is cut off when the drain gives up, not waited for.
TEST_F(NotifierTest, AReceiverThatDripsItsAnswerIsCutOffWhenTheDrainGivesUp) {
  Receiver receiver([](int) { return -1; });
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url()));
  config.webhooks[0].on_start = config.webhooks[0].on_abort = false;
  const auto begun = std::chrono::steady_clock::now();
  {
    auto notifier_ = notifier(config);
    const DeliverySummary summary = notifier_->finish(RunOutcome{}, journal_, times(), "", warnings_, 300ms);
    EXPECT_EQ(summary.delivered, 0);
  }
  // Generous: the drip lasts 30 s; a notifier that waits for it ends after that.
  EXPECT_LT(std::chrono::steady_clock::now() - begun, 15s);
}

TEST_F(NotifierTest, FailedDeliveryIsRetriedUntilTheReceiverTakesIt) {
  Receiver receiver([](int n) { return n < 2 ? 500 : 204; });
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url()));
  config.webhooks[0].on_start = config.webhooks[0].on_abort = false;
  config.webhooks[0].delivery.retries = 2;
  auto notifier_ = notifier(config);
  const DeliverySummary summary = notifier_->finish(RunOutcome{}, journal_, times(), "", warnings_);
  EXPECT_EQ(summary.delivered, 1) << warnings_.str();
  EXPECT_TRUE(summary.failed.empty());
  EXPECT_EQ(receiver.received().size(), 3u);
}

TEST_F(NotifierTest, RetriesRunOutAndTheLastAnswerIsNamed) {
  Receiver receiver([](int) { return 500; });
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url()));
  config.webhooks[0].delivery.retries = 1;
  auto notifier_ = notifier(config);
  const DeliverySummary summary = notifier_->finish(RunOutcome{}, journal_, times(), "", warnings_);
  ASSERT_EQ(summary.failed.size(), 1u);
  EXPECT_THAT(summary.failed[0], HasSubstr(receiver.url() + " answered HTTP 500 Internal Server Error (2 attempt(s))"));
  EXPECT_EQ(receiver.received().size(), 2u);
}

TEST_F(NotifierTest, GrafanaGetsARegionPerFaultWindowAndOneForTheVerdictWithTheBearerToken) {
  Receiver grafana;
  NotifyConfig config;
  config.grafana.emplace();
  config.grafana->endpoint.url = grafana.url("/grafana");
  config.grafana->endpoint.bearer_token = "glsa_token";
  config.grafana->dashboard_uid = "chaos-dash";
  auto notifier_ = notifier(config);
  const RunOutcome outcome = run_with(*notifier_, false);
  const auto faults = journal_.faults();
  ASSERT_EQ(faults.size(), 1u);
  const RunTimes run_times = times();
  notifier_->finish(outcome, journal_, run_times, "", warnings_);
  const auto received = grafana.received();
  ASSERT_EQ(received.size(), 2u) << warnings_.str();
  const auto ms = [](WallTime time) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  };
  EXPECT_EQ(received[0].path, "/grafana/api/annotations");
  EXPECT_EQ(received[0].authorization, "Bearer glsa_token");
  EXPECT_EQ(received[0].body["time"], ms(faults[0].applied_at));
  EXPECT_EQ(received[0].body["timeEnd"], ms(*faults[0].reverted_at));
  EXPECT_EQ(received[0].body["tags"], nlohmann::json({"chaos", "kill-one-1", "process.kill", "a"}));
  EXPECT_EQ(received[0].body["dashboardUID"], "chaos-dash");
  EXPECT_EQ(received[1].body["time"], ms(run_times.started));
  EXPECT_EQ(received[1].body["timeEnd"], ms(run_times.finished));
  EXPECT_EQ(received[1].body["tags"], nlohmann::json({"chaos", "kill-one-1", "verdict", "held"}));
}

TEST_F(NotifierTest, SecretUrlIsNotShownInWarnings) {
  Receiver receiver([](int) { return 500; });
  NotifyConfig config;
  config.webhooks.push_back(webhook_to(receiver.url("/services/T0/B0/SECRET")));
  config.webhooks[0].endpoint.url_is_secret = true;
  auto notifier_ = notifier(config);
  notifier_->finish(RunOutcome{}, journal_, times(), "", warnings_);
  ASSERT_EQ(receiver.received().size(), 1u);
  EXPECT_EQ(receiver.received()[0].path, "/services/T0/B0/SECRET");
  EXPECT_THAT(warnings_.str(), HasSubstr("HTTP 500"));
  EXPECT_THAT(warnings_.str(), ::testing::Not(HasSubstr("SECRET")));
}

TEST_F(NotifierTest, CredentialsOverPlainHttpToAnotherHostAreRefused) {
  NotifyConfig config;
  config.webhooks.push_back(webhook_to("http://hooks.example.net/chaos"));
  config.webhooks[0].endpoint.headers = {{"X-Token", "secret"}};
  auto created = RunNotifier::create(config, {"t", "f", identity_}, clock_);
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.status().message(), HasSubstr("refusing to send credentials over plain http to hooks.example.net"));
}

}  // namespace
}  // namespace chaos::orchestrator
