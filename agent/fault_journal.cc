#include "agent/fault_journal.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string_view>

#include "agent/journal_record.h"
#include "common/crash_point.h"
#include "common/unique_fd.h"

namespace chaos::agent {

namespace {

namespace fs = std::filesystem;

// A journal entry is a fault spec and an undo record: kilobytes. A larger
// file is not ours (or is damaged) and is not read into memory whole.
constexpr std::size_t kMaxJournalEntryBytes = 1 << 20;
// A slot's first records fit without allocating blocks; the registry writes
// two per fault, so the bound is never reached by a well-behaved caller.
constexpr std::size_t kJournalSlotPreallocBytes = 8192;
constexpr std::size_t kJournalSlotMaxBytes = 4 * kJournalRecordMaxPayloadBytes;

const char* phase_name(JournalPhase phase) { return phase == JournalPhase::kApplied ? "applied" : "applying"; }

Status errno_error(const std::string& what) { return internal_error(what + ": " + std::strerror(errno)); }

Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno_error("open " + path);
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  errno = error;
  if (result != 0) return errno_error("fsync " + path);
  return {};
}

Status journal_pwrite_all(int fd, std::string_view bytes, std::size_t offset, const std::string& path) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + written, bytes.size() - written,
                               static_cast<off_t>(offset + written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return errno_error("write " + path);
    written += static_cast<std::size_t>(n);
  }
  return {};
}

std::int64_t to_millis(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

}  // namespace

nlohmann::json journal_entry_to_json(const JournalEntry& entry) {
  std::string spec_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // A FaultSpec always serialises: it has no Any fields or unknown types.
  (void)google::protobuf::util::MessageToJsonString(entry.spec, &spec_json, options);
  return {
      {"version", 1},
      {"fault_id", entry.fault_id},
      {"kind", entry.kind},
      {"experiment_id", entry.experiment_id},
      {"lease_id", entry.lease_id},
      {"duration_ns", entry.duration.count()},
      {"phase", phase_name(entry.phase)},
      {"spec", nlohmann::json::parse(spec_json)},
      {"undo", entry.undo},
      {"recorded_at_unix_ms", to_millis(entry.recorded_at)},
  };
}

StatusOr<JournalEntry> journal_entry_from_json(const nlohmann::json& json) {
  try {
    JournalEntry entry;
    entry.fault_id = json.at("fault_id").get<std::string>();
    entry.kind = json.at("kind").get<std::string>();
    entry.experiment_id = json.value("experiment_id", "");
    entry.lease_id = json.value("lease_id", "");
    entry.duration = Duration(json.value("duration_ns", std::int64_t{0}));
    const std::string phase = json.at("phase").get<std::string>();
    if (phase != "applying" && phase != "applied") return invalid_argument("unknown phase '" + phase + "'");
    entry.phase = phase == "applied" ? JournalPhase::kApplied : JournalPhase::kApplying;
    entry.undo = json.value("undo", nlohmann::json());
    entry.recorded_at = WallTime(std::chrono::milliseconds(json.value("recorded_at_unix_ms", std::int64_t{0})));
    const auto status = google::protobuf::util::JsonStringToMessage(json.at("spec").dump(), &entry.spec);
    if (!status.ok()) return invalid_argument("spec: " + status.ToString());
    if (entry.fault_id.empty()) return invalid_argument("fault_id is empty");
    return entry;
  } catch (const nlohmann::json::exception& error) {
    return invalid_argument(error.what());
  }
}

// One live fault's slot file. Its records are written under its own mutex
// (the registry already serialises one fault's journal calls).
struct FileFaultJournal::Slot {
  std::mutex mutex;
  UniqueFd fd;
  std::string path;     // journal/<fault id>.fj while live, journal-spare/<number>.fj while spare
  long number = -1;     // its name in journal-spare/
  std::size_t end = 0;  // after the last record: where the next one goes
  std::size_t used = 0; // bytes that may hold records: zeroed when freed
};

FileFaultJournal::FileFaultJournal(std::string state_dir)
    : directory_((fs::path(state_dir) / "journal").string()),
      spare_directory_((fs::path(state_dir) / "journal-spare").string()) {}

FileFaultJournal::~FileFaultJournal() = default;

