#include "common/proc_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <sstream>

namespace chaos {

std::optional<ProcStat> parse_proc_stat(const std::string& text) {
  // comm may hold spaces and parentheses: the last ')' ends it.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  ProcStat fields;
  fields.comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> tokens;
  for (std::string token; rest >> token;) tokens.push_back(token);
  // tokens[0] is field 3 (state); field N is tokens[N - 3].
  if (tokens.size() < 20 || tokens[0].size() != 1) return std::nullopt;
  try {
    fields.state = tokens[0][0];
    fields.ppid = std::stoi(tokens[1]);
    fields.flags = std::stoul(tokens[6]);
    fields.user_ticks = std::stoull(tokens[11]);
    fields.system_ticks = std::stoull(tokens[12]);
    fields.start_time = std::stoull(tokens[19]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return fields;
}

std::vector<int> parse_pid_lines(const std::string& text) {
  std::vector<int> pids;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    int pid = 0;
    const char* end = line.data() + line.size();
    if (!line.empty() && std::from_chars(line.data(), end, pid).ptr == end && pid > 0) pids.push_back(pid);
  }
  return pids;
}

std::optional<std::string> read_bounded(const std::string& path, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char chunk[4096];
  while (text.size() < limit) {
    const ssize_t got = ::read(fd, chunk, std::min(sizeof(chunk), limit - text.size()));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    text.append(chunk, static_cast<std::size_t>(got));
  }
  ::close(fd);
  return text;
}

std::vector<int> ProcReader::pids() const {
  std::vector<int> pids;
  if (DIR* dir = ::opendir(root_.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view name = entry->d_name;
      int pid = 0;
      const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
      if (error == std::errc() && end == name.data() + name.size() && pid > 0) pids.push_back(pid);
    }
    ::closedir(dir);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

std::optional<ProcStat> ProcReader::stat(int pid) const {
  const auto text = read_bounded(path_of(pid) + "/stat", kMaxProcStatBytes);
  if (!text) return std::nullopt;
  return parse_proc_stat(*text);
}

std::optional<std::vector<std::string>> ProcReader::argv(int pid) const {
  const auto raw = read_bounded(path_of(pid) + "/cmdline", kMaxProcCmdlineBytes);
  if (!raw) return std::nullopt;
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < raw->size()) {
    std::size_t end = raw->find('\0', start);
    if (end == std::string::npos) end = raw->size();  // unterminated (or cut at the bound)
    args.push_back(raw->substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::optional<std::string> ProcReader::cmdline(int pid) const {
  auto raw = read_bounded(path_of(pid) + "/cmdline", kMaxProcCmdlineBytes);
  if (!raw) return std::nullopt;
  while (!raw->empty() && raw->back() == '\0') raw->pop_back();
  std::replace(raw->begin(), raw->end(), '\0', ' ');
  return raw;
}

std::uint64_t ProcReader::netns_inode(const std::string& pid) const {
  struct stat info {};
  if (::stat((root_ + "/" + pid + "/ns/net").c_str(), &info) != 0) return 0;
  return static_cast<std::uint64_t>(info.st_ino);
}

}  // namespace chaos
