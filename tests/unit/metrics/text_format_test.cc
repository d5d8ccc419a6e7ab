#include "metrics/text_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace chaos::metrics {
namespace {

TEST(FormatValue, SpellsSpecialValuesExactly) {
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(FormatValue, WritesShortestRoundTrip) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(std::stod(format_value(1.0 / 3.0)), 1.0 / 3.0);
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
}

TEST(EscapeHelp, EscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(escape_help("say \"hi\"\\\nnow"), R"(say "hi"\\\nnow)");
}

TEST(SerializeText, WritesHelpTypeAndSamplesPerFamily) {
  Registry registry;
  registry.counter("chaos_injections_total", "Faults injected.", {"kind", "result"})
      .with({"network.delay", "ok"})
      .inc(3);
  registry.gauge("chaos_faults_active", "Live faults.").with({}).set(2);
  EXPECT_EQ(serialize_text(registry),
            "# HELP chaos_injections_total Faults injected.\n"
            "# TYPE chaos_injections_total counter\n"
            "chaos_injections_total{kind=\"network.delay\",result=\"ok\"} 3\n"
            "# HELP chaos_faults_active Live faults.\n"
            "# TYPE chaos_faults_active gauge\n"
            "chaos_faults_active 2\n");
}

TEST(SerializeText, HistogramHasCumulativeBucketsInfSumAndCount) {
  Registry registry;
  auto& latency = registry.histogram("chaos_inject_duration_seconds", "Inject latency.", {"kind"}, {0.1, 1});
  auto& child = latency.with({"process.kill"});
  child.observe(0.05);
  child.observe(0.5);
  child.observe(7);
  EXPECT_EQ(serialize_text(registry),
            "# HELP chaos_inject_duration_seconds Inject latency.\n"
            "# TYPE chaos_inject_duration_seconds histogram\n"
            "chaos_inject_duration_seconds_bucket{kind=\"process.kill\",le=\"0.1\"} 1\n"
            "chaos_inject_duration_seconds_bucket{kind=\"process.kill\",le=\"1\"} 2\n"
            "chaos_inject_duration_seconds_bucket{kind=\"process.kill\",le=\"+Inf\"} 3\n"
            "chaos_inject_duration_seconds_sum{kind=\"process.kill\"} 7.55\n"
            "chaos_inject_duration_seconds_count{kind=\"process.kill\"} 3\n");
}

TEST(SerializeText, EscapesLabelValuesInOutput) {
  Registry registry;
  registry.gauge("chaos_probe_info", "Info.", {"path"}).with({"C:\\tmp\n\"x\""}).set(1);
  EXPECT_NE(serialize_text(registry).find(R"(chaos_probe_info{path="C:\\tmp\n\"x\""} 1)"), std::string::npos);
}

TEST(SerializeText, RemovedChildDisappears) {
  Registry registry;
  auto& live = registry.gauge("chaos_fault_live", "Live fault.", {"fault_id"});
  live.with({"f1"}).set(1);
  live.with({"f2"}).set(1);
  live.remove({"f1"});
  const auto text = serialize_text(registry);
  EXPECT_EQ(text.find("f1"), std::string::npos);
  EXPECT_NE(text.find("chaos_fault_live{fault_id=\"f2\"} 1"), std::string::npos);
}

TEST(SerializeText, EmptyFamilyStillHasHelpAndType) {
  Registry registry;
  registry.counter("chaos_reverts_total", "Reverts.", {"kind"});
  EXPECT_EQ(serialize_text(registry), "# HELP chaos_reverts_total Reverts.\n# TYPE chaos_reverts_total counter\n");
}

}  // namespace
}  // namespace chaos::metrics
