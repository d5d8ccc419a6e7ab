#include "agent/faults/process/pidfile.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/unique_fd.h"

namespace chaos::agent {

namespace {

// PID_MAX_LIMIT on 64-bit Linux: no pid is larger.
constexpr int kMaxPid = 4194304;

std::string file_type(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

Status not_regular(const std::string& what, mode_t mode) {
  const std::string type = file_type(mode);
  if (type == "not a regular file") return failed_precondition(what + " is not a regular file");
  return failed_precondition(what + " is " + type + ", not a regular file");
}

Status open_error(const std::string& what, int error) {
  if (error == ENOENT || error == ENOTDIR) return not_found(what + " does not exist");
  // O_NOFOLLOW on a symbolic link (when it was swapped in after the check).
  if (error == ELOOP) return failed_precondition(what + " is a symbolic link, not a regular file");
  return failed_precondition(what + " cannot be opened: " + std::strerror(error));
}

// Opens `path` plainly (`root_fd` < 0), or inside the directory `root_fd`
// as its "/": absolute links and ".." stop at that root, and magic links
// (/proc/self/...) are refused.
int open_pidfile(int root_fd, const std::string& path, int flags) {
  if (root_fd < 0) return ::open(path.c_str(), flags);
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof(how)));
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Status validate_pidfile_path(const std::string& path, const std::string& field) {
  if (path.empty() || path[0] != '/') return invalid_argument(field + ": must be an absolute path");
  if (path.size() > kMaxPidfilePathBytes) {
    return invalid_argument(field + ": longer than " + std::to_string(kMaxPidfilePathBytes) + " bytes");
  }
  if (path.find('\0') != std::string::npos) return invalid_argument(field + ": contains a NUL byte");
  return {};
}

StatusOr<int> parse_pidfile_text(const std::string& text, const std::string& what) {
  std::size_t begin = 0;
  while (begin < text.size() && blank(text[begin])) ++begin;
  std::size_t end = text.size();
  while (end > begin && blank(text[end - 1])) --end;
  const char* first = text.data() + begin;
  const char* last = text.data() + end;
  const bool digits = begin < end && std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; });
  int pid = 0;
  // from_chars on digits only: no sign, no "0x", and overflow is an error.
  const bool parsed = digits && *first != '0' && std::from_chars(first, last, pid).ptr == last;
  if (!parsed || pid <= 0 || pid > kMaxPid) return failed_precondition(what + " does not hold a pid");
  return pid;
}

namespace {

StatusOr<int> read_pidfile_at(int root_fd, const std::string& path, const std::string& what) {
  // First look without opening: an O_PATH descriptor runs no driver's
  // open() and does not wait for a FIFO's writer, and with O_NOFOLLOW it
  // names a final symbolic link itself rather than its target.
  const UniqueFd probe(open_pidfile(root_fd, path, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (probe.get() < 0) return open_error(what, errno);
  struct stat looked {};
  if (::fstat(probe.get(), &looked) != 0) return open_error(what, errno);
  if (!S_ISREG(looked.st_mode)) return not_regular(what, looked.st_mode);

  // The path may have been swapped since: O_NONBLOCK keeps a FIFO from
  // blocking this open, and the second fstat must find the same file.
  const UniqueFd file(open_pidfile(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC));
  if (file.get() < 0) return open_error(what, errno);
  struct stat opened {};
  if (::fstat(file.get(), &opened) != 0) return open_error(what, errno);
  if (!S_ISREG(opened.st_mode)) return not_regular(what, opened.st_mode);
  if (opened.st_dev != looked.st_dev || opened.st_ino != looked.st_ino) {
    return failed_precondition(what + " was replaced while it was read");
  }
  const std::string too_long = what + " is longer than " + std::to_string(kMaxPidfileBytes) + " bytes";
  if (opened.st_size > static_cast<off_t>(kMaxPidfileBytes)) return failed_precondition(too_long);

  // One byte more than the cap tells a file that grew since fstat.
  char buffer[kMaxPidfileBytes + 1];
  std::size_t filled = 0;
  while (filled < sizeof(buffer)) {
    const ssize_t got = ::read(file.get(), buffer + filled, sizeof(buffer) - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return failed_precondition(what + " cannot be read: " + std::strerror(errno));
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  if (filled > kMaxPidfileBytes) return failed_precondition(too_long);
  return parse_pidfile_text(std::string(buffer, filled), what);
}

}  // namespace

StatusOr<int> read_pidfile(const std::string& path, const std::string& field) {
  CHAOS_RETURN_IF_ERROR(validate_pidfile_path(path, field));
  return read_pidfile_at(-1, path, field + ": '" + path + "'");
}

StatusOr<int> read_pidfile_in_root(const std::string& root, const std::string& path, const std::string& field) {
  CHAOS_RETURN_IF_ERROR(validate_pidfile_path(path, field));
  const std::string what = field + ": '" + path + "' under " + root;
  const UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) return open_error(what, errno);
  return read_pidfile_at(root_fd.get(), path, what);
}

}  // namespace chaos::agent
