// [lab] and [finding] (issue 23): accepted, kept in the model, and refused
// with file:line:col when malformed.
#include "orchestrator/experiment/experiment_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using test_support::TempDir;

// Lines 1-15; a tail starting "\n[table]" puts [table] on line 17.
const char* kFindingBase = R"([experiment]
title = "stranded client"

[prometheus]
url = "http://127.0.0.1:19090"

[[steady_state]]
name = "ok"
query = "up"
comparator = ">="
threshold = 1

[[method]]
kind = "wait"
duration = "1s"
)";

class FindingLoaderTest : public ::testing::Test {
 protected:
  StatusOr<Experiment> load(const std::string& tail) {
    LoadOptions options;
    options.resolve_agents = false;
    return load_experiment(dir_.write("exp.toml", std::string(kFindingBase) + tail), options);
  }
  std::string errors(const std::string& tail) {
    auto experiment = load(tail);
    EXPECT_FALSE(experiment.ok());
    return experiment.ok() ? "" : experiment.status().message();
  }
  std::string file() const { return dir_.path() + "/exp.toml"; }
  TempDir dir_;
};

TEST_F(FindingLoaderTest, WithoutTheTablesNothingChanges) {
  auto experiment = load("");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_TRUE(experiment->lab.probe_flags.empty());
  EXPECT_FALSE(experiment->finding.has_value());
}

TEST_F(FindingLoaderTest, LabAndFindingAreKeptAsWritten) {
  dir_.write("twin.toml", "# the remedied twin\n");
  auto experiment = load(R"(
[lab]
probe_flags = ["--first-server", "3", "--ping-interval", "2m"]

[finding]
observed = "the client stayed on a dead server for 2 minutes"
mechanism = "ping_interval 2m x max_pings_out 2"
remedy = "--ping-interval 1s"
remedied_by = "twin.toml"
)");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->lab.probe_flags,
            (std::vector<std::string>{"--first-server", "3", "--ping-interval", "2m"}));
  ASSERT_TRUE(experiment->finding.has_value());
  EXPECT_EQ(experiment->finding->observed, "the client stayed on a dead server for 2 minutes");
  EXPECT_EQ(experiment->finding->mechanism, "ping_interval 2m x max_pings_out 2");
  EXPECT_EQ(experiment->finding->remedy, "--ping-interval 1s");
  EXPECT_EQ(experiment->finding->remedied_by, "twin.toml");
}

TEST_F(FindingLoaderTest, WindowsLineEndsInAFindingAreKeptAndALoneCarriageReturnIsRefused) {
  auto experiment = load("\n[finding]\nobserved = \"first line\\r\\nsecond line\"\nremedy = \"r\"\n");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->finding->observed, "first line\r\nsecond line");
  auto written_on_windows =
      load("\r\n[finding]\r\nobserved = \"\"\"\r\nfirst line\r\nsecond line\"\"\"\r\nremedy = \"r\"\r\n");
  ASSERT_TRUE(written_on_windows.ok()) << written_on_windows.status().message();
  EXPECT_THAT(written_on_windows->finding->observed, HasSubstr("second line"));
  EXPECT_THAT(errors("\n[finding]\nobserved = \"overwritten\\rby this\"\nremedy = \"r\"\n"),
              HasSubstr(":18:12: finding.observed: holds a control character (U+000D at byte 11)"));
}

TEST_F(FindingLoaderTest, RemedyIsRequiredInFinding) {
  const std::string message = errors("\n[finding]\nobserved = \"x\"\n");
  EXPECT_THAT(message, HasSubstr(file() + ":17:1: finding: missing required key 'remedy'"));
}

TEST_F(FindingLoaderTest, EmptyRemedyIsRefused) {
  EXPECT_THAT(errors("\n[finding]\nremedy = \"\"\n"), HasSubstr(file() + ":18:10: finding.remedy: empty"));
}

TEST_F(FindingLoaderTest, RemediedByMustNameAnExistingFile) {
  const std::string message = errors("\n[finding]\nremedy = \"r\"\nremedied_by = \"missing.toml\"\n");
  EXPECT_THAT(message, HasSubstr(file() + ":19:15: finding.remedied_by: 'missing.toml' is not a file"));
  EXPECT_THAT(message, HasSubstr(dir_.path() + "/missing.toml"));
}

