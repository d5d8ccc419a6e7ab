#include "agent/fault_journal.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/crash_point.h"

namespace chaos::agent {

namespace {

namespace fs = std::filesystem;

// A journal entry is a fault spec and an undo record: kilobytes. A larger
// file is not ours (or is damaged) and is not read into memory whole.
constexpr std::size_t kMaxJournalEntryBytes = 1 << 20;

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

Status write_file_durably(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_error("create " + temp);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const Status error = errno_error("write " + temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const Status error = errno_error("fsync " + temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return error;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const Status error = errno_error("rename " + temp);
    ::unlink(temp.c_str());
    return error;
  }
  return fsync_path(fs::path(path).parent_path().string(), O_RDONLY | O_DIRECTORY);
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

FileFaultJournal::FileFaultJournal(std::string state_dir) : directory_((fs::path(state_dir) / "journal").string()) {}

Status FileFaultJournal::open() {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) return internal_error("cannot create journal directory " + directory_ + ": " + error.message());
  if (::access(directory_.c_str(), W_OK) != 0) return errno_error("journal directory " + directory_);
  return {};
}

Status FileFaultJournal::write(const JournalEntry& entry) {
  crash_point("journal.write " + entry.fault_id);
  const std::string path = directory_ + "/" + entry.fault_id + ".json";
  return write_file_durably(path, journal_entry_to_json(entry).dump(2) + "\n")
      .with_context("journal " + entry.fault_id);
}

Status FileFaultJournal::remove(const std::string& fault_id) {
  crash_point("journal.remove " + fault_id);
  const std::string path = directory_ + "/" + fault_id + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("journal: unlink " + path);
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

std::string read_small_file(const fs::path& path) {
  std::ifstream in(path);
  std::string text(kMaxJournalEntryBytes + 1, '\0');
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

}  // namespace

StatusOr<FaultJournal::Contents> FileFaultJournal::load_all() {
  Contents contents;
  std::error_code error;
  std::vector<fs::path> files;
  std::vector<fs::path> set_aside;
  // An empty list from a directory that could not be read would pass for a
  // clean node, so a listing error fails the whole load.
  std::error_code listing;
  for (fs::directory_iterator it(directory_, listing), end; !listing && it != end; it.increment(listing)) {
    const auto& path = it->path();
    if (path.extension() == ".tmp") {
      fs::remove(path, error);  // a write that never reached its rename
    } else if (path.extension() == ".json") {
      files.push_back(path);
    } else if (path.extension() == ".corrupt") {
      set_aside.push_back(path);
    }
  }
  if (listing) return internal_error("journal: cannot list " + directory_ + ": " + listing.message());
  std::sort(files.begin(), files.end());
  std::sort(set_aside.begin(), set_aside.end());
  for (const auto& path : set_aside) {
    const std::string id = fs::path(path.stem()).stem().string();  // <id>.json.corrupt
    contents.corrupt.push_back({looks_like_fault_id(id) ? id : "", path.string(), "set aside by an earlier start"});
  }
  for (const auto& path : files) {
    StatusOr<JournalEntry> entry = parse_entry_file(path);
    if (entry.ok()) {
      contents.entries.push_back(std::move(*entry));
      continue;
    }
    const std::string corrupt = path.string() + ".corrupt";
    fs::rename(path, corrupt, error);
    const std::string id = path.stem().string();
    contents.corrupt.push_back({looks_like_fault_id(id) ? id : "", error ? path.string() : corrupt,
                                entry.status().message()});
  }
  return contents;
}

Status FileFaultJournal::remove_corrupt(const std::string& path) {
  crash_point("journal.remove_corrupt");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("journal: unlink " + path);
  return fsync_path(directory_, O_RDONLY | O_DIRECTORY);
}

}  // namespace chaos::agent
