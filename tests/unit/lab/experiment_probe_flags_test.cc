#include "lab/experiment_probe_flags.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace chaos::lab {
namespace {

std::string probe_flags_experiment(const std::string& name, const std::string& text) {
  const std::string path = test_support::process_scratch_dir() + "/" + name + ".toml";
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

StatusOr<std::vector<std::string>> read_for_nats(const std::string& path) {
  return read_experiment_probe_flags(path, "nats");
}

const std::string kProbeFlagsHead = "title = \"t\"\n[steady_state]\nquery = \"up\"\n";

TEST(ExperimentProbeFlagsTest, ReadsProbeFlagsOfTheLabTable) {
  const auto path = probe_flags_experiment(
      "flags-good", kProbeFlagsHead + "[lab]\nprobe_flags = [\"--first-server\", \"3\", \"--ping-interval\", \"2m\"]\n");
  auto flags = read_experiment_probe_flags(path, "nats");
  ASSERT_TRUE(flags.ok()) << flags.status().message();
  EXPECT_EQ(*flags, (std::vector<std::string>{"--first-server", "3", "--ping-interval", "2m"}));
}

TEST(ExperimentProbeFlagsTest, NoLabTableIsTheStandardProbe) {
  auto flags = read_for_nats(probe_flags_experiment("flags-none", kProbeFlagsHead));
  ASSERT_TRUE(flags.ok()) << flags.status().message();
  EXPECT_TRUE(flags->empty());
  auto empty_table = read_for_nats(probe_flags_experiment("flags-empty", kProbeFlagsHead + "[lab]\n"));
  ASSERT_TRUE(empty_table.ok());
  EXPECT_TRUE(empty_table->empty());
}

TEST(ExperimentProbeFlagsTest, IgnoresEverythingOutsideTheLabTable) {
  // Other helpers validate the rest of an experiment; a key unknown to them is not ours to judge.
  const auto path = probe_flags_experiment("flags-other", "whatever = [1, 2]\n[finding]\nremedy = \"r\"\n");
  EXPECT_TRUE(read_experiment_probe_flags(path, "nats").ok());
}

TEST(ExperimentProbeFlagsTest, WrongTypesNameFileAndLine) {
  const auto not_list = probe_flags_experiment("flags-string", kProbeFlagsHead + "[lab]\nprobe_flags = \"--x\"\n");
  Status status = read_experiment_probe_flags(not_list, "nats").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(not_list + ":5:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("lab.probe_flags: expected a list of strings"), std::string::npos);

  const auto numbers = probe_flags_experiment("flags-numbers", kProbeFlagsHead + "[lab]\nprobe_flags = [\"--x\", 3]\n");
  status = read_experiment_probe_flags(numbers, "nats").status();
  EXPECT_NE(status.message().find(numbers + ":5:"), std::string::npos) << status.message();

  const auto lab_value = probe_flags_experiment("flags-lab-value", "lab = 3\n");
  status = read_experiment_probe_flags(lab_value, "nats").status();
  EXPECT_NE(status.message().find(lab_value + ":1:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("lab: expected a table, got integer"), std::string::npos);
}

TEST(ExperimentProbeFlagsTest, UnknownKeyInLabTableIsAnError) {
  const auto path = probe_flags_experiment("flags-unknown", kProbeFlagsHead + "[lab]\nprobe_flags = []\nprobe_flag = [\"--x\"]\n");
  const Status status = read_experiment_probe_flags(path, "nats").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(path + ":6:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("probe_flag"), std::string::npos);
}

TEST(ExperimentProbeFlagsTest, FlagsTheLabSetsItselfAreRefused) {
  for (const std::string flag : {"--servers", "--stream=X", "--subject", "--consumer", "--metrics-listen=1.2.3.4:5"}) {
    const auto path = probe_flags_experiment("flags-reserved",
                                             kProbeFlagsHead + "[lab]\nprobe_flags = [\"--rate\", \"5\", \"" + flag + "\"]\n");
    const Status status = read_experiment_probe_flags(path, "nats").status();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << flag;
    EXPECT_NE(status.message().find(path + ":5:"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("lab.probe_flags[2] '" + flag + "' is set by the lab itself"), std::string::npos)
        << status.message();
    EXPECT_FALSE(check_probe_flags({"--rate", "5", flag}, "nats", "lab probe").ok()) << flag;
  }
  // A value that merely contains a reserved name is fine.
  EXPECT_TRUE(check_probe_flags({"--ack-timeout", "3s", "--serversX"}, "nats", "lab probe").ok());
}

TEST(ExperimentProbeFlagsTest, TheLabsBrokerDecidesWhichFlagsItSetsAndWhichAreForeign) {
  // --broker and --queue are the lab's on a RabbitMQ lab: an extra --queue
  // would make the queue_leader label follow a queue the probe does not use.
  for (const std::string flag : {"--broker", "--queue", "--queue=other", "--servers"}) {
    const auto path = probe_flags_experiment("flags-rabbitmq-set",
                                             kProbeFlagsHead + "[lab]\nprobe_flags = [\"--rate\", \"5\", \"" + flag + "\"]\n");
    const Status status = read_experiment_probe_flags(path, "rabbitmq").status();
    EXPECT_NE(status.message().find(path + ":5:"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("lab.probe_flags[2] '" + flag + "' is set by the lab itself (the lab sets "
                                    "--broker, --servers, --queue and --metrics-listen for rabbitmq)"),
              std::string::npos)
        << status.message();
    EXPECT_FALSE(check_probe_flags({flag}, "rabbitmq", "lab probe").ok()) << flag;
  }
  // NATS-only flags on a RabbitMQ lab, and --queue on a NATS lab.
  for (const std::string flag : {"--stream", "--ack-wait=2s", "--max-pings-out", "--consumer"}) {
    const auto path = probe_flags_experiment("flags-rabbitmq-foreign",
                                             kProbeFlagsHead + "[lab]\nprobe_flags = [\"" + flag + "\"]\n");
    const Status status = read_experiment_probe_flags(path, "rabbitmq").status();
    EXPECT_NE(status.message().find(path + ":5:"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("lab.probe_flags[0] '" + flag + "' is a NATS-only flag, and the lab runs rabbitmq"),
              std::string::npos)
        << status.message();
  }
  const Status queue_on_nats = check_probe_flags({"--rate", "5", "--queue", "q"}, "nats", "lab probe");
  EXPECT_NE(queue_on_nats.message().find("lab probe: probe flag 3 '--queue' is a RabbitMQ-only flag, and the lab "
                                         "runs nats"),
            std::string::npos)
      << queue_on_nats.message();
  // Broker-neutral flags and NATS-only ones the lab does not set pass on NATS.
  EXPECT_TRUE(check_probe_flags({"--ack-wait", "2s", "--max-pings-out", "3"}, "nats", "lab probe").ok());
  EXPECT_TRUE(check_probe_flags({"--ping-interval", "2s", "--publish-retries=2"}, "rabbitmq", "lab probe").ok());
  const Status broker_on_nats = check_probe_flags({"--broker=rabbitmq"}, "nats", "lab probe");
  EXPECT_NE(broker_on_nats.message().find("is set by the lab itself (the lab sets --broker, --servers, --stream, "
                                          "--subject, --replicas, --consumer and --metrics-listen for nats)"),
            std::string::npos)
      << broker_on_nats.message();
}

TEST(ExperimentProbeFlagsTest, OversizedManyOrControlCharacterFlagsAreRefused) {
  EXPECT_FALSE(check_probe_flags({std::string(kMaxProbeFlagLength + 1, 'x')}, "nats", "lab probe").ok());
  EXPECT_TRUE(check_probe_flags({std::string(kMaxProbeFlagLength, 'x')}, "nats", "lab probe").ok());
  EXPECT_FALSE(check_probe_flags(std::vector<std::string>(kMaxProbeFlags + 1, "-v"), "nats", "lab probe").ok());
  EXPECT_TRUE(check_probe_flags(std::vector<std::string>(kMaxProbeFlags, "-v"), "nats", "lab probe").ok());
  EXPECT_FALSE(check_probe_flags({"--rate\n5"}, "nats", "lab probe").ok());
  std::string many = "[lab]\nprobe_flags = [";
  for (std::size_t i = 0; i <= kMaxProbeFlags; ++i) many += "\"-v\", ";
  const auto path = probe_flags_experiment("flags-many", many + "]\n");
  const Status status = read_experiment_probe_flags(path, "nats").status();
  EXPECT_NE(status.message().find(path + ":2:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("more than 32"), std::string::npos) << status.message();
}

TEST(ExperimentProbeFlagsTest, MalformedTomlAndMissingFileAreErrors) {
  EXPECT_FALSE(read_for_nats(probe_flags_experiment("flags-broken", "[lab\n")).ok());
  EXPECT_FALSE(read_for_nats(test_support::process_scratch_dir() + "/no-such-experiment.toml").ok());
}

LabLayout probe_flags_layout(const std::string& name) {
  LabParams params;
  params.state_dir = test_support::process_scratch_dir() + "/" + name;
  std::filesystem::remove_all(params.state_dir);
  std::filesystem::create_directories(params.state_dir + "/run");
  return *LabLayout::create(params);
}

TEST(ExperimentProbeFlagsTest, StoreRoundTrip) {
  const auto layout = probe_flags_layout("flags-store");
  auto nothing = load_probe_flags(layout);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
  const std::vector<std::string> flags = {"--ping-interval", "2s", "--label=\"quoted\" \\ value", ""};
  ASSERT_TRUE(save_probe_flags(layout, flags).ok());
  auto loaded = load_probe_flags(layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(*loaded, flags);
  ASSERT_TRUE(save_probe_flags(layout, {}).ok());
  EXPECT_TRUE(load_probe_flags(layout)->empty());
  EXPECT_FALSE(std::filesystem::exists(probe_flags_path(layout) + ".tmp"));
}

TEST(ExperimentProbeFlagsTest, CorruptStoreIsAnErrorNamingTheFile) {
  const auto layout = probe_flags_layout("flags-corrupt");
  for (const std::string text : {"not json", "{\"probe_flags\": [1]}", "[\"--x\"]"}) {
    std::ofstream(probe_flags_path(layout), std::ios::trunc) << text;
    const auto loaded = load_probe_flags(layout);
    EXPECT_EQ(loaded.status().code(), StatusCode::kInternal) << text;
    EXPECT_NE(loaded.status().message().find(probe_flags_path(layout)), std::string::npos);
  }
}

TEST(ExperimentProbeFlagsTest, DescribesFlagsForProgressLines) {
  EXPECT_EQ(describe_probe_flags({}), "(none: the standard probe)");
  EXPECT_EQ(describe_probe_flags({"--ping-interval", "2s"}), "--ping-interval 2s");
}

}  // namespace
}  // namespace chaos::lab
