// The run history's SQLite store: a round trip of every field, the schema
// version and its migration, two writers at once, files that are not a
// history database, filters and limits, and the default path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "orchestrator/history/history_store.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator::history {
namespace {

using ::testing::HasSubstr;

constexpr double kStoreT0 = 1'795'000'000;  // 2026-11-18

// Nothing in this test binary may record into the real default path
// (a `chaosctl run` in a test, or default_history_path() itself).
class HistoryTestEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::make_unique<test_support::TempDir>();
    ::setenv("CHAOSCTL_HISTORY", (dir_->path() + "/default-history.sqlite").c_str(), 1);
  }
  void TearDown() override { dir_.reset(); }

 private:
  std::unique_ptr<test_support::TempDir> dir_;
};
const auto* const kHistoryEnvironment = ::testing::AddGlobalTestEnvironment(new HistoryTestEnvironment);

HistoryEntry store_entry(const std::string& id, const std::string& title, double started) {
  HistoryEntry run;
  run.experiment_id = id;
  run.title = title;
  run.file_path = "/experiments/" + title + ".toml";
  run.file_sha256 = std::string(64, 'a');
  run.started_at = started;
  run.finished_at = started + 60;
  run.verdict = "held";
  run.exit_code = 0;
  run.reason = "every check held";
  return run;
}

// Runs SQL on the file directly, as another program would.
void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK) << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

int raw_user_version(const std::string& path) {
  sqlite3* db = nullptr;
  int version = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(db, "PRAGMA user_version", [](void* out, int, char** values, char**) {
      *static_cast<int*>(out) = std::atoi(values[0]);
      return 0;
    }, &version, nullptr);
  }
  sqlite3_close(db);
  return version;
}

TEST(HistoryStore, RecordsAndListsEveryField) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/state/chaosctl/history.sqlite";  // directories are created
  auto store = open_history_store(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  HistoryEntry run = store_entry("kill-1", "kill one broker", kStoreT0);
  run.verdict = "violated";
  run.exit_code = 1;
  run.reason = "publish ratio failed";
  run.time_to_recovery_seconds = 4.25;
  run.report_dir = "/reports/kill";
  run.slo_worst = {{"publish ratio", "sum(ok)/sum(all)", ">=", 0.99, 0.93, false},
                   {"p99 latency", "histogram_quantile(0.99, x)", "<=", 0.25, 0.12, true}};
  run.faults = {{"kill", "process.kill", "n1", "10.0.0.1:9700", "f-1", "revert", kStoreT0 + 5, kStoreT0 + 35, false},
                {"pause", "process.pause", "n2", "10.0.0.2:9700", "f-2", "", kStoreT0 + 6, std::nullopt, true}};
  run.leftovers = {"nft: table inet chaos-f1 on n1"};
  ASSERT_TRUE((*store)->record(run).ok());

  auto listed = (*store)->list({});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 1u);
  const HistoryEntry& back = listed->front();
  EXPECT_EQ(back.experiment_id, "kill-1");
  EXPECT_EQ(back.title, "kill one broker");
  EXPECT_EQ(back.file_path, "/experiments/kill one broker.toml");
  EXPECT_EQ(back.file_sha256, std::string(64, 'a'));
  EXPECT_DOUBLE_EQ(back.started_at, kStoreT0);
  EXPECT_DOUBLE_EQ(back.finished_at, kStoreT0 + 60);
  EXPECT_EQ(back.verdict, "violated");
  EXPECT_EQ(back.exit_code, 1);
  EXPECT_EQ(back.reason, "publish ratio failed");
  ASSERT_TRUE(back.time_to_recovery_seconds);
  EXPECT_DOUBLE_EQ(*back.time_to_recovery_seconds, 4.25);
  EXPECT_FALSE(back.time_to_detect_seconds);  // not measured stays "not measured", not 0
  EXPECT_EQ(back.report_dir, "/reports/kill");
  ASSERT_EQ(back.slo_worst.size(), 2u);
  EXPECT_EQ(back.slo_worst[0].name, "publish ratio");
  EXPECT_EQ(back.slo_worst[0].comparator, ">=");
  EXPECT_DOUBLE_EQ(back.slo_worst[0].worst, 0.93);
  EXPECT_FALSE(back.slo_worst[0].held);
  EXPECT_EQ(back.slo_worst[1].query, "histogram_quantile(0.99, x)");
  ASSERT_EQ(back.faults.size(), 2u);
  EXPECT_EQ(back.faults[0].kind, "process.kill");
  EXPECT_EQ(back.faults[0].node, "n1");
  ASSERT_TRUE(back.faults[0].reverted_at);
  EXPECT_DOUBLE_EQ(*back.faults[0].reverted_at, kStoreT0 + 35);
  EXPECT_FALSE(back.faults[1].reverted_at);
  EXPECT_TRUE(back.faults[1].ended_early);
  EXPECT_EQ(back.leftovers, run.leftovers);
}

