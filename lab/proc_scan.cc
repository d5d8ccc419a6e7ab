#include "lab/proc_scan.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace chaos::lab {

std::vector<std::string> process_cmdline(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> argv;
  std::string current;
  for (char c : raw) {
    if (c == '\0') {
      argv.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) argv.push_back(current);
  return argv;
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie still answers kill(0) but is gone for our purposes.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

std::optional<int> read_pidfile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  int pid = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (error != std::errc() || end != text.data() + text.size() || pid <= 1) return std::nullopt;
  return pid;
}

bool cmdline_matches(const std::vector<std::string>& argv, const std::string& program, const std::string& marker) {
  if (argv.empty() || marker.empty()) return false;
  const std::string& first = argv.front();
  const bool program_matches =
      first == program || (first.size() > program.size() &&
                           first.compare(first.size() - program.size() - 1, std::string::npos, "/" + program) == 0);
  if (!program_matches) return false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (argv[i].find(marker) != std::string::npos) return true;
  }
  return false;
}

std::vector<int> find_processes(const std::string& program, const std::string& marker) {
  std::vector<int> pids;
  const int self = static_cast<int>(::getpid());
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    auto [end, parse_error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (parse_error != std::errc() || end != name.data() + name.size() || pid == self) continue;
    if (cmdline_matches(process_cmdline(pid), program, marker) && process_alive(pid)) pids.push_back(pid);
  }
  return pids;
}

}  // namespace chaos::lab
