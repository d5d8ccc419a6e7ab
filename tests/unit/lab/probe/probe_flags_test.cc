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
                "chaos_probe_config_info{broker=\"nats\",first_server=\"3\",randomize_servers=\"false\",ping_interval=\"2m\","
                "max_pings_out=\"2\",publish_retries=\"2\",failover_after=\"4\",dedupe_window=\"1000\","
                "ack_timeout=\"1.5s\"} 1\n"),
            std::string::npos)
      << metrics::serialize_text(registry);
}

TEST(ProbeFlagsTest, BrokerDefaultsToNatsAndPicksItsDefaultServer) {
  ProbeFlags nats;
  ASSERT_TRUE(parse_flags("", nats).ok());
  EXPECT_EQ(nats.broker, Broker::kNats);
  EXPECT_EQ(nats.session.servers, (std::vector<std::string>{"nats://127.0.0.1:4222"}));
  ProbeFlags rabbit;
  ASSERT_TRUE(parse_flags("--broker rabbitmq", rabbit).ok());
  EXPECT_EQ(rabbit.broker, Broker::kRabbitMq);
  EXPECT_EQ(rabbit.session.servers, (std::vector<std::string>{"amqp://guest:guest@127.0.0.1:5672"}));
  EXPECT_EQ(rabbit.queue, "chaos-probe");
  EXPECT_NE(parse_error("--broker kafka"), "accepted");
}

TEST(ProbeFlagsTest, RabbitMqServersAreValidatedNamingTheBadEntry) {
  ProbeFlags flags;
  ASSERT_TRUE(parse_flags("--broker rabbitmq --servers amqp://u:p@a:5672,amqp://u:p@b:5673,amqp://u:p@c "
                          "--first-server 2 --queue q1",
                          flags)
                  .ok());
  EXPECT_EQ(flags.session.servers,
            (std::vector<std::string>{"amqp://u:p@b:5673", "amqp://u:p@c", "amqp://u:p@a:5672"}));
  EXPECT_EQ(flags.queue, "q1");
  EXPECT_EQ(parse_error("--broker rabbitmq --servers amqp://u:p@a:5672,nats://b:4222"),
            "--servers: 'nats://b:4222' must start with amqp:// (amqps is not supported)");
  EXPECT_EQ(parse_error("--broker rabbitmq --servers amqp://a:5672"),
            "--servers: 'amqp://a:5672' has no USER:PASS@ (the user and password are required)");
  EXPECT_EQ(parse_error("--broker rabbitmq --servers amqp://u:p@a:70000"),
            "--servers: 'amqp://u:***@a:70000' has a bad port '70000' (1..65535)");
  EXPECT_EQ(parse_error("--broker rabbitmq --servers amqp://u:s3cret@a:70000").find("s3cret"), std::string::npos)
      << "the password stays out of the message";
}

TEST(ProbeFlagsTest, TheOtherBrokersFlagsAreRefusedByName) {
  EXPECT_EQ(parse_error("--broker rabbitmq --stream S"), "--stream is NATS only, not for --broker rabbitmq");
  EXPECT_EQ(parse_error("--broker rabbitmq --subject s"), "--subject is NATS only, not for --broker rabbitmq");
  EXPECT_EQ(parse_error("--broker rabbitmq --replicas 3"), "--replicas is NATS only, not for --broker rabbitmq");
  EXPECT_EQ(parse_error("--broker rabbitmq --consumer c"), "--consumer is NATS only, not for --broker rabbitmq");
  EXPECT_EQ(parse_error("--broker rabbitmq --ack-wait 5s"), "--ack-wait is NATS only, not for --broker rabbitmq");
  EXPECT_EQ(parse_error("--broker rabbitmq --max-pings-out 2"),
            "--max-pings-out is NATS only, not for --broker rabbitmq");
  EXPECT_EQ(parse_error("--queue q"), "--queue is RabbitMQ only, not for --broker nats");
  EXPECT_EQ(parse_error("--broker nats --queue q"), "--queue is RabbitMQ only, not for --broker nats");
}

TEST(ProbeFlagsTest, SharedFlagsCarryOverToRabbitMq) {
  ProbeFlags flags;
  ASSERT_TRUE(parse_flags("--broker rabbitmq --ack-timeout 3s --publish-retries 2 --failover-after 5 "
                          "--dedupe-window 100 --randomize-servers --loss-grace 4s --ping-interval 2s",
                          flags)
                  .ok());
  EXPECT_EQ(flags.settings.ack_timeout, std::chrono::seconds(3));
  EXPECT_EQ(flags.settings.publish_retries, 2);
  EXPECT_EQ(flags.settings.failover_after, 5);
  EXPECT_EQ(flags.settings.dedupe_window, 100);
  EXPECT_TRUE(flags.session.randomize);
  EXPECT_EQ(flags.settings.loss_grace, std::chrono::seconds(4)) << "no --ack-wait bound for RabbitMQ";
  EXPECT_EQ(flags.session.ping_interval, std::chrono::seconds(2));
  EXPECT_EQ(config_info_labels(flags).front(), (std::pair<std::string, std::string>{"broker", "rabbitmq"}));
}

TEST(ProbeFlagsTest, RabbitMqHeartbeatIsWholeSeconds) {
  EXPECT_EQ(parse_error("--broker rabbitmq --ping-interval 500ms"),
            "--ping-interval is the AMQP heartbeat with --broker rabbitmq: whole seconds from 1s, got 500ms");
  EXPECT_EQ(parse_error("--broker rabbitmq --ping-interval 1500ms"),
            "--ping-interval is the AMQP heartbeat with --broker rabbitmq: whole seconds from 1s, got 1500ms");
  EXPECT_EQ(parse_error("--broker nats --ping-interval 500ms"), "accepted");
  EXPECT_EQ(parse_error("--broker rabbitmq --rate 0.5 --ping-interval 1s"),
            "--ping-interval (the AMQP heartbeat) must be at least the publish interval 1/--rate, got 1s");
  EXPECT_EQ(parse_error("--broker rabbitmq --rate 0.5 --ping-interval 2s"), "accepted");
  EXPECT_EQ(parse_error("--broker rabbitmq --queue " + std::string(256, 'q')), "--queue must be 1..255 bytes");
}

}  // namespace
}  // namespace chaos::lab::probe
