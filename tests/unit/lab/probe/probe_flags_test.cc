#include "lab/probe/probe_flags.h"

#include <gtest/gtest.h>

#include "lab/probe/probe_metrics.h"
#include "metrics/text_format.h"

namespace chaos::lab::probe {
namespace {

// Parses `line` as chaos-probe's command line and validates it.
Status parse_flags(const std::string& line, ProbeFlags& flags) {
  CLI::App app;
  add_probe_flags(app, flags);
  try {
    app.parse(line, false);
  } catch (const CLI::ParseError& error) {
    return invalid_argument(error.what());
  }
  return resolve_probe_flags(flags);
}

std::string parse_error(const std::string& line) {
  ProbeFlags flags;
  const Status status = parse_flags(line, flags);
  return status.ok() ? "accepted" : status.message();
}

TEST(ProbeFlagsTest, DefaultsAreTheProbesBehaviourBeforeTheOptions) {
  ProbeFlags flags;
  ASSERT_TRUE(parse_flags("--servers a:1,b:2,c:3", flags).ok());
  EXPECT_EQ(flags.session.servers, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_FALSE(flags.session.randomize);
  EXPECT_EQ(flags.session.ping_interval, std::chrono::seconds(1));
  EXPECT_EQ(flags.session.max_pings_out, 2);
  EXPECT_EQ(flags.settings.publish_retries, 0);
  EXPECT_EQ(flags.settings.failover_after, 0);
  EXPECT_EQ(flags.settings.dedupe_window, 0);
}

TEST(ProbeFlagsTest, FirstServerRotatesTheOrder) {
  ProbeFlags flags;
  ASSERT_TRUE(parse_flags("--servers a:1,b:2,c:3 --first-server 3 --randomize-servers", flags).ok());
  EXPECT_EQ(flags.session.servers, (std::vector<std::string>{"c:3", "a:1", "b:2"}));
  EXPECT_TRUE(flags.session.randomize);
}

TEST(ProbeFlagsTest, EveryBoundIsCheckedAndNamesItsFlag) {
  EXPECT_EQ(parse_error("--servers a:1,b:2 --first-server 3"), "--first-server must be in 1..2, got 3");
  EXPECT_EQ(parse_error("--first-server 0"), "--first-server must be in 1..1, got 0");
  EXPECT_EQ(parse_error("--ping-interval 99ms"), "--ping-interval must be in 100ms..10m, got 99ms");
  EXPECT_EQ(parse_error("--ping-interval 601s"), "--ping-interval must be in 100ms..10m, got 601s");
  EXPECT_NE(parse_error("--ping-interval 5").find("--ping-interval: "), std::string::npos);
  EXPECT_EQ(parse_error("--max-pings-out 0"), "--max-pings-out must be in 1..100, got 0");
  EXPECT_EQ(parse_error("--max-pings-out 101"), "--max-pings-out must be in 1..100, got 101");
  EXPECT_EQ(parse_error("--publish-retries -1"), "--publish-retries must be in 0..10, got -1");
  EXPECT_EQ(parse_error("--publish-retries 11"), "--publish-retries must be in 0..10, got 11");
  EXPECT_EQ(parse_error("--failover-after 1001"), "--failover-after must be in 0..1000, got 1001");
  EXPECT_EQ(parse_error("--dedupe-window 1000001"), "--dedupe-window must be in 0..1000000, got 1000001");
  EXPECT_NE(parse_error("--dedupe-window 99999999999999"), "accepted") << "overflows int";
  EXPECT_NE(parse_error("--max-pings-out two"), "accepted");
}

TEST(ProbeFlagsTest, TheBoundsThemselvesAreAccepted) {
  EXPECT_EQ(parse_error("--ping-interval 100ms --max-pings-out 1 --publish-retries 10 --failover-after 1000 "
                        "--dedupe-window 1000000"),
            "accepted");
  EXPECT_EQ(parse_error("--ping-interval 10m --max-pings-out 100 --servers a:1,b:2 --first-server 2"), "accepted");
}

TEST(ProbeFlagsTest, ConfigInfoCarriesEveryOptionWithNormalisedDurations) {
  ProbeFlags flags;
  ASSERT_TRUE(parse_flags("--servers a:1,b:2,c:3 --first-server 3 --ping-interval 120s --ack-timeout 1500ms "
                          "--publish-retries 2 --failover-after 4 --dedupe-window 1000",
                          flags)
                  .ok());
  metrics::Registry registry;
  export_config_info(registry, config_info_labels(flags));
  EXPECT_NE(metrics::serialize_text(registry).find(
                "chaos_probe_config_info{first_server=\"3\",randomize_servers=\"false\",ping_interval=\"2m\","
                "max_pings_out=\"2\",publish_retries=\"2\",failover_after=\"4\",dedupe_window=\"1000\","
                "ack_timeout=\"1.5s\"} 1\n"),
            std::string::npos)
      << metrics::serialize_text(registry);
}

}  // namespace
}  // namespace chaos::lab::probe
