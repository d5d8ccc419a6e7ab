// The probe's /metrics must pass promtool (names, units, histogram shape).
#include "lab/probe/probe_metrics.h"

#include <gtest/gtest.h>

#include "common/command_runner.h"
#include "metrics/text_format.h"

namespace chaos::lab::probe {
namespace {

TEST(ProbeMetricsTest, ExpositionPassesPromtool) {
  metrics::Registry registry;
  ProbeMetrics probe(registry);
  probe.publish_attempts.inc(3);
  probe.publish_success.inc(2);
  probe.publish_ack_latency.observe(0.004);
  probe.end_to_end_latency.observe(12.5);
  export_config_info(registry, {{"first_server", "1"}, {"ping_interval", "1s"}});
  const std::string text = metrics::serialize_text(registry);
  EXPECT_NE(text.find("chaos_probe_publish_attempts_total 3"), std::string::npos);
  EXPECT_NE(text.find("chaos_probe_end_to_end_latency_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
  EXPECT_NE(text.find("chaos_probe_config_info{first_server=\"1\",ping_interval=\"1s\"} 1"), std::string::npos);
  EXPECT_NE(text.find("chaos_probe_messages_processed_twice_total 0"), std::string::npos);
  ProcessCommandRunner runner;
  auto result = runner.run({"promtool", "check", "metrics"}, RunOptions{text, std::chrono::seconds(20)});
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->exit_code, 0) << result->stdout_text << result->stderr_text;
}

}  // namespace
}  // namespace chaos::lab::probe
