#include "agent/fault_journal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "agent/journal_record.h"

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
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
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

TEST_F(FaultJournalTest, APageCacheOnlyRecordIsNotSyncedAndIsReadAfterAnAgentCrash) {
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kPageCacheOnly).ok());
  EXPECT_EQ(journal_->record_syncs(), 0u);
  ASSERT_TRUE(journal_->write(pause_entry("f2"), JournalFlush::kToDisk).ok());
  EXPECT_EQ(journal_->record_syncs(), 1u);
  FileFaultJournal after_a_crash(dir_.string());
  ASSERT_TRUE(after_a_crash.open().ok());
  auto contents = after_a_crash.load_all().value();
  ASSERT_EQ(contents.entries.size(), 2u);
  EXPECT_TRUE(contents.corrupt.empty());
}

TEST_F(FaultJournalTest, RewriteReplacesAndRemoveIsIdempotent) {
  auto entry = pause_entry("f1");
  entry.phase = JournalPhase::kApplying;
  entry.undo = nullptr;
  ASSERT_TRUE(journal_->write(entry, JournalFlush::kToDisk).ok());
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].phase, JournalPhase::kApplied);
  EXPECT_TRUE(journal_->remove("f1").ok());
  EXPECT_TRUE(journal_->remove("f1").ok());
  EXPECT_TRUE(journal_->load_all()->entries.empty());
}

TEST_F(FaultJournalTest, CorruptFilesAreSetAsideAndListedUntilRemoved) {
  ASSERT_TRUE(journal_->write(pause_entry("good"), JournalFlush::kToDisk).ok());
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
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
  std::filesystem::remove_all(dir_ / "journal");
  std::ofstream(dir_ / "journal") << "not a directory";
  auto contents = journal_->load_all();
  ASSERT_FALSE(contents.ok()) << "an unreadable journal passed for a clean node";
  EXPECT_NE(contents.status().message().find("cannot list " + (dir_ / "journal").string()), std::string::npos)
      << contents.status().message();
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

ino_t inode_of(const std::filesystem::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(JournalRecord, RoundTripsThroughTheBinaryForm) {
  const std::string record = encode_journal_record(pause_entry("f1")).value();
  const JournalSlotContents read = read_journal_slot(record + std::string(64, '\0'));
  ASSERT_EQ(read.state, JournalSlotContents::State::kEntry) << read.error;
  EXPECT_EQ(read.end, record.size());
  EXPECT_EQ(read.warning, "");
  EXPECT_EQ(read.entry.fault_id, "f1");
  EXPECT_EQ(read.entry.kind, "process.pause");
  EXPECT_EQ(read.entry.experiment_id, "exp");
  EXPECT_EQ(read.entry.lease_id, "lease");
  EXPECT_EQ(read.entry.spec.process_pause().target().cmdline_regex(), "sleep \\d+");
  EXPECT_EQ(read.entry.duration, 30s);
  EXPECT_EQ(read.entry.phase, JournalPhase::kApplied);
  EXPECT_EQ(read.entry.undo["pids"][0]["start_time"], 777);
  EXPECT_EQ(read.entry.recorded_at, WallTime(std::chrono::seconds(1'800'000'000)));
  EXPECT_FALSE(encode_journal_record(pause_entry(std::string(33, 'a'))).ok()) << "an id longer than the header";
}

TEST(JournalRecord, ARecordCutShortAfterTheLastCompleteOneIsSkippedWithAWarning) {
  auto applying = pause_entry("f1");
  applying.phase = JournalPhase::kApplying;
  applying.undo = nullptr;
  const std::string first = encode_journal_record(applying).value();
  const std::string second = encode_journal_record(pause_entry("f1")).value();
  const JournalSlotContents torn = read_journal_slot(first + second.substr(0, second.size() - 5));
  ASSERT_EQ(torn.state, JournalSlotContents::State::kEntry);
  EXPECT_EQ(torn.entry.phase, JournalPhase::kApplying) << "the complete record stands";
  EXPECT_EQ(torn.end, first.size()) << "the next record goes over the torn one";
  EXPECT_NE(torn.warning.find("cut short"), std::string::npos) << torn.warning;
  std::string flipped = first + second;
  flipped.back() = static_cast<char>(flipped.back() ^ 1);
  const JournalSlotContents damaged = read_journal_slot(flipped);
  EXPECT_EQ(damaged.entry.phase, JournalPhase::kApplying);
  EXPECT_NE(damaged.warning.find("CRC"), std::string::npos) << damaged.warning;
  const JournalSlotContents both = read_journal_slot(first + second);
  EXPECT_EQ(both.entry.phase, JournalPhase::kApplied) << "the last complete record wins";
  EXPECT_EQ(both.warning, "");
}

TEST(JournalRecord, ADamagedFirstRecordIsCorruptAndStillNamesItsFault) {
  std::string record = encode_journal_record(pause_entry("f1")).value();
  record[record.size() / 2] = static_cast<char>(record[record.size() / 2] ^ 0x40);
  const JournalSlotContents read = read_journal_slot(record);
  EXPECT_EQ(read.state, JournalSlotContents::State::kCorrupt);
  EXPECT_EQ(read.fault_id, "f1");
  EXPECT_EQ(read_journal_slot(std::string(8192, '\0')).state, JournalSlotContents::State::kFree);
  EXPECT_EQ(read_journal_slot("").state, JournalSlotContents::State::kFree);
}

TEST_F(FaultJournalTest, AFreedSlotIsZeroedMovedToSpareAndReusedWithoutANewFile) {
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
  const auto live = dir_ / "journal" / "f1.fj";
  ASSERT_TRUE(std::filesystem::exists(live));
  const ino_t inode = inode_of(live);
  ASSERT_TRUE(journal_->remove("f1").ok());
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "journal")) << "no entry is left where live ones are";
  const auto spare = dir_ / "journal-spare" / "0.fj";
  ASSERT_TRUE(std::filesystem::exists(spare));
  const std::string zeroed = read_bytes(spare);
  EXPECT_EQ(zeroed.find_first_not_of('\0'), std::string::npos) << "a freed slot holds no record";
  ASSERT_TRUE(journal_->write(pause_entry("f2"), JournalFlush::kToDisk).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "journal" / "f2.fj"));
  EXPECT_FALSE(std::filesystem::exists(spare)) << "the spare was taken, not a new file made";
  EXPECT_EQ(inode_of(dir_ / "journal" / "f2.fj"), inode);
  // A new process finds f2 and can free it again.
  FileFaultJournal restarted(dir_.string());
  ASSERT_TRUE(restarted.open().ok());
  auto contents = restarted.load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].fault_id, "f2");
  ASSERT_TRUE(restarted.remove("f2").ok());
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "journal"));
  EXPECT_TRUE(restarted.load_all()->entries.empty());
}