TEST(HistoryStore, RecordsWhichCheckDetectedTheFault) {
  test_support::TempDir dir;
  auto store = open_history_store(dir.path() + "/history.sqlite");
  ASSERT_TRUE(store.ok()) << store.status().message();
  HistoryEntry run = store_entry("detected-1", "pause", kStoreT0);
  run.time_to_detect_seconds = 2.5;
  run.detected_by = "publish ratio vs control";
  run.detected_by_kind = "compare";
  ASSERT_TRUE((*store)->record(run).ok());
  auto listed = (*store)->list({});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().detected_by, "publish ratio vs control");
  EXPECT_EQ(listed->front().detected_by_kind, "compare");
}

// The first schema, as chaosctl wrote it before detected_by existed.
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE runs (id INTEGER PRIMARY KEY, experiment_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
  file_path TEXT NOT NULL, file_sha256 TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL NOT NULL,
  verdict TEXT NOT NULL, exit_code INTEGER NOT NULL, reason TEXT NOT NULL, time_to_recovery_seconds REAL,
  time_to_detect_seconds REAL, report_dir TEXT NOT NULL, leftovers_json TEXT NOT NULL);
CREATE TABLE slo_worst (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, position INTEGER NOT NULL,
  name TEXT NOT NULL, query TEXT NOT NULL, comparator TEXT NOT NULL, threshold REAL NOT NULL, worst REAL NOT NULL,
  held INTEGER NOT NULL, PRIMARY KEY (run_id, position));
CREATE TABLE faults (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, position INTEGER NOT NULL,
  step TEXT NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL, agent TEXT NOT NULL, fault_id TEXT NOT NULL,
  applied_at REAL NOT NULL, reverted_at REAL, revert_reason TEXT NOT NULL, ended_early INTEGER NOT NULL,
  PRIMARY KEY (run_id, position));
INSERT INTO runs VALUES (1, 'old-1', 'kill one broker', '/e/kill.toml', '', 1795000000, 1795000060, 'held', 0,
  'every check held', 4.5, 1.5, '', '[]');
PRAGMA user_version = 1;
)sql";

// After an upgrade, `chaosctl history` reads an older file without writing
// it, and the next recording migrates it keeping every run.
TEST(HistoryStore, VersionOneFileIsReadAsItIsAndMigratedByTheNextRecording) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/history.sqlite";
  raw_sql(path, kSchemaVersion1);
  ASSERT_EQ(raw_user_version(path), 1);
  {
    auto reader = open_history_store(path, {HistoryOpenMode::kExisting});
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    auto listed = (*reader)->list({});
    ASSERT_TRUE(listed.ok()) << listed.status().message();
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ(listed->front().experiment_id, "old-1");
    ASSERT_TRUE(listed->front().time_to_detect_seconds);
    EXPECT_DOUBLE_EQ(*listed->front().time_to_detect_seconds, 1.5);
    EXPECT_EQ(listed->front().detected_by, "");
  }
  EXPECT_EQ(raw_user_version(path), 1);

  auto writer = open_history_store(path);
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  EXPECT_EQ(raw_user_version(path), kHistorySchemaVersion);
  HistoryEntry run = store_entry("new-1", "kill one broker", kStoreT0 + 100);
  run.time_to_detect_seconds = 2;
  run.detected_by = "ratio";
  run.detected_by_kind = "steady_state";
  ASSERT_TRUE((*writer)->record(run).ok());
  auto listed = (*writer)->list({});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].experiment_id, "new-1");
  EXPECT_EQ((*listed)[0].detected_by, "ratio");
  EXPECT_EQ((*listed)[1].experiment_id, "old-1");
  EXPECT_EQ((*listed)[1].detected_by, "");
}

TEST(HistoryStore, NewFileCarriesTheSchemaVersion) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/history.sqlite";
  ASSERT_TRUE(open_history_store(path).ok());
  EXPECT_EQ(raw_user_version(path), kHistorySchemaVersion);
  // Runs name hosts and failures: a new file is the owner's only.
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST(HistoryStore, EmptySqliteFileIsMigratedToTheCurrentSchemaWhenRecording) {
  test_support::TempDir dir;
  const std::string path = dir.write("history.sqlite", "");  // version 0, no tables
  auto store = open_history_store(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(raw_user_version(path), kHistorySchemaVersion);
  EXPECT_TRUE((*store)->record(store_entry("a", "t", kStoreT0)).ok());
}

// `chaosctl history` and `report --history` only read: an empty file is
// listed as no runs and left as it was, and nothing can be recorded.
TEST(HistoryStore, ReadingNeverWritesTheFile) {
  test_support::TempDir dir;
  const std::string path = dir.write("history.sqlite", "");
  auto store = open_history_store(path, {HistoryOpenMode::kExisting});
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto listed = (*store)->list({"", 10, 0});
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_TRUE(listed->empty());
  EXPECT_FALSE((*store)->record(store_entry("a", "t", kStoreT0)).ok());
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

TEST(HistoryStore, NewerSchemaIsAnErrorWhenReadingToo) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/history.sqlite";
  ASSERT_TRUE(open_history_store(path).ok());
  raw_sql(path, "PRAGMA user_version = 99");
  auto store = open_history_store(path, {HistoryOpenMode::kExisting});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("version 99 is newer"));
}

