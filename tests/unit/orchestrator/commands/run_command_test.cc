// `chaosctl run` in process: which argument lists run one experiment as
// before and which run a suite, and the usage errors (dry runs only:
// nothing is injected).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/exit_codes.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test_support::TempDir;

const char* kRunCommandInventory = R"([[agents]]
address = "127.0.0.1:9700"
node = "n1"
labels = { role = "broker" }
)";

std::string run_command_experiment(const std::string& title) {
  return "[experiment]\ntitle = \"" + title + R"("

[prometheus]
url = "http://127.0.0.1:19090"

[agents]
inventory = "inventory.toml"

[[steady_state]]
name = "ok"
query = "up"
comparator = ">="
threshold = 1

[[method]]
name = "kill"
kind = "process.kill"
duration = "5s"
params = { name = "nats-server" }
targets = { labels = { role = "broker" } }
)";
}

struct RunCommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

RunCommandResult chaosctl_run(std::vector<std::string> args) {
  CLI::App app{"chaosctl"};
  int exit_code = -1;
  add_run_command(app, exit_code);
  args.insert(args.begin(), {"chaosctl", "run"});
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  RunCommandResult result;
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& error) {
    exit_code = kExitUsage;  // as chaosctl's main turns a bad flag into 4
    std::cerr << error.what() << "\n";
  }
  result.out = ::testing::internal::GetCapturedStdout();
  result.err = ::testing::internal::GetCapturedStderr();
  result.exit_code = exit_code;
  return result;
}

class RunCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("inventory.toml", kRunCommandInventory);
    a_ = dir_.write("a.toml", run_command_experiment("Experiment A"));
    b_ = dir_.write("b.toml", run_command_experiment("Experiment B"));
  }
  TempDir dir_;
  std::string a_, b_;
};

TEST_F(RunCommandTest, OneExperimentFileRunsAsBefore) {
  const auto result = chaosctl_run({a_, "--dry-run"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("Experiment A"));
  EXPECT_THAT(result.out, Not(HasSubstr("experiment 1/1")));
}

TEST_F(RunCommandTest, SeveralFilesRunAsASuite) {
  const auto result = chaosctl_run({a_, b_, "--dry-run"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("experiment 2/2:"));
}

TEST_F(RunCommandTest, AFileWithASuiteTableIsASuite) {
  const std::string suite = dir_.write("game-day.toml", "[suite]\n[[run]]\nfile = \"a.toml\"\n[[run]]\nfile = \"b.toml\"\n");
  for (const auto& args : {std::vector<std::string>{suite, "--dry-run"},
                          std::vector<std::string>{"--suite", suite, "--dry-run"}}) {
    const auto result = chaosctl_run(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("experiment 2/2:"));
    EXPECT_THAT(result.out, HasSubstr("Experiment B"));
  }
}

// Every experiment is loaded before anything runs; one that does not load
// stops the suite with its file:line:col error.
TEST_F(RunCommandTest, ASuiteWithAnExperimentThatDoesNotLoadIsAnErrorBeforeAnythingRuns) {
  const std::string broken = dir_.write("broken.toml", "[experiment]\ntitel = \"x\"\n");
  const auto result = chaosctl_run({a_, broken});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_THAT(result.err, HasSubstr(broken + ":2:1"));
  EXPECT_THAT(result.out, Not(HasSubstr("experiment 1/2")));
}

TEST_F(RunCommandTest, NoExperimentOrFilesAndASuiteTogetherAreUsageErrors) {
  EXPECT_EQ(chaosctl_run({}).exit_code, 4);
  EXPECT_EQ(chaosctl_run({a_, "--suite", a_}).exit_code, 4);
  EXPECT_EQ(chaosctl_run({a_, b_, "--settle-timeout", "forever"}).exit_code, 4);
  // Refused for one file too, not silently ignored.
  EXPECT_EQ(chaosctl_run({a_, "--dry-run", "--settle-timeout", "forever"}).exit_code, 4);
}

TEST_F(RunCommandTest, AMissingSuiteEntryIsNamedByTheSuiteFileAndItsIndex) {
  const std::string suite = dir_.write("game-day.toml", "[suite]\n[[run]]\nfile = \"a.toml\"\n[[run]]\nfile = \"gone.toml\"\n");
  const auto result = chaosctl_run({suite, "--dry-run"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_THAT(result.err, HasSubstr(suite + ": run[1] (" + dir_.path() + "/gone.toml)")) << result.err;
}

// An earlier run's report is evidence: a --report-dir holding one is refused
// before anything is loaded or sent, for one file and for a suite, unless
// --replace-report says to write over it.
TEST_F(RunCommandTest, AReportDirHoldingAnEarlierReportIsRefusedUnlessToldToReplaceIt) {
  const std::string reports = dir_.path() + "/reports";
  std::filesystem::create_directories(reports + "/02-experiment-b");
  const std::string journal = dir_.write("reports/02-experiment-b/journal.json", "{\"earlier\": true}");
  for (const auto& args : {std::vector<std::string>{a_, "--dry-run", "--report-dir", reports},
                           std::vector<std::string>{a_, b_, "--dry-run", "--report-dir", reports}}) {
    const auto refused = chaosctl_run(args);
    EXPECT_EQ(refused.exit_code, kExitUsage) << refused.err;
    EXPECT_THAT(refused.err,
                HasSubstr("--report-dir " + reports + " already holds an earlier run's report (" + journal + ")"));
    EXPECT_THAT(refused.err, HasSubstr("--replace-report"));
    EXPECT_THAT(refused.out, Not(HasSubstr("Experiment A")));
    auto replacing = args;
    replacing.push_back("--replace-report");
    const auto replaced = chaosctl_run(replacing);
    EXPECT_EQ(replaced.exit_code, kExitOk) << replaced.err;
    EXPECT_THAT(replaced.out, HasSubstr("Experiment A"));
  }
  std::ifstream in(journal);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "{\"earlier\": true}");
}

TEST_F(RunCommandTest, AReportDirThatDoesNotExistOrHoldsNoReportIsWritten) {
  EXPECT_EQ(chaosctl_run({a_, "--dry-run", "--report-dir", dir_.path() + "/new/reports"}).exit_code, kExitOk);
  std::filesystem::create_directories(dir_.path() + "/state");
  dir_.write("state/history.sqlite", "");
  EXPECT_EQ(chaosctl_run({a_, "--dry-run", "--report-dir", dir_.path() + "/state"}).exit_code, kExitOk);
  const auto file = chaosctl_run({a_, "--dry-run", "--report-dir", a_});
  EXPECT_EQ(file.exit_code, kExitUsage);
  EXPECT_THAT(file.err, HasSubstr(a_ + " exists and is not a directory"));
}

}  // namespace
}  // namespace chaos::orchestrator
