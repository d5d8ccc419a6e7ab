#include "orchestrator/suite/suite_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using test_support::TempDir;

TEST(SuiteLoader, ReadsTheSuiteAndResolvesPathsAgainstTheSuiteFile) {
  TempDir dir;
  const std::string path = dir.write("game-day.toml", R"(
[suite]
title = "Weekly game day"
settle_timeout = "90s"
settle_interval = "2s"
fail_fast = true

[[run]]
file = "a.toml"

[[run]]
file = "/abs/b.toml"
inventory = "inv.toml"
prometheus = "http://127.0.0.1:9090"
settle_timeout = "3m"
)");
  auto suite = load_suite(path);
  ASSERT_TRUE(suite.ok()) << suite.status().message();
  EXPECT_EQ(suite->title, "Weekly game day");
  EXPECT_EQ(suite->settle_timeout, 90s);
  EXPECT_EQ(suite->settle_interval, 2s);
  EXPECT_TRUE(suite->fail_fast);
  ASSERT_EQ(suite->entries.size(), 2u);
  EXPECT_EQ(suite->entries[0].file, dir.path() + "/a.toml");
  EXPECT_FALSE(suite->entries[0].settle_timeout.has_value());
  EXPECT_EQ(suite->entries[1].file, "/abs/b.toml");
  EXPECT_EQ(suite->entries[1].inventory, dir.path() + "/inv.toml");
  EXPECT_EQ(suite->entries[1].prometheus, "http://127.0.0.1:9090");
  EXPECT_EQ(suite->entries[1].settle_timeout, std::chrono::nanoseconds(3min));
  EXPECT_TRUE(is_suite_file(path));
}

TEST(SuiteLoader, ReportsEveryMistakeWithFileLineAndColumn) {
  TempDir dir;
  const std::string path = dir.write("bad.toml", R"([suite]
settle_interval = "10ms"
settle_timeout = "2h"

[[run]]
files = "a.toml"
)");
  auto suite = load_suite(path);
  ASSERT_FALSE(suite.ok());
  const std::string errors = suite.status().message();
  EXPECT_THAT(errors, HasSubstr(path + ":2:19: suite.settle_interval: must be at least 100ms"));
  EXPECT_THAT(errors, HasSubstr(path + ":3:18: suite.settle_timeout: must be at most"));
  EXPECT_THAT(errors, HasSubstr("run[0]: missing required key 'file'"));
  EXPECT_THAT(errors, HasSubstr(path + ":6:1: run[0]: unknown key 'files'"));
}

TEST(SuiteLoader, AnExperimentFileIsNotASuite) {
  TempDir dir;
  EXPECT_FALSE(is_suite_file(dir.write("experiment.toml", "[experiment]\ntitle = \"x\"\n")));
  EXPECT_FALSE(is_suite_file(dir.write("broken.toml", "[suite\n")));
  EXPECT_FALSE(is_suite_file(dir.path() + "/missing.toml"));
}

TEST(SuiteLoader, FilesOnTheCommandLineAreASuiteWithDefaults) {
  const Suite suite = suite_of_files({"a.toml", "b.toml"});
  ASSERT_EQ(suite.entries.size(), 2u);
  EXPECT_EQ(suite.entries[1].file, "b.toml");
  EXPECT_FALSE(suite.fail_fast);
  EXPECT_EQ(suite.settle_timeout, kSuiteDefaultSettleTimeout);
}

}  // namespace
}  // namespace chaos::orchestrator
