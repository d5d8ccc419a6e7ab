#include "lab/container_launcher.h"

#include <signal.h>

#include <algorithm>
#include <charconv>

#include "common/proc_reader.h"
#include "lab/lab_containers.h"
#include "lab/proc_scan.h"

namespace chaos::lab {

namespace {

std::optional<std::uint64_t> start_time_of(int pid) {
  const auto stat = ProcReader().stat(pid);
  if (!stat || stat->dead()) return std::nullopt;
  return stat->start_time;
}

}  // namespace

std::optional<int> init_pid_in_inspect(const std::string& output) {
  std::string text = output;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  int pid = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || pid < 0) return std::nullopt;
  return pid;
}

StatusOr<int> ContainerLauncher::start(const ProcessSpec& spec) {
  if (spec.container.empty()) return processes_.start(spec);
  return start_container(spec);
}

StatusOr<int> ContainerLauncher::start_container(const ProcessSpec& spec) {
  if (std::find(names_.begin(), names_.end(), spec.container) == names_.end()) names_.push_back(spec.container);
  const RunOptions options{"", kPodmanTimeout};
  CHAOS_RETURN_IF_ERROR(runner_.run_checked(spec.argv, options).status().with_context("container " + spec.container));
  std::vector<std::string> inspect = podman_command();
  for (const std::string word : {"inspect", "--format", "{{.State.Pid}}"}) inspect.push_back(word);
  inspect.push_back(spec.container);
  CHAOS_ASSIGN_OR_RETURN(auto result, runner_.run_checked(inspect, options));
  const auto pid = init_pid_in_inspect(result.stdout_text);
  if (!pid) return internal_error("podman inspect " + spec.container + ": no pid in '" + result.stdout_text + "'");
  const auto started = *pid > 1 ? start_time_of(*pid) : std::nullopt;
  if (!started) {
    return unavailable("container " + spec.container + " exited right after it started; see " + spec.logfile +
                       " and its -container.log");
  }
  containers_[*pid] = Started{spec.container, *started};
  CHAOS_RETURN_IF_ERROR(write_pidfile(spec.pidfile, *pid));
  return *pid;
}

bool ContainerLauncher::running(int pid) {
  auto found = containers_.find(pid);
  if (found == containers_.end()) return processes_.running(pid);
  if (start_time_of(pid) == found->second.start_time) return true;
  containers_.erase(found);
  return false;
}

void ContainerLauncher::send_signal(int pid, int signal_number) {
  auto found = containers_.find(pid);
  if (found == containers_.end()) {
    processes_.send_signal(pid, signal_number);
    return;
  }
  // Never signal a pid that is no longer the container's init.
  if (start_time_of(pid) == found->second.start_time) ::kill(pid, signal_number);
}

Status ContainerLauncher::remove_containers() {
  if (names_.empty()) return {};
  std::vector<std::string> argv = podman_command();
  for (const std::string word : {"rm", "-f", "-t", "0", "--ignore"}) argv.push_back(word);
  argv.insert(argv.end(), names_.begin(), names_.end());
  CHAOS_RETURN_IF_ERROR(runner_.run_checked(argv, RunOptions{"", kPodmanTimeout}).status());
  names_.clear();
  return {};
}

}  // namespace chaos::lab