// A spare removed behind the agent's back (a tmp cleaner on a state dir
// under /tmp, an operator): before, it went back to the pool on each failed
// take, and every later inject failed on it until the agent restarted.
TEST_F(FaultJournalTest, ASpareFileRemovedFromDiskIsDroppedAndTheWriteTakesANewSlot) {
  for (const char* id : {"f1", "f2"}) ASSERT_TRUE(journal_->write(pause_entry(id), JournalFlush::kToDisk).ok());
  for (const char* id : {"f1", "f2"}) ASSERT_TRUE(journal_->remove(id).ok());
  for (const char* spare : {"0.fj", "1.fj"}) ASSERT_TRUE(std::filesystem::remove(dir_ / "journal-spare" / spare));
  for (const char* id : {"f3", "f4", "f5"}) {
    const Status written = journal_->write(pause_entry(id), JournalFlush::kToDisk);
    ASSERT_TRUE(written.ok()) << id << ": " << written.message();
    EXPECT_TRUE(std::filesystem::exists(dir_ / "journal" / (std::string(id) + ".fj"))) << id;
  }
  FileFaultJournal restarted(dir_.string());
  ASSERT_TRUE(restarted.open().ok());
  EXPECT_EQ(restarted.load_all()->entries.size(), 3u);
}

