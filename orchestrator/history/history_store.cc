#include "orchestrator/history/history_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <iterator>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

namespace chaos::orchestrator::history {

namespace {

// Step i takes a database from user_version i to i + 1; a new schema
// version appends a step and never edits an old one (files written by an
// older chaosctl are migrated on open).
constexpr const char* kHistoryMigrations[] = {
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  experiment_id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  file_path TEXT NOT NULL,
  file_sha256 TEXT NOT NULL,
  started_at REAL NOT NULL,
  finished_at REAL NOT NULL,
  verdict TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  reason TEXT NOT NULL,
  time_to_recovery_seconds REAL,
  time_to_detect_seconds REAL,
  report_dir TEXT NOT NULL,
  leftovers_json TEXT NOT NULL
);
CREATE INDEX runs_by_start ON runs(started_at);
CREATE INDEX runs_by_title ON runs(title, started_at);
CREATE INDEX runs_by_file ON runs(file_path, started_at);
CREATE TABLE slo_worst (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  query TEXT NOT NULL,
  comparator TEXT NOT NULL,
  threshold REAL NOT NULL,
  worst REAL NOT NULL,
  held INTEGER NOT NULL,
  PRIMARY KEY (run_id, position)
);
CREATE TABLE faults (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  step TEXT NOT NULL,
  kind TEXT NOT NULL,
  node TEXT NOT NULL,
  agent TEXT NOT NULL,
  fault_id TEXT NOT NULL,
  applied_at REAL NOT NULL,
  reverted_at REAL,
  revert_reason TEXT NOT NULL,
  ended_early INTEGER NOT NULL,
  PRIMARY KEY (run_id, position)
);
)sql",
    // 2: which check detected the fault first (issue 17); '' for runs
    // recorded before, and for runs where nothing was detected.
    R"sql(
ALTER TABLE runs ADD COLUMN detected_by TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN detected_by_kind TEXT NOT NULL DEFAULT '';
)sql",
};
static_assert(std::size(kHistoryMigrations) == kHistorySchemaVersion, "one migration step per schema version");

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

class SqliteHistoryStore final : public HistoryStore {
 public:
  SqliteHistoryStore(std::string path, SqliteHandle db, bool read_only)
      : path_(std::move(path)), db_(std::move(db)), read_only_(read_only) {}

  Status migrate();
  // Reading never writes: the schema is only checked.
  Status check_schema();
  Status record(const HistoryEntry& entry) override;
  StatusOr<std::vector<HistoryEntry>> list(const HistoryQuery& query) override;

 private:
  Status error(const std::string& what) const {
    return internal_error(path_ + ": " + what + ": " + sqlite3_errmsg(db_.get()));
  }
  Status exec(const char* sql, const std::string& what) {
    char* message = nullptr;
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
    std::string text = message ? message : sqlite3_errmsg(db_.get());
    sqlite3_free(message);
    return internal_error(path_ + ": " + what + ": " + text);
  }
  StatusOr<Statement> prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql, -1, &statement, nullptr) != SQLITE_OK) {
      sqlite3_finalize(statement);
      return error("preparing a statement");
    }
    return Statement(statement);
  }
  StatusOr<int> user_version();
  Status newer_schema(int version) const {
    return failed_precondition(path_ + ": history schema version " + std::to_string(version) +
                               " is newer than this chaosctl knows (" + std::to_string(kHistorySchemaVersion) +
                               "); use a newer chaosctl or another --history file");
  }
  Status not_a_history_database() const {
    return failed_precondition(path_ + ": not a chaosctl history database (an SQLite database with "
                               "other tables and no history schema version)");
  }
  Status insert(const HistoryEntry& entry);
  Status load_children(sqlite3_int64 run_id, HistoryEntry& entry);

  // Version 0 with no tables at all: an empty SQLite file, or one whose
  // first recording has not committed yet.
  StatusOr<bool> has_no_tables();

  std::string path_;
  SqliteHandle db_;
  bool read_only_ = false;
  bool empty_ = false;  // read-only and without a schema: nothing to list
  int schema_version_ = kHistorySchemaVersion;  // of the open file; older ones are read as they are
};

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void bind_optional(sqlite3_stmt* statement, int index, const std::optional<double>& value) {
  if (value) {
    sqlite3_bind_double(statement, index, *value);
  } else {
    sqlite3_bind_null(statement, index);
  }
}