Status FileFaultJournal::open() {
  std::error_code error;
  for (const std::string& dir : {directory_, spare_directory_}) {
    fs::create_directories(dir, error);
    if (error) return internal_error("cannot create journal directory " + dir + ": " + error.message());
    if (::access(dir.c_str(), W_OK) != 0) return errno_error("journal directory " + dir);
  }
  return {};
}

std::string FileFaultJournal::spare_path(long number) const {
  return spare_directory_ + "/" + std::to_string(number) + ".fj";
}

// Only when no spare is left: the one slow path (a new file, its blocks
// and its name made durable), taken once per slot for the agent's life.
StatusOr<std::shared_ptr<FileFaultJournal::Slot>> FileFaultJournal::new_spare_slot() {
  auto slot = std::make_shared<Slot>();
  {
    std::lock_guard lock(mutex_);
    slot->number = next_spare_number_++;
  }
  slot->path = spare_path(slot->number);
  slot->fd.reset(::open(slot->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!slot->fd.valid()) return errno_error("create " + slot->path);
  // Zeros, so that records up to this size need no block allocation later.
  const std::string zeros(kJournalSlotPreallocBytes, '\0');
  Status status = journal_pwrite_all(slot->fd.get(), zeros, 0, slot->path);
  if (status.ok() && ::fsync(slot->fd.get()) != 0) status = errno_error("fsync " + slot->path);
  if (status.ok()) status = fsync_path(spare_directory_, O_RDONLY | O_DIRECTORY);
  if (!status.ok()) {
    ::unlink(slot->path.c_str());
    return status;
  }
  return slot;
}

StatusOr<std::shared_ptr<FileFaultJournal::Slot>> FileFaultJournal::take_slot(const std::string& fault_id) {
  // Not made durable: the records say whose they are, and load_all() reads
  // both directories. The name is for people and for "is anything live".
  const std::string path = directory_ + "/" + fault_id + ".fj";
  std::shared_ptr<Slot> slot;
  // Each pass takes a spare for good, so this ends: at the latest with a new file.
  for (;;) {
    bool from_spare = false;
    {
      std::lock_guard lock(mutex_);
      if (!spare_.empty()) {
        slot = spare_.back();
        spare_.pop_back();
        from_spare = true;
      }
    }
    if (!from_spare) {
      CHAOS_ASSIGN_OR_RETURN(slot, new_spare_slot());
    }
    if (::rename(slot->path.c_str(), path.c_str()) == 0) break;
    const int rename_errno = errno;
    const Status error = errno_error("rename " + slot->path + " to " + path);
    if (from_spare && rename_errno == ENOENT && ::access(slot->path.c_str(), F_OK) != 0) {
      // The spare, not journal/, was removed behind the agent's back (a tmp
      // cleaner, a person). Not put back: it would fail every later inject
      // the same way.
      std::cerr << "chaos-agent: warning: journal spare " << slot->path << " is gone; not reused" << std::endl;
      continue;
    }
    std::lock_guard lock(mutex_);
    spare_.push_back(slot);
    return error;
  }
  slot->path = path;
  slot->end = 0;
  std::lock_guard lock(mutex_);
  live_[fault_id] = slot;
  return slot;
}

Status FileFaultJournal::write(const JournalEntry& entry, JournalFlush flush) {
  crash_point("journal.write " + entry.fault_id);
  const std::string context = "journal " + entry.fault_id;
  StatusOr<std::string> record = encode_journal_record(entry);
  if (!record.ok()) return record.status().with_context(context);
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mutex_);
    if (auto found = live_.find(entry.fault_id); found != live_.end()) slot = found->second;
  }
  if (!slot) {
    StatusOr<std::shared_ptr<Slot>> taken = take_slot(entry.fault_id);
    if (!taken.ok()) return taken.status().with_context(context);
    slot = std::move(*taken);
  }
  std::lock_guard lock(slot->mutex);
  if (slot->end + record->size() > kJournalSlotMaxBytes) {
    return resource_exhausted(context + ": slot " + slot->path + " would grow past " +
                              std::to_string(kJournalSlotMaxBytes) + " bytes");
  }
  // Appended after the last record, never over it: a write cut short by a
  // crash leaves the previous record whole. At most one fdatasync: the
  // file's name and blocks are durable already (or its size is data
  // fdatasync writes).
  Status status = journal_pwrite_all(slot->fd.get(), *record, slot->end, slot->path);
  if (status.ok() && flush == JournalFlush::kToDisk) {
    if (::fdatasync(slot->fd.get()) != 0) {
      status = errno_error("fdatasync " + slot->path);
    } else {
      record_syncs_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!status.ok()) return status.with_context(context);
  slot->end += record->size();
  slot->used = std::max(slot->used, slot->end);
  return {};
}