// When journal/ itself is gone the spares are fine: the write fails and
// they stay in the pool for the next one.
TEST_F(FaultJournalTest, AMissingJournalDirectoryFailsTheWriteAndKeepsTheSpares) {
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
  ASSERT_TRUE(journal_->remove("f1").ok());
  ASSERT_TRUE(std::filesystem::remove(dir_ / "journal"));
  const Status failed = journal_->write(pause_entry("f2"), JournalFlush::kToDisk);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("journal-spare/0.fj"), std::string::npos) << failed.message();
  std::filesystem::create_directory(dir_ / "journal");
  ASSERT_TRUE(journal_->write(pause_entry("f2"), JournalFlush::kToDisk).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "journal-spare" / "0.fj")) << "the spare was reused";
}

TEST_F(FaultJournalTest, AnEntryCutShortOnDiskIsReadFromItsLastCompleteRecordWithAWarning) {
  auto applying = pause_entry("f1");
  applying.phase = JournalPhase::kApplying;
  applying.undo = nullptr;
  ASSERT_TRUE(journal_->write(applying, JournalFlush::kToDisk).ok());
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
  const auto path = dir_ / "journal" / "f1.fj";
  std::string bytes = read_bytes(path);
  const std::size_t first = encode_journal_record(applying).value().size();
  const std::size_t second = encode_journal_record(pause_entry("f1")).value().size();
  // The applied record's last bytes never reached the disk.
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(first + second - 10),
            bytes.begin() + static_cast<std::ptrdiff_t>(first + second), '\0');
  write_bytes(path, bytes);
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].phase, JournalPhase::kApplying);
  ASSERT_EQ(contents.warnings.size(), 1u);
  EXPECT_NE(contents.warnings[0].find("f1.fj"), std::string::npos) << contents.warnings[0];
  EXPECT_TRUE(contents.corrupt.empty());
}

TEST_F(FaultJournalTest, ALiveSlotLeftInSpareIsFoundAndADamagedOneIsSetAsideByItsFaultId) {
  ASSERT_TRUE(journal_->write(pause_entry("f1"), JournalFlush::kToDisk).ok());
  ASSERT_TRUE(journal_->write(pause_entry("f2"), JournalFlush::kToDisk).ok());
  // The move out of spare is not durable: after a power loss f1 may be back there.
  std::filesystem::rename(dir_ / "journal" / "f1.fj", dir_ / "journal-spare" / "7.fj");
  std::string bytes = read_bytes(dir_ / "journal" / "f2.fj");
  bytes[60] = static_cast<char>(bytes[60] ^ 0x10);
  write_bytes(dir_ / "journal" / "f2.fj", bytes);
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].fault_id, "f1");
  ASSERT_EQ(contents.corrupt.size(), 1u);
  EXPECT_EQ(contents.corrupt[0].fault_id, "f2");
  EXPECT_EQ(contents.corrupt[0].path, (dir_ / "journal" / "f2.fj.corrupt").string());
  ASSERT_TRUE(journal_->remove("f1").ok());
  EXPECT_EQ(read_bytes(dir_ / "journal-spare" / "7.fj").find_first_not_of('\0'), std::string::npos);
  ASSERT_TRUE(journal_->remove_corrupt(contents.corrupt[0].path).ok());
  auto again = journal_->load_all().value();
  EXPECT_TRUE(again.entries.empty());
  EXPECT_TRUE(again.corrupt.empty());
}

TEST_F(FaultJournalTest, AnEntryAnOlderAgentWroteAsJsonIsRecoveredAndRemoved) {
  std::ofstream(dir_ / "journal" / "old1.json") << journal_entry_to_json(pause_entry("old1")).dump(2);
  auto contents = journal_->load_all().value();
  ASSERT_EQ(contents.entries.size(), 1u);
  EXPECT_EQ(contents.entries[0].fault_id, "old1");
  EXPECT_EQ(contents.entries[0].undo["pids"][0]["pid"], 42);
  ASSERT_TRUE(journal_->remove("old1").ok());
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "journal"));
}

TEST(FaultJournal, OpenFailsOnAnUnwritableStateDir) {
  FileFaultJournal journal("/proc/chaos-cannot-exist");
  EXPECT_FALSE(journal.open().ok());
}

}  // namespace
}  // namespace chaos::agent
