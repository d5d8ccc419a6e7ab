#include "lab/process_launcher.h"

#include <signal.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cstdio>
#include <fstream>

#include "common/child_descriptors.h"
#include "common/command_runner.h"

namespace chaos::lab {

namespace bp = boost::process;

struct ChildProcessLauncher::Children {
  std::map<int, bp::child> by_pid;
};

ChildProcessLauncher::ChildProcessLauncher() : children_(std::make_unique<Children>()) {}

ChildProcessLauncher::~ChildProcessLauncher() {
  // bp::child kills a still-running child in its destructor; the
  // supervisor stops everyone first, so this only reaps.
  for (auto& [pid, child] : children_->by_pid) {
    std::error_code ignored;
    if (child.running(ignored)) child.terminate(ignored);
    child.wait(ignored);
  }
}

namespace {

StatusOr<boost::filesystem::path> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return boost::filesystem::path(name);
  const std::string found = find_in_directories(name, kSystemProgramDirectories);
  if (found.empty()) return not_found("program '" + name + "' not found");
  return boost::filesystem::path(found);
}

// The supervisor blocks SIGTERM/SIGINT/SIGHUP to wait for them; a signal
// mask survives exec, so without this dnsmasq would ignore SIGTERM.
const auto unblock_all_signals = [](auto&) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
};

}  // namespace

Status write_pidfile(const std::string& path, int pid) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << pid << "\n";
    if (!out.flush()) return internal_error("cannot write pidfile " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return internal_error("cannot rename " + temporary + " to " + path);
  }
  return {};
}

StatusOr<int> ChildProcessLauncher::start(const ProcessSpec& spec) {
  if (spec.argv.empty()) return invalid_argument("process '" + spec.name + "' has an empty argv");
  CHAOS_ASSIGN_OR_RETURN(auto program, find_program(spec.argv[0]));
  // "e": close-on-exec, so only the child's stdout/stderr keep the log open.
  FILE* log = std::fopen(spec.logfile.c_str(), "ae");
  if (log == nullptr) return internal_error("cannot open log " + spec.logfile + " for " + spec.name);
  std::error_code launch_error;
  bp::child child(program, bp::args(std::vector<std::string>(spec.argv.begin() + 1, spec.argv.end())),
                  bp::std_in < bp::null, bp::std_out > log, bp::std_err > log,
                  bp::extend::on_exec_setup = unblock_all_signals, launch_error, InheritOnlyStandardStreams{});
  std::fclose(log);
  if (launch_error) {
    return unavailable("cannot start " + spec.name + " (" + program.string() + "): " + launch_error.message());
  }
  const int pid = child.id();
  children_->by_pid.emplace(pid, std::move(child));
  CHAOS_RETURN_IF_ERROR(write_pidfile(spec.pidfile, pid));
  return pid;
}

bool ChildProcessLauncher::running(int pid) {
  auto found = children_->by_pid.find(pid);
  if (found == children_->by_pid.end()) return false;
  std::error_code error;
  if (found->second.running(error) && !error) return true;
  found->second.wait(error);
  children_->by_pid.erase(found);
  return false;
}

void ChildProcessLauncher::send_signal(int pid, int signal_number) {
  if (children_->by_pid.count(pid) != 0) ::kill(pid, signal_number);
}

}  // namespace chaos::lab
