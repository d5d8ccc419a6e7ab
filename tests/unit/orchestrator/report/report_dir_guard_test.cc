// Which --report-dir directories chaosctl writes without being told to
// replace what is there: none that holds a file a run or a suite writes.
#include "orchestrator/report/report_dir_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/temp_dir.h"

namespace chaos::orchestrator::report {
namespace {

using ::testing::HasSubstr;
using test_support::TempDir;

TEST(ReportDirGuard, ADirectoryWithoutReportFilesIsUnused) {
  TempDir dir;
  EXPECT_TRUE(check_report_dir_unused(dir.path()).ok());
  EXPECT_TRUE(check_report_dir_unused(dir.path() + "/not/yet").ok());
  std::filesystem::create_directories(dir.path() + "/notes-1");
  std::filesystem::create_directories(dir.path() + "/1-x");
  dir.write("notes-1/journal.json", "{}");
  dir.write("1-x/journal.json", "{}");
  dir.write("history.sqlite", "");
  dir.write("01-file-not-dir", "");
  EXPECT_TRUE(check_report_dir_unused(dir.path()).ok());
}

TEST(ReportDirGuard, EachFileARunOrASuiteWritesAtTheTopMarksItUsed) {
  for (const char* name : {"journal.json", "junit.xml", "report.html", "index.html"}) {
    TempDir dir;
    const std::string file = dir.write(name, "");
    const Status status = check_report_dir_unused(dir.path());
    EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << name;
    EXPECT_THAT(status.message(), HasSubstr("(" + file + ")"));
  }
}

TEST(ReportDirGuard, ASuiteRunDirectoryWithAJournalMarksItUsed) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/12-kill-one-broker");
  const std::string journal = dir.write("12-kill-one-broker/journal.json", "{}");
  EXPECT_THAT(check_report_dir_unused(dir.path()).message(), HasSubstr("(" + journal + ")"));
}

// A dangling link is still a name the run would write through.
TEST(ReportDirGuard, ADanglingLinkNamedLikeAReportFileMarksItUsed) {
  TempDir dir;
  std::filesystem::create_symlink(dir.path() + "/gone", dir.path() + "/junit.xml");
  EXPECT_FALSE(check_report_dir_unused(dir.path()).ok());
}

}  // namespace
}  // namespace chaos::orchestrator::report
