#include "agent/fault_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

class FaultJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("journal-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    journal_ = std::make_unique<FileFaultJournal>(dir_.string());
    ASSERT_TRUE(journal_->open().ok());
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path dir_;
  std::unique_ptr<FileFaultJournal> journal_;
};

JournalEntry pause_entry(const std::string& id) {
  JournalEntry entry;
  entry.fault_id = id;
  entry.kind = "process.pause";
  entry.experiment_id = "exp";
  entry.lease_id = "lease";
  entry.spec.mutable_process_pause()->mutable_target()->set_cmdline_regex("sleep \\d+");
  entry.duration = 30s;
  entry.phase = JournalPhase::kApplied;
  entry.undo = {{"pids", {{{"pid", 42}, {"start_time", 777}}}}};
  entry.recorded_at = WallTime(std::chrono::seconds(1'800'000'000));
  return entry;
}

TEST_F(FaultJournalTest, RoundTripsEveryField) {
  // The journal lives under <state_dir>/journal.
  EXPECT_EQ(journal_->directory(), (dir_ / "journal").string());
  ASSERT_TRUE(journal_->write(pause_entry("f1")).ok());
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_TRUE(contents.corrupt.empty());
  const auto& entry = contents.entries[0];
  EXPECT_EQ(entry.fault_id, "f1");
  EXPECT_EQ(entry.kind, "process.pause");
  EXPECT_EQ(entry.experiment_id, "exp");
  EXPECT_EQ(entry.lease_id, "lease");
  EXPECT_EQ(entry.spec.process_pause().target().cmdline_regex(), "sleep \\d+");
  EXPECT_EQ(entry.duration, 30s);
  EXPECT_EQ(entry.phase, JournalPhase::kApplied);
  EXPECT_EQ(entry.undo["pids"][0]["start_time"], 777);
  EXPECT_EQ(entry.recorded_at, WallTime(std::chrono::seconds(1'800'000'000)));
}

TEST_F(FaultJournalTest, RewriteReplacesAndRemoveIsIdempotent) {
  auto entry = pause_entry("f1");
  entry.phase = JournalPhase::kApplying;
  entry.undo = nullptr;
  ASSERT_TRUE(journal_->write(entry).ok());
  ASSERT_TRUE(journal_->write(pause_entry("f1")).ok());
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].phase, JournalPhase::kApplied);
  EXPECT_TRUE(journal_->remove("f1").ok());
  EXPECT_TRUE(journal_->remove("f1").ok());
  EXPECT_TRUE(journal_->load_all()->entries.empty());
}

TEST_F(FaultJournalTest, CorruptFilesAreSetAsideAndListedUntilRemoved) {
  ASSERT_TRUE(journal_->write(pause_entry("good")).ok());
  std::ofstream(dir_ / "journal" / "bad.json") << "{\"fault_id\": ";
  std::ofstream(dir_ / "journal" / "half.json.tmp") << "{";
  std::ofstream(dir_ / "journal" / "wrongphase.json")
      << R"({"fault_id":"w","kind":"process.kill","phase":"maybe","spec":{}})";
  std::ofstream(dir_ / "journal" / "Not_An-Id.json") << "[";
  auto contents = journal_->load_all().value();
  EXPECT_EQ(contents.entries.size(), 1u);
  ASSERT_EQ(contents.corrupt.size(), 3u);
  EXPECT_EQ(contents.corrupt[0].fault_id, "");  // Not_An-Id: never used to name kernel objects
  EXPECT_EQ(contents.corrupt[1].fault_id, "bad");
  EXPECT_EQ(contents.corrupt[1].path, (dir_ / "journal" / "bad.json.corrupt").string());
  EXPECT_EQ(contents.corrupt[2].fault_id, "wrongphase");
  EXPECT_TRUE(std::filesystem::exists(dir_ / "journal" / "bad.json.corrupt"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "journal" / "half.json.tmp"));
  auto again = journal_->load_all().value();
  ASSERT_EQ(again.corrupt.size(), 3u) << "set aside, but still not reverted: listed at every start";
  EXPECT_EQ(again.corrupt[1].fault_id, "bad");
  ASSERT_TRUE(journal_->remove_corrupt(again.corrupt[1].path).ok());
  EXPECT_EQ(journal_->load_all()->corrupt.size(), 2u);
}

TEST_F(FaultJournalTest, AJournalThatCannotBeListedIsAnErrorNotAnEmptyJournal) {
  ASSERT_TRUE(journal_->write(pause_entry("f1")).ok());
  std::filesystem::remove_all(dir_ / "journal");
  std::ofstream(dir_ / "journal") << "not a directory";
  auto contents = journal_->load_all();
  ASSERT_FALSE(contents.ok()) << "an unreadable journal passed for a clean node";
  EXPECT_NE(contents.status().message().find("cannot list " + (dir_ / "journal").string()), std::string::npos)
      << contents.status().message();
}

TEST(FaultJournal, OpenFailsOnAnUnwritableStateDir) {
  FileFaultJournal journal("/proc/chaos-cannot-exist");
  EXPECT_FALSE(journal.open().ok());
}

}  // namespace
}  // namespace chaos::agent
