#include "lab/experiment_probe_flags.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace chaos::lab {
namespace {

std::string probe_flags_experiment(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name + ".toml";
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

const std::string kProbeFlagsHead = "title = \"t\"\n[steady_state]\nquery = \"up\"\n";

TEST(ProbeFlagsTest, ReadsProbeFlagsOfTheLabTable) {
  const auto path = probe_flags_experiment(
      "flags-good", kProbeFlagsHead + "[lab]\nprobe_flags = [\"--first-server\", \"3\", \"--ping-interval\", \"2m\"]\n");
  auto flags = read_experiment_probe_flags(path);
  ASSERT_TRUE(flags.ok()) << flags.status().message();
  EXPECT_EQ(*flags, (std::vector<std::string>{"--first-server", "3", "--ping-interval", "2m"}));
}

TEST(ProbeFlagsTest, NoLabTableIsTheStandardProbe) {
  auto flags = read_experiment_probe_flags(probe_flags_experiment("flags-none", kProbeFlagsHead));
  ASSERT_TRUE(flags.ok()) << flags.status().message();
  EXPECT_TRUE(flags->empty());
  auto empty_table = read_experiment_probe_flags(probe_flags_experiment("flags-empty", kProbeFlagsHead + "[lab]\n"));
  ASSERT_TRUE(empty_table.ok());
  EXPECT_TRUE(empty_table->empty());
}

TEST(ProbeFlagsTest, IgnoresEverythingOutsideTheLabTable) {
  // Other helpers validate the rest of an experiment; a key unknown to them is not ours to judge.
  const auto path = probe_flags_experiment("flags-other", "whatever = [1, 2]\n[finding]\nremedy = \"r\"\n");
  EXPECT_TRUE(read_experiment_probe_flags(path).ok());
}

TEST(ProbeFlagsTest, WrongTypesNameFileAndLine) {
  const auto not_list = probe_flags_experiment("flags-string", kProbeFlagsHead + "[lab]\nprobe_flags = \"--x\"\n");
  Status status = read_experiment_probe_flags(not_list).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(not_list + ":5:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("lab.probe_flags: expected a list of strings"), std::string::npos);

  const auto numbers = probe_flags_experiment("flags-numbers", kProbeFlagsHead + "[lab]\nprobe_flags = [\"--x\", 3]\n");
  status = read_experiment_probe_flags(numbers).status();
  EXPECT_NE(status.message().find(numbers + ":5:"), std::string::npos) << status.message();

  const auto lab_value = probe_flags_experiment("flags-lab-value", "lab = 3\n");
  status = read_experiment_probe_flags(lab_value).status();
  EXPECT_NE(status.message().find(lab_value + ":1:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("lab: expected a table, got integer"), std::string::npos);
}

TEST(ProbeFlagsTest, UnknownKeyInLabTableIsAnError) {
  const auto path = probe_flags_experiment("flags-unknown", kProbeFlagsHead + "[lab]\nprobe_flags = []\nprobe_flag = [\"--x\"]\n");
  const Status status = read_experiment_probe_flags(path).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(path + ":6:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("probe_flag"), std::string::npos);
}

TEST(ProbeFlagsTest, FlagsTheLabSetsItselfAreRefused) {
  for (const std::string flag : {"--servers", "--stream=X", "--subject", "--consumer", "--metrics-listen=1.2.3.4:5"}) {
    const auto path = probe_flags_experiment("flags-reserved",
                                             kProbeFlagsHead + "[lab]\nprobe_flags = [\"--rate\", \"5\", \"" + flag + "\"]\n");
    const Status status = read_experiment_probe_flags(path).status();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << flag;
    EXPECT_NE(status.message().find(path + ":5:"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("lab.probe_flags[2] '" + flag + "' is set by the lab itself"), std::string::npos)
        << status.message();
    EXPECT_FALSE(check_probe_flags({"--rate", "5", flag}, "lab probe").ok()) << flag;
  }
  // A value that merely contains a reserved name is fine.
  EXPECT_TRUE(check_probe_flags({"--ack-timeout", "3s", "--serversX"}, "lab probe").ok());
}

TEST(ProbeFlagsTest, OversizedManyOrControlCharacterFlagsAreRefused) {
  EXPECT_FALSE(check_probe_flags({std::string(kMaxProbeFlagLength + 1, 'x')}, "lab probe").ok());
  EXPECT_TRUE(check_probe_flags({std::string(kMaxProbeFlagLength, 'x')}, "lab probe").ok());
  EXPECT_FALSE(check_probe_flags(std::vector<std::string>(kMaxProbeFlags + 1, "-v"), "lab probe").ok());
  EXPECT_TRUE(check_probe_flags(std::vector<std::string>(kMaxProbeFlags, "-v"), "lab probe").ok());
  EXPECT_FALSE(check_probe_flags({"--rate\n5"}, "lab probe").ok());
  std::string many = "[lab]\nprobe_flags = [";
  for (std::size_t i = 0; i <= kMaxProbeFlags; ++i) many += "\"-v\", ";
  const auto path = probe_flags_experiment("flags-many", many + "]\n");
  const Status status = read_experiment_probe_flags(path).status();
  EXPECT_NE(status.message().find(path + ":2:"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("more than 32"), std::string::npos) << status.message();
}

TEST(ProbeFlagsTest, MalformedTomlAndMissingFileAreErrors) {
  EXPECT_FALSE(read_experiment_probe_flags(probe_flags_experiment("flags-broken", "[lab\n")).ok());
  EXPECT_FALSE(read_experiment_probe_flags(::testing::TempDir() + "/no-such-experiment.toml").ok());
}

LabLayout probe_flags_layout(const std::string& name) {
  LabParams params;
  params.state_dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(params.state_dir);
  std::filesystem::create_directories(params.state_dir + "/run");
  return *LabLayout::create(params);
}

TEST(ProbeFlagsTest, StoreRoundTrip) {
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

TEST(ProbeFlagsTest, CorruptStoreIsAnErrorNamingTheFile) {
  const auto layout = probe_flags_layout("flags-corrupt");
  for (const std::string text : {"not json", "{\"probe_flags\": [1]}", "[\"--x\"]"}) {
    std::ofstream(probe_flags_path(layout), std::ios::trunc) << text;
    const auto loaded = load_probe_flags(layout);
    EXPECT_EQ(loaded.status().code(), StatusCode::kInternal) << text;
    EXPECT_NE(loaded.status().message().find(probe_flags_path(layout)), std::string::npos);
  }
}

TEST(ProbeFlagsTest, DescribesFlagsForProgressLines) {
  EXPECT_EQ(describe_probe_flags({}), "(none: the standard probe)");
  EXPECT_EQ(describe_probe_flags({"--ping-interval", "2s"}), "--ping-interval 2s");
}

}  // namespace
}  // namespace chaos::lab
