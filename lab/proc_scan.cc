#include "lab/proc_scan.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>

#include "common/proc_reader.h"

namespace chaos::lab {

std::vector<std::string> process_cmdline(int pid) {
  return ProcReader().argv(pid).value_or(std::vector<std::string>{});
}

bool process_alive(int pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie still answers kill(0) but is gone for our purposes.
  const auto stat = ProcReader().stat(pid);
  return stat && !stat->dead();
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
  const ProcReader proc;
  for (int pid : proc.pids()) {
    if (pid == self) continue;
    const auto argv = proc.argv(pid);
    if (argv && cmdline_matches(*argv, program, marker) && process_alive(pid)) pids.push_back(pid);
  }
  return pids;
}

}  // namespace chaos::lab
