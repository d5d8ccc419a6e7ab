#include "agent/faults/process/signal_names.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <utility>
#include <vector>

namespace chaos::agent {

namespace {

const std::vector<std::pair<std::string, int>>& signal_table() {
  static const std::vector<std::pair<std::string, int>> table = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
      {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
      {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"SYS", SIGSYS},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},
      {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU}, {"CONT", SIGCONT},
  };
  return table;
}

bool is_stop_or_continue(int signal) {
  return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU || signal == SIGCONT;
}

}  // namespace

StatusOr<int> parse_kill_signal(const std::string& name, const std::string& field) {
  if (name.empty()) return SIGKILL;
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  if (upper.rfind("SIG", 0) == 0) upper = upper.substr(3);
  for (const auto& [known, number] : signal_table()) {
    if (known != upper) continue;
    if (is_stop_or_continue(number)) {
      return invalid_argument(field + ": SIG" + known + " would leave the process stopped; use process.pause");
    }
    return number;
  }
  return invalid_argument(field + ": unknown signal '" + name + "'");
}

std::string signal_display_name(int signal) {
  for (const auto& [known, number] : signal_table()) {
    if (number == signal) return "SIG" + known;
  }
  return "signal " + std::to_string(signal);
}

}  // namespace chaos::agent
