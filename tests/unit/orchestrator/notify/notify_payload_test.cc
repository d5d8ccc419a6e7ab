// The notification bodies on their own (pure functions): what a verdict
// tells a webhook and a Slack channel about detection.
#include "orchestrator/notify/notify_payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

NotifyEvent payload_verdict_event(const RunOutcome& outcome) {
  NotifyEvent event;
  event.event = "verdict";
  event.experiment = "Pause one";
  event.experiment_id = "pause-one-1";
  event.file = "pause.toml";
  event.at = WallTime(1'795'000'000s);
  event.outcome = &outcome;
  return event;
}

TEST(NotifyPayload, VerdictNamesTheCheckThatDetectedTheFaultAndWhen) {
  RunOutcome outcome;
  outcome.verdict = Verdict::kViolated;
  outcome.reason = "ratio failed";
  outcome.time_to_detect = 2500ms;
  outcome.detected_by = "ratio vs control";
  outcome.detected_by_kind = "compare";
  const NotifyEvent event = payload_verdict_event(outcome);
  const nlohmann::json body = webhook_json(event);
  EXPECT_DOUBLE_EQ(body["time_to_detect_seconds"].get<double>(), 2.5);
  EXPECT_EQ(body["detected_by"], (nlohmann::json{{"name", "ratio vs control"}, {"kind", "compare"}}));
  EXPECT_THAT(slack_json(event)["text"].get<std::string>(), HasSubstr("time to detect 2.5s (ratio vs control)"));
}

// Slack reads <...> as a link or a mention: a reason (query errors, titles)
// reaches it escaped, while the webhook's JSON keeps the text as it is.
TEST(NotifyPayload, SlackTextEscapesWhatSlackWouldReadAsAMentionOrALink) {
  RunOutcome outcome;
  outcome.verdict = Verdict::kViolated;
  outcome.reason = "<!channel> <https://x.example|click> & more";
  const NotifyEvent event = payload_verdict_event(outcome);
  EXPECT_THAT(slack_json(event)["text"].get<std::string>(),
              HasSubstr("&lt;!channel&gt; &lt;https://x.example|click&gt; &amp; more"));
  EXPECT_EQ(webhook_json(event)["reason"], "<!channel> <https://x.example|click> & more");
}

TEST(NotifyPayload, NothingDetectedIsNullAndNotMentioned) {
  RunOutcome outcome;
  outcome.reason = "every check held";
  const NotifyEvent event = payload_verdict_event(outcome);
  const nlohmann::json body = webhook_json(event);
  ASSERT_TRUE(body.contains("detected_by"));
  EXPECT_TRUE(body["detected_by"].is_null());
  EXPECT_TRUE(body["time_to_detect_seconds"].is_null());
  EXPECT_THAT(slack_json(event)["text"].get<std::string>(), Not(HasSubstr("detect")));
}

}  // namespace
}  // namespace chaos::orchestrator