std::string column_text(sqlite3_stmt* statement, int index) {
  const auto* text = sqlite3_column_text(statement, index);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(statement, index)))
              : std::string();
}

std::optional<double> column_optional(sqlite3_stmt* statement, int index) {
  if (sqlite3_column_type(statement, index) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(statement, index);
}

StatusOr<int> SqliteHistoryStore::user_version() {
  // A file that is not SQLite fails as soon as its header is read, which
  // may be while preparing the statement or while stepping it.
  const auto not_sqlite = [&] {
    return failed_precondition(path_ + ": not a chaosctl history database (not an SQLite file: " +
                               sqlite3_errmsg(db_.get()) + ")");
  };
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), "PRAGMA user_version", -1, &raw, nullptr) != SQLITE_OK) {
    sqlite3_finalize(raw);
    if ((sqlite3_errcode(db_.get()) & 0xff) == SQLITE_NOTADB) return not_sqlite();
    return error("reading the schema version");
  }
  const Statement statement(raw);
  const int step = sqlite3_step(statement.get());
  if ((step & 0xff) == SQLITE_NOTADB) return not_sqlite();
  if (step != SQLITE_ROW) return error("reading the schema version");
  return sqlite3_column_int(statement.get(), 0);
}

StatusOr<bool> SqliteHistoryStore::has_no_tables() {
  CHAOS_ASSIGN_OR_RETURN(auto tables, prepare("SELECT count(*) FROM sqlite_master"));
  if (sqlite3_step(tables.get()) != SQLITE_ROW) return error("reading the schema");
  return sqlite3_column_int(tables.get(), 0) == 0;
}

Status SqliteHistoryStore::check_schema() {
  CHAOS_ASSIGN_OR_RETURN(int version, user_version());
  if (version > kHistorySchemaVersion) return newer_schema(version);
  if (version == 0) {
    CHAOS_ASSIGN_OR_RETURN(bool no_tables, has_no_tables());
    if (!no_tables) return not_a_history_database();
    empty_ = true;
    return {};
  }
  // An older file is read as it is (what it lacks reads as empty); the next
  // `chaosctl run` recording to it migrates it.
  schema_version_ = version;
  return {};
}

Status SqliteHistoryStore::migrate() {
  if (read_only_) return check_schema();
  CHAOS_ASSIGN_OR_RETURN(int version, user_version());
  if (version == kHistorySchemaVersion) {
    schema_version_ = version;
    return {};
  }
  if (version > kHistorySchemaVersion) return newer_schema(version);
  // Another chaosctl may be migrating the same file right now: take the
  // write lock first, then look again.
  CHAOS_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE", "locking for the schema migration"));
  Status status = [&]() -> Status {
    CHAOS_ASSIGN_OR_RETURN(version, user_version());
    if (version == 0) {
      CHAOS_ASSIGN_OR_RETURN(bool no_tables, has_no_tables());
      if (!no_tables) return not_a_history_database();
    }
    for (; version < kHistorySchemaVersion; ++version) {
      CHAOS_RETURN_IF_ERROR(exec(kHistoryMigrations[version],
                                 "migrating the schema to version " + std::to_string(version + 1)));
    }
    const std::string set_version = "PRAGMA user_version = " + std::to_string(kHistorySchemaVersion);
    CHAOS_RETURN_IF_ERROR(exec(set_version.c_str(), "setting the schema version"));
    return exec("COMMIT", "committing the schema migration");
  }();
  if (status.ok()) {
    schema_version_ = kHistorySchemaVersion;
  } else {
    (void)exec("ROLLBACK", "rolling back");
  }
  return status;
}

