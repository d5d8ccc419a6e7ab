// Parsers over what the lab reads back from its services and /proc.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/url_encode.h"
#include "lab/proc_scan.h"
#include "lab/readiness.h"
#include "lab/stream_leader.h"
#include "tests/support/temp_dir.h"

namespace chaos::lab {
namespace {

TEST(StreamLeaderTest, FindsTheLeaderOfTheNamedStream) {
  const std::string jsz = R"({"account_details":[{"name":"$G","stream_detail":[
      {"name":"OTHER","cluster":{"leader":"n1"}},
      {"name":"CHAOS_PROBE","cluster":{"name":"chaoslab","leader":"n3","replicas":[]}}]}]})";
  EXPECT_EQ(stream_leader_from_jsz(jsz, "CHAOS_PROBE"), "n3");
  EXPECT_EQ(stream_leader_from_jsz(jsz, "MISSING"), std::nullopt);
}

TEST(StreamLeaderTest, HostileOrLeaderlessInputGivesNothing) {
  for (const char* text : {"", "null", "[]", "{", R"({"account_details":5})", R"({"account_details":[1,"x"]})",
                           R"({"account_details":[{"stream_detail":[{"name":"CHAOS_PROBE"}]}]})",
                           R"({"account_details":[{"stream_detail":[{"name":"CHAOS_PROBE","cluster":{"leader":""}}]}]})",
                           R"({"account_details":[{"stream_detail":[{"name":"CHAOS_PROBE","cluster":{"leader":7}}]}]})"}) {
    EXPECT_EQ(stream_leader_from_jsz(text, "CHAOS_PROBE"), std::nullopt) << text;
  }
  EXPECT_EQ(stream_leader_from_jsz(std::string(100000, '['), "CHAOS_PROBE"), std::nullopt);
}

TEST(SampleValueTest, ReadsUnlabelledSamplesOnly) {
  const std::string text =
      "# HELP chaos_probe_publish_success_total x\nchaos_probe_publish_success_total_extra 9\n"
      "chaos_probe_publish_success_total 42\n";
  EXPECT_EQ(sample_value(text, "chaos_probe_publish_success_total"), 42);
  EXPECT_EQ(sample_value(text, "missing"), std::nullopt);
  EXPECT_EQ(sample_value("x garbage\n", "x"), std::nullopt);
}

TEST(UrlEncodeTest, EncodesPromqlPunctuation) {
  EXPECT_EQ(url_encode("sum(rate(x[5s]))"), "sum%28rate%28x%5B5s%5D%29%29");
  EXPECT_EQ(url_encode("a b&c=d"), "a%20b%26c%3Dd");
}

TEST(ProcScanTest, MatchesProgramAndMarker) {
  EXPECT_TRUE(cmdline_matches({"/usr/sbin/nats-server", "--config", "/run/chaos-lab/nodes/n1/nats-server.conf"},
                              "nats-server", "/run/chaos-lab/nodes/n1/nats-server.conf"));
  EXPECT_TRUE(cmdline_matches({"prometheus", "--config.file=/s/prometheus.yml"}, "prometheus", "/s/prometheus.yml"));
  EXPECT_FALSE(cmdline_matches({"/usr/bin/not-nats-server", "/s/x"}, "nats-server", "/s/x"));
  EXPECT_FALSE(cmdline_matches({"vim", "/s/prometheus.yml"}, "prometheus", "/s/prometheus.yml"));
  EXPECT_FALSE(cmdline_matches({"prometheus"}, "prometheus", "/s/prometheus.yml"));
  EXPECT_FALSE(cmdline_matches({}, "prometheus", "x"));
  EXPECT_FALSE(cmdline_matches({"prometheus", "x"}, "prometheus", ""));
}

TEST(ProcScanTest, ReadsPidfilesStrictly) {
  const std::string path = test_support::process_scratch_dir() + "/lab-pidfile";
  auto write = [&](const std::string& text) {
    std::FILE* file = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), file);
    std::fclose(file);
  };
  write("1234\n");
  EXPECT_EQ(read_pidfile(path), 1234);
  for (const char* bad : {"", "abc", "12x", "-5", "1", "99999999999999999999"}) {
    write(bad);
    EXPECT_EQ(read_pidfile(path), std::nullopt) << bad;
  }
  EXPECT_EQ(read_pidfile("/nonexistent/pidfile"), std::nullopt);
  EXPECT_TRUE(process_alive(static_cast<int>(::getpid())));
  EXPECT_FALSE(process_alive(0));
}

}  // namespace
}  // namespace chaos::lab

namespace chaos::lab {
namespace {

// `lab up` returns only once the inventory names the leader: an experiment
// run right after it that targets the leader found no agent otherwise.
TEST(InventoryLeaderTest, ReadyOnlyOnceTheInventoryLabelsALeader) {
  LabParams params;
  params.state_dir = test_support::process_scratch_dir() + "/inventory-leader";
  std::filesystem::create_directories(params.state_dir);
  const auto layout = *LabLayout::create(params);
  EXPECT_EQ(inventory_labels_a_leader(layout, "stream_leader").code(), StatusCode::kUnavailable) << "no file yet";
  ASSERT_TRUE(write_inventory(layout, ""));
  const Status none = inventory_labels_a_leader(layout, "stream_leader");
  EXPECT_EQ(none.code(), StatusCode::kUnavailable);
  EXPECT_NE(none.message().find("labels no node stream_leader yet"), std::string::npos) << none.message();
  ASSERT_TRUE(write_inventory(layout, "n2"));
  EXPECT_TRUE(inventory_labels_a_leader(layout, "stream_leader").ok());
  EXPECT_FALSE(inventory_labels_a_leader(layout, "queue_leader").ok());
}

}  // namespace
}  // namespace chaos::lab
