// Every experiment and suite the repository ships (experiments/*.toml,
// experiments/suites/*.toml, experiments/findings/*.toml and the e2e suite's
// tests/e2e/experiments/*.toml) passes `chaosctl validate --offline`; a suite naming a broken experiment
// does not.
// The folders are listed when the test runs, so a new file is covered
// without touching this test.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "orchestrator/commands/commands.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

std::vector<std::filesystem::path> toml_files_in(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// chaosctl's own validate subcommand, in process: its exit code and what it
// printed on stderr (each problem as file:line:col: message).
struct Validation {
  int exit_code = -1;
  std::string problems;
};

Validation validate_offline(const std::string& file) {
  CLI::App app{"chaosctl"};
  int exit_code = -1;
  add_validate_command(app, exit_code);
  const char* argv[] = {"chaosctl", "validate", "--offline", file.c_str()};
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  try {
    app.parse(4, argv);
  } catch (const CLI::ParseError& error) {
    exit_code = -2;
    std::cerr << "arguments: " << error.what() << "\n";
  }
  (void)::testing::internal::GetCapturedStdout();
  return {exit_code, ::testing::internal::GetCapturedStderr()};
}

TEST(ShippedExperiments, EveryExperimentFileValidatesOffline) {
  const char* source = std::getenv("CHAOS_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "CHAOS_SOURCE_DIR is unset (ctest sets it)";
  for (const std::string folder :
       {"experiments", "experiments/suites", "experiments/findings", "tests/e2e/experiments"}) {
    const auto files = toml_files_in(std::filesystem::path(source) / folder);
    EXPECT_FALSE(files.empty()) << "no *.toml in " << folder;
    for (const auto& file : files) {
      const auto result = validate_offline(file.string());
      EXPECT_EQ(result.exit_code, 0) << file.string() << " does not validate:\n" << result.problems;
    }
  }
}

TEST(ShippedExperiments, SuiteWithBrokenExperimentIsInvalidAndNamesIt) {
  test_support::TempDir dir;
  dir.write("broken.toml", "[experiment]\ntitle = 3\n");
  const std::string suite = dir.write("suite.toml", "[suite]\ntitle = \"t\"\n[[run]]\nfile = \"broken.toml\"\n");
  const auto result = validate_offline(suite);
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.problems.find("broken.toml"), std::string::npos) << result.problems;
}

}  // namespace
}  // namespace chaos::orchestrator