Status SqliteHistoryStore::insert(const HistoryEntry& entry) {
  CHAOS_ASSIGN_OR_RETURN(auto run, prepare(
      "INSERT INTO runs (experiment_id, title, file_path, file_sha256, started_at, finished_at, verdict, "
      "exit_code, reason, time_to_recovery_seconds, time_to_detect_seconds, report_dir, leftovers_json, "
      "detected_by, detected_by_kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  bind_text(run.get(), 1, entry.experiment_id);
  bind_text(run.get(), 2, entry.title);
  bind_text(run.get(), 3, entry.file_path);
  bind_text(run.get(), 4, entry.file_sha256);
  sqlite3_bind_double(run.get(), 5, entry.started_at);
  sqlite3_bind_double(run.get(), 6, entry.finished_at);
  bind_text(run.get(), 7, entry.verdict);
  sqlite3_bind_int(run.get(), 8, entry.exit_code);
  bind_text(run.get(), 9, entry.reason);
  bind_optional(run.get(), 10, entry.time_to_recovery_seconds);
  bind_optional(run.get(), 11, entry.time_to_detect_seconds);
  bind_text(run.get(), 12, entry.report_dir);
  bind_text(run.get(), 13, nlohmann::json(entry.leftovers).dump(-1, ' ', false,
                                                                nlohmann::json::error_handler_t::replace));
  bind_text(run.get(), 14, entry.detected_by);
  bind_text(run.get(), 15, entry.detected_by_kind);
  if (sqlite3_step(run.get()) != SQLITE_DONE) return error("recording run " + entry.experiment_id);
  const sqlite3_int64 run_id = sqlite3_last_insert_rowid(db_.get());

  CHAOS_ASSIGN_OR_RETURN(auto slo, prepare(
      "INSERT INTO slo_worst (run_id, position, name, query, comparator, threshold, worst, held) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < entry.slo_worst.size(); ++i) {
    const SloWorst& worst = entry.slo_worst[i];
    sqlite3_reset(slo.get());
    sqlite3_bind_int64(slo.get(), 1, run_id);
    sqlite3_bind_int64(slo.get(), 2, static_cast<sqlite3_int64>(i));
    bind_text(slo.get(), 3, worst.name);
    bind_text(slo.get(), 4, worst.query);
    bind_text(slo.get(), 5, worst.comparator);
    sqlite3_bind_double(slo.get(), 6, worst.threshold);
    sqlite3_bind_double(slo.get(), 7, worst.worst);
    sqlite3_bind_int(slo.get(), 8, worst.held ? 1 : 0);
    if (sqlite3_step(slo.get()) != SQLITE_DONE) return error("recording the SLO values of " + entry.experiment_id);
  }

  CHAOS_ASSIGN_OR_RETURN(auto faults, prepare(
      "INSERT INTO faults (run_id, position, step, kind, node, agent, fault_id, applied_at, reverted_at, "
      "revert_reason, ended_early) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < entry.faults.size(); ++i) {
    const FaultSummary& fault = entry.faults[i];
    sqlite3_reset(faults.get());
    sqlite3_bind_int64(faults.get(), 1, run_id);
    sqlite3_bind_int64(faults.get(), 2, static_cast<sqlite3_int64>(i));
    bind_text(faults.get(), 3, fault.step);
    bind_text(faults.get(), 4, fault.kind);
    bind_text(faults.get(), 5, fault.node);
    bind_text(faults.get(), 6, fault.agent);
    bind_text(faults.get(), 7, fault.fault_id);
    sqlite3_bind_double(faults.get(), 8, fault.applied_at);
    bind_optional(faults.get(), 9, fault.reverted_at);
    bind_text(faults.get(), 10, fault.revert_reason);
    sqlite3_bind_int(faults.get(), 11, fault.ended_early ? 1 : 0);
    if (sqlite3_step(faults.get()) != SQLITE_DONE) return error("recording the faults of " + entry.experiment_id);
  }
  return {};
}

Status SqliteHistoryStore::record(const HistoryEntry& entry) {
  if (read_only_) return failed_precondition(path_ + ": opened for reading only");
  CHAOS_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE", "locking for a new run"));
  Status status = insert(entry);
  if (status.ok()) status = exec("COMMIT", "committing run " + entry.experiment_id);
  if (!status.ok()) (void)exec("ROLLBACK", "rolling back");
  return status;
}

Status SqliteHistoryStore::load_children(sqlite3_int64 run_id, HistoryEntry& entry) {
  CHAOS_ASSIGN_OR_RETURN(auto slo, prepare(
      "SELECT name, query, comparator, threshold, worst, held FROM slo_worst WHERE run_id = ? "
      "ORDER BY position LIMIT ?"));
  sqlite3_bind_int64(slo.get(), 1, run_id);
  sqlite3_bind_int64(slo.get(), 2, static_cast<sqlite3_int64>(kHistoryMaxItems));
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(slo.get())) == SQLITE_ROW) {
    entry.slo_worst.push_back({column_text(slo.get(), 0), column_text(slo.get(), 1), column_text(slo.get(), 2),
                               sqlite3_column_double(slo.get(), 3), sqlite3_column_double(slo.get(), 4),
                               sqlite3_column_int(slo.get(), 5) != 0});
  }
  if (step != SQLITE_DONE) return error("reading the SLO values of " + entry.experiment_id);

  CHAOS_ASSIGN_OR_RETURN(auto faults, prepare(
      "SELECT step, kind, node, agent, fault_id, revert_reason, applied_at, reverted_at, ended_early "
      "FROM faults WHERE run_id = ? ORDER BY position LIMIT ?"));
  sqlite3_bind_int64(faults.get(), 1, run_id);
  sqlite3_bind_int64(faults.get(), 2, static_cast<sqlite3_int64>(kHistoryMaxItems));
  while ((step = sqlite3_step(faults.get())) == SQLITE_ROW) {
    FaultSummary fault;
    fault.step = column_text(faults.get(), 0);
    fault.kind = column_text(faults.get(), 1);
    fault.node = column_text(faults.get(), 2);
    fault.agent = column_text(faults.get(), 3);
    fault.fault_id = column_text(faults.get(), 4);
    fault.revert_reason = column_text(faults.get(), 5);
    fault.applied_at = sqlite3_column_double(faults.get(), 6);
    fault.reverted_at = column_optional(faults.get(), 7);
    fault.ended_early = sqlite3_column_int(faults.get(), 8) != 0;
    entry.faults.push_back(std::move(fault));
  }
  if (step != SQLITE_DONE) return error("reading the faults of " + entry.experiment_id);
  return {};
}

StatusOr<std::vector<HistoryEntry>> SqliteHistoryStore::list(const HistoryQuery& query) {
  if (empty_) return std::vector<HistoryEntry>{};
  // A path argument matches however it was spelled (the file column holds
  // absolute paths).
  std::string absolute = query.experiment;
  std::error_code ignored;
  if (!absolute.empty()) absolute = std::filesystem::absolute(absolute, ignored).lexically_normal().string();
  // A version 1 file (read-only, not migrated) has no detected_by columns.
  const std::string select =
      std::string("SELECT id, experiment_id, title, file_path, file_sha256, started_at, finished_at, verdict, "
                  "exit_code, reason, time_to_recovery_seconds, time_to_detect_seconds, report_dir, leftovers_json, ") +
      (schema_version_ >= 2 ? "detected_by, detected_by_kind" : "'', ''") +
      " FROM ("
      "  SELECT *, ROW_NUMBER() OVER (PARTITION BY title ORDER BY started_at DESC, id DESC) AS history_rank"
      "  FROM runs WHERE ?1 = '' OR title = ?1 OR file_path = ?1 OR file_path = ?2)"
      " WHERE history_rank <= ?3 ORDER BY started_at DESC, id DESC LIMIT ?4";
  CHAOS_ASSIGN_OR_RETURN(auto runs, prepare(select.c_str()));
  bind_text(runs.get(), 1, query.experiment);
  bind_text(runs.get(), 2, absolute);
  sqlite3_bind_int64(runs.get(), 3, query.per_experiment == 0 ? std::numeric_limits<sqlite3_int64>::max()
                                                              : static_cast<sqlite3_int64>(query.per_experiment));
  sqlite3_bind_int64(runs.get(), 4, static_cast<sqlite3_int64>(std::min(query.limit, kHistoryMaxListed)));
  std::vector<std::pair<sqlite3_int64, HistoryEntry>> rows;
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(runs.get())) == SQLITE_ROW) {
    HistoryEntry entry;
    entry.experiment_id = column_text(runs.get(), 1);
    entry.title = column_text(runs.get(), 2);
    entry.file_path = column_text(runs.get(), 3);
    entry.file_sha256 = column_text(runs.get(), 4);
    entry.started_at = sqlite3_column_double(runs.get(), 5);
    entry.finished_at = sqlite3_column_double(runs.get(), 6);
    entry.verdict = column_text(runs.get(), 7);
    entry.exit_code = sqlite3_column_int(runs.get(), 8);
    entry.reason = column_text(runs.get(), 9);
    entry.time_to_recovery_seconds = column_optional(runs.get(), 10);
    entry.time_to_detect_seconds = column_optional(runs.get(), 11);
    entry.report_dir = column_text(runs.get(), 12);
    const auto leftovers = nlohmann::json::parse(column_text(runs.get(), 13), nullptr, false);
    if (leftovers.is_array()) {
      for (const auto& item : leftovers) {
        if (item.is_string() && entry.leftovers.size() < kHistoryMaxItems) entry.leftovers.push_back(item);
      }
    }
    entry.detected_by = column_text(runs.get(), 14);
    entry.detected_by_kind = column_text(runs.get(), 15);
    rows.emplace_back(sqlite3_column_int64(runs.get(), 0), std::move(entry));
  }
  if (step != SQLITE_DONE) return error("listing runs");
  runs.reset();
  std::vector<HistoryEntry> entries;
  entries.reserve(rows.size());
  for (auto& [id, entry] : rows) {
    CHAOS_RETURN_IF_ERROR(load_children(id, entry));
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace

StatusOr<std::unique_ptr<HistoryStore>> open_history_store(const std::string& path,
                                                           const HistoryOpenOptions& options) {
  if (path.empty()) return invalid_argument("history: no database path");
  std::error_code error;
  const bool read_only = options.mode == HistoryOpenMode::kExisting;
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (read_only) {
    if (!std::filesystem::exists(path, error)) return not_found(path + ": no run history here yet");
  } else {
    flags |= SQLITE_OPEN_CREATE;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::exists(parent, error)) {
      std::filesystem::create_directories(parent, error);
      if (error) return internal_error(path + ": cannot create its directory: " + error.message());
      // Runs name hosts and failures: the owner's business only.
      std::filesystem::permissions(parent, std::filesystem::perms::owner_all, error);
    }
  }
  if (std::filesystem::is_directory(path, error)) return invalid_argument(path + ": is a directory, not a file");
  if (options.mode != HistoryOpenMode::kExisting) {
    // A new database is the owner's only, like its directory (SQLite would
    // create it 0644); an existing file keeps the mode its owner gave it.
    const int created = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (created >= 0) ::close(created);
  }
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteHandle db(raw);
  if (opened != SQLITE_OK) {
    return internal_error(path + ": cannot open the history database: " +
                          (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(opened)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
  auto store = std::make_unique<SqliteHistoryStore>(path, std::move(db), read_only);
  CHAOS_RETURN_IF_ERROR(store->migrate());
  return std::unique_ptr<HistoryStore>(std::move(store));
}

std::optional<std::string> default_history_path() {
  const auto set = [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
  if (auto explicit_path = set("CHAOSCTL_HISTORY")) return explicit_path;
  if (auto state = set("XDG_STATE_HOME")) return *state + "/chaosctl/history.sqlite";
  if (auto home = set("HOME")) return *home + "/.local/state/chaosctl/history.sqlite";
  return std::nullopt;
}

}  // namespace chaos::orchestrator::history