TEST_F(FindingLoaderTest, RemediedByIsRelativeToTheExperimentsDirectory) {
  std::filesystem::create_directories(dir_.path() + "/sub");
  dir_.write("sub/twin.toml", "");
  EXPECT_TRUE(load("\n[finding]\nremedy = \"r\"\nremedied_by = \"sub/twin.toml\"\n").ok());
  // A directory is not an experiment file.
  EXPECT_THAT(errors("\n[finding]\nremedy = \"r\"\nremedied_by = \"sub\"\n"),
              HasSubstr(":19:15: finding.remedied_by: 'sub' is not a file"));
}

TEST_F(FindingLoaderTest, UnknownKeysInEitherTableAreRefused) {
  EXPECT_THAT(errors("\n[finding]\nremedy = \"r\"\nremedie_by = \"x\"\n"), HasSubstr(file() + ":19:1:"));
  EXPECT_THAT(errors("\n[finding]\nremedy = \"r\"\nremedie_by = \"x\"\n"), HasSubstr("remedie_by"));
  EXPECT_THAT(errors("\n[lab]\nprobe_flag = [\"--x\"]\n"), HasSubstr(file() + ":18:1:"));
}

TEST_F(FindingLoaderTest, ProbeFlagsMustBeStrings) {
  EXPECT_THAT(errors("\n[lab]\nprobe_flags = \"--first-server 3\"\n"),
              HasSubstr(file() + ":18:15: lab.probe_flags: expected a list of strings, got string"));
  EXPECT_THAT(errors("\n[lab]\nprobe_flags = [\"--first-server\", 3]\n"),
              HasSubstr(file() + ":18:34: lab.probe_flags[1]: expected a string, got integer"));
  EXPECT_THAT(errors("\n[lab]\nprobe_flags = [\"\"]\n"), HasSubstr(":18:16: lab.probe_flags[0] is empty"));
}

TEST_F(FindingLoaderTest, FlagsTheLabSetsForEitherBrokerAreRefusedAsTheLabDoes) {
  // The lab's own rules (lab/probe_flag_rules.h); the broker is not known
  // here, so both brokers' lab-set flags are refused.
  for (const std::string flag : {"--broker", "--queue=other", "--stream", "--servers"}) {
    EXPECT_THAT(errors("\n[lab]\nprobe_flags = [\"--rate\", \"5\", \"" + flag + "\"]\n"),
                HasSubstr(":18:31: lab.probe_flags[2] '" + flag + "' is set by the lab itself"))
        << flag;
  }
  // Broker-only flags the lab does not set are for `lab probe` to judge.
  auto loaded = load("\n[lab]\nprobe_flags = [\"--ack-wait\", \"2s\"]\n");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
}

TEST_F(FindingLoaderTest, HostileSizesAreRefused) {
  std::string many = "\n[lab]\nprobe_flags = [";
  for (int i = 0; i < 33; ++i) many += "\"--x\", ";
  EXPECT_THAT(errors(many + "]\n"), HasSubstr(":18:15: lab.probe_flags has 33 entries, more than 32"));
  const std::string long_flag(257, 'x');
  EXPECT_THAT(errors("\n[lab]\nprobe_flags = [\"" + long_flag + "\"]\n"),
              HasSubstr("lab.probe_flags[0] is 257 bytes, more than 256"));
  EXPECT_THAT(errors("\n[lab]\nprobe_flags = [\"--a\\u0007b\"]\n"),
              HasSubstr("lab.probe_flags[0] contains a control character"));
  const std::string long_text(4097, 'y');
  EXPECT_THAT(errors("\n[finding]\nremedy = \"" + long_text + "\"\n"),
              HasSubstr(":18:10: finding.remedy: 4097 bytes, more than 4096"));
  EXPECT_THAT(errors("\n[finding]\nremedy = \"r\"\nobserved = 3\n"),
              HasSubstr(":19:12: finding.observed: expected a string, got integer"));
}

TEST_F(FindingLoaderTest, FindingTextMayHaveSeveralLines) {
  auto experiment = load("\n[finding]\nremedy = \"\"\"\nline one\n\tline two\"\"\"\n");
  ASSERT_TRUE(experiment.ok()) << experiment.status().message();
  EXPECT_EQ(experiment->finding->remedy, "line one\n\tline two");
}

}  // namespace
}  // namespace chaos::orchestrator