// Zeroed and renamed into journal-spare/, neither made durable: a revert
// needs no flush. After a power loss the slot may show the reverted fault
// again, and the next start reverts it once more (recovery is idempotent).
Status FileFaultJournal::free_slot(const std::shared_ptr<Slot>& slot) {
  std::lock_guard lock(slot->mutex);
  const std::string spare = spare_path(slot->number);
  Status status = journal_pwrite_all(slot->fd.get(), std::string(slot->used, '\0'), 0, slot->path);
  if (status.ok() && ::rename(slot->path.c_str(), spare.c_str()) != 0) {
    status = errno_error("rename " + slot->path + " to " + spare);
  }
  if (!status.ok()) {
    // What the journal did before slots: the file goes, durably.
    if (::unlink(slot->path.c_str()) != 0 && errno != ENOENT) {
      return errno_error("journal: unlink " + slot->path + " (after: " + status.message() + ")");
    }
    return fsync_path(directory_, O_RDONLY | O_DIRECTORY);
  }
  slot->path = spare;
  slot->end = 0;
  slot->used = 0;
  std::lock_guard map_lock(mutex_);
  spare_.push_back(slot);
  return {};
}

Status FileFaultJournal::remove(const std::string& fault_id) {
  crash_point("journal.remove " + fault_id);
  std::shared_ptr<Slot> slot;
  {
    std::lock_guard lock(mutex_);
    if (auto found = live_.find(fault_id); found != live_.end()) {
      slot = found->second;
      live_.erase(found);
    }
  }
  if (slot) CHAOS_RETURN_IF_ERROR(free_slot(slot));
  // An entry an older agent wrote as JSON.
  const std::string path = directory_ + "/" + fault_id + ".json";
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return errno_error("journal: unlink " + path);
  }
  return fsync_path(directory_, O_RDONLY | O_DIRECTORY);
}