TEST(HistoryStore, NewerSchemaIsAnErrorNamingThePath) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/history.sqlite";
  ASSERT_TRUE(open_history_store(path).ok());
  raw_sql(path, "PRAGMA user_version = 99");
  auto store = open_history_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr("version 99 is newer"));
}

TEST(HistoryStore, FileThatIsNotSqliteIsAnErrorNamingThePath) {
  test_support::TempDir dir;
  const std::string path = dir.write("history.sqlite", std::string(4096, 'x') + "not a database\n");
  auto store = open_history_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path + ": not a chaosctl history database"));
}

TEST(HistoryStore, ForeignSqliteDatabaseIsRefusedAndLeftAlone) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/other.sqlite";
  raw_sql(path, "CREATE TABLE invoices (id INTEGER)");
  auto store = open_history_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path + ": not a chaosctl history database"));
  EXPECT_EQ(raw_user_version(path), 0);
}

TEST(HistoryStore, MissingFileIsNotFoundWhenReading) {
  test_support::TempDir dir;
  auto store = open_history_store(dir.path() + "/none.sqlite", {HistoryOpenMode::kExisting});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/none.sqlite"));
}

// Two chaosctl processes finishing at once: each has its own connection,
// both create the schema on a fresh file and both write; no run is lost.
TEST(HistoryStore, TwoWritersAtOnceBothRecordEveryRun) {
  test_support::TempDir dir;
  const std::string path = dir.path() + "/history.sqlite";
  constexpr int kRunsPerWriter = 10;
  std::atomic<int> failures{0};
  std::string failure;
  std::mutex failure_mutex;
  const auto writer = [&](const std::string& prefix) {
    auto store = open_history_store(path);
    if (!store.ok()) {
      ++failures;
      std::lock_guard lock(failure_mutex);
      failure = store.status().message();
      return;
    }
    for (int i = 0; i < kRunsPerWriter; ++i) {
      const Status recorded = (*store)->record(store_entry(prefix + std::to_string(i), prefix, kStoreT0 + i));
      if (!recorded.ok()) {
        ++failures;
        std::lock_guard lock(failure_mutex);
        failure = recorded.message();
      }
    }
  };
  std::thread first(writer, "a");
  std::thread second(writer, "b");
  first.join();
  second.join();
  ASSERT_EQ(failures.load(), 0) << failure;
  auto store = open_history_store(path, {HistoryOpenMode::kExisting});
  ASSERT_TRUE(store.ok());
  auto listed = (*store)->list({"", 1000, 0});
  ASSERT_TRUE(listed.ok());
  std::set<std::string> ids;
  for (const auto& run : *listed) ids.insert(run.experiment_id);
  EXPECT_EQ(ids.size(), 2u * kRunsPerWriter);
}

TEST(HistoryStore, ListsNewestFirstFilteredByTitleOrFileWithLimits) {
  test_support::TempDir dir;
  auto store = open_history_store(dir.path() + "/history.sqlite");
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*store)->record(store_entry("kill-" + std::to_string(i), "kill", kStoreT0 + i)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*store)->record(store_entry("delay-" + std::to_string(i), "delay", kStoreT0 + 10 + i)).ok());

  auto newest = (*store)->list({"", 2, 0});
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].experiment_id, "delay-2");
  EXPECT_EQ((*newest)[1].experiment_id, "delay-1");

  auto by_title = (*store)->list({"kill", 100, 0});
  ASSERT_TRUE(by_title.ok());
  ASSERT_EQ(by_title->size(), 5u);
  EXPECT_EQ(by_title->front().experiment_id, "kill-4");

  auto by_file = (*store)->list({"/experiments/delay.toml", 100, 0});
  ASSERT_TRUE(by_file.ok());
  EXPECT_EQ(by_file->size(), 3u);

  auto per_experiment = (*store)->list({"", 100, 2});
  ASSERT_TRUE(per_experiment.ok());
  std::vector<std::string> ids;
  for (const auto& run : *per_experiment) ids.push_back(run.experiment_id);
  EXPECT_THAT(ids, ::testing::ElementsAre("delay-2", "delay-1", "kill-4", "kill-3"));
}

TEST(HistoryStore, DefaultPathFollowsTheEnvironment) {
  const std::string saved = std::getenv("CHAOSCTL_HISTORY") ? std::getenv("CHAOSCTL_HISTORY") : "";
  const char* state = std::getenv("XDG_STATE_HOME");
  const std::string saved_state = state ? state : "";
  EXPECT_EQ(default_history_path(), saved);
  ::unsetenv("CHAOSCTL_HISTORY");
  ::setenv("XDG_STATE_HOME", "/state", 1);
  EXPECT_EQ(default_history_path(), "/state/chaosctl/history.sqlite");
  ::unsetenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  if (home && *home) {
    EXPECT_EQ(default_history_path(), std::string(home) + "/.local/state/chaosctl/history.sqlite");
  }
  ::setenv("CHAOSCTL_HISTORY", saved.c_str(), 1);
  if (state) ::setenv("XDG_STATE_HOME", saved_state.c_str(), 1);
}

}  // namespace
}  // namespace chaos::orchestrator::history