namespace {

// Fault ids are short and lower-case alphanumeric (kinds name kernel objects
// after them); a corrupt file's name is only trusted when it looks like one.
bool looks_like_fault_id(const std::string& text) {
  if (text.empty() || text.size() > 32) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

std::string read_small_file(const fs::path& path, std::size_t limit = kMaxJournalEntryBytes) {
  std::ifstream in(path, std::ios::binary);
  std::string text(limit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

StatusOr<JournalEntry> parse_entry_file(const fs::path& path) {
  const std::string text = read_small_file(path);
  if (text.size() > kMaxJournalEntryBytes) {
    return invalid_argument("larger than " + std::to_string(kMaxJournalEntryBytes) + " bytes");
  }
  try {
    return journal_entry_from_json(nlohmann::json::parse(text));
  } catch (const nlohmann::json::exception& parse_error) {
    return invalid_argument(parse_error.what());
  }
}

// A spare slot's number from its name (<number>.fj), or -1.
long journal_spare_number(const fs::path& path) {
  const std::string stem = path.stem().string();
  if (stem.empty() || stem.size() > 9 || !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stol(stem);
}

}  // namespace

StatusOr<FaultJournal::Contents> FileFaultJournal::load_all() {
  Contents contents;
  std::error_code error;
  std::vector<fs::path> files;  // journal/: <id>.fj, and <id>.json of older agents
  std::vector<fs::path> set_aside;
  std::vector<fs::path> spares;
  // An empty list from a directory that could not be read would pass for a
  // clean node, so a listing error fails the whole load.
  std::error_code listing;
  for (fs::directory_iterator it(directory_, listing), end; !listing && it != end; it.increment(listing)) {
    const auto& path = it->path();
    if (path.extension() == ".tmp") {
      fs::remove(path, error);  // a write that never reached its rename
    } else if (path.extension() == ".json" || path.extension() == ".fj") {
      files.push_back(path);
    } else if (path.extension() == ".corrupt") {
      set_aside.push_back(path);
    }
  }
  if (listing) return internal_error("journal: cannot list " + directory_ + ": " + listing.message());
  // A live slot can be here too: its move out of spare is not made durable.
  fs::create_directories(spare_directory_, error);
  for (fs::directory_iterator it(spare_directory_, listing), end; !listing && it != end; it.increment(listing)) {
    if (it->path().extension() == ".fj") spares.push_back(it->path());
  }
  if (listing) return internal_error("journal: cannot list " + spare_directory_ + ": " + listing.message());
  std::sort(files.begin(), files.end());
  std::sort(set_aside.begin(), set_aside.end());
  std::sort(spares.begin(), spares.end());
  long next_number = 0;
  for (const auto& path : spares) next_number = std::max(next_number, journal_spare_number(path) + 1);
  for (const auto& path : set_aside) {
    const std::string id = fs::path(path.stem()).stem().string();  // <id>.json.corrupt, <id>.fj.corrupt
    contents.corrupt.push_back({looks_like_fault_id(id) ? id : "", path.string(), "set aside by an earlier start"});
  }
  // Rebuilt from what the files say.
  std::map<std::string, std::shared_ptr<Slot>> live;
  std::vector<std::shared_ptr<Slot>> spare;
  const auto set_aside_as = [&](const fs::path& path, const std::string& id, const std::string& corrupt,
                                const std::string& why) {
    fs::rename(path, corrupt, error);
    contents.corrupt.push_back({looks_like_fault_id(id) ? id : "", error ? path.string() : corrupt, why});
  };
  files.insert(files.end(), spares.begin(), spares.end());
  for (const auto& path : files) {
    const bool in_spare = path.parent_path() == fs::path(spare_directory_);
    if (path.extension() == ".json") {
      StatusOr<JournalEntry> entry = parse_entry_file(path);
      if (entry.ok()) {
        contents.entries.push_back(std::move(*entry));
      } else {
        set_aside_as(path, path.stem().string(), path.string() + ".corrupt", entry.status().message());
      }
      continue;
    }
    auto slot = std::make_shared<Slot>();
    slot->path = path.string();
    slot->fd.reset(::open(slot->path.c_str(), O_RDWR | O_CLOEXEC));
    const std::string bytes = read_small_file(path, kJournalSlotMaxBytes);
    JournalSlotContents read = read_journal_slot(bytes);
    if (!slot->fd.valid()) {
      read.state = JournalSlotContents::State::kCorrupt;
      read.error = std::string("cannot open: ") + std::strerror(errno);
    } else if (bytes.size() > kJournalSlotMaxBytes) {
      read.state = JournalSlotContents::State::kCorrupt;
      read.error = "larger than " + std::to_string(kJournalSlotMaxBytes) + " bytes";
    }
    if (read.state == JournalSlotContents::State::kCorrupt) {
      slot->fd.reset();
      // The id in the record's header, else the file's name, if it looks like one.
      std::string id = looks_like_fault_id(read.fault_id) ? read.fault_id : in_spare ? "" : path.stem().string();
      const std::string name = in_spare ? (id.empty() ? "spare-" + path.stem().string() : id) : path.stem().string();
      set_aside_as(path, id, directory_ + "/" + name + ".fj.corrupt", "slot " + path.string() + ": " + read.error);
      continue;
    }
    slot->number = in_spare ? journal_spare_number(path) : -1;
    if (slot->number < 0) slot->number = next_number++;
    if (read.state == JournalSlotContents::State::kFree) {
      // A revert whose move to spare was lost, or an oddly named spare.
      const std::string spare_file = spare_path(slot->number);
      if (slot->path != spare_file) {
        if (::rename(slot->path.c_str(), spare_file.c_str()) != 0) continue;  // not reused; harmless
        slot->path = spare_file;
      }
      spare.push_back(slot);
      continue;
    }
    if (!read.warning.empty()) {
      std::cerr << "chaos-agent: warning: journal " << path.string() << ": " << read.warning << std::endl;
      contents.warnings.push_back(path.string() + ": " + read.warning);
    }
    slot->end = read.end;
    slot->used = bytes.size();
    live[read.fault_id] = slot;
    contents.entries.push_back(std::move(read.entry));
  }
  std::lock_guard lock(mutex_);
  live_ = std::move(live);
  spare_ = std::move(spare);
  next_spare_number_ = std::max(next_spare_number_, next_number);
  return contents;
}

Status FileFaultJournal::remove_corrupt(const std::string& path) {
  crash_point("journal.remove_corrupt");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("journal: unlink " + path);
  return fsync_path(directory_, O_RDONLY | O_DIRECTORY);
}

}  // namespace chaos::agent
