// The supervisor's launcher for the Podman flavour. A spec with a container
// name is started with its `podman run -d --replace` argv and watched
// through the container's init pid (nats-server itself): a chaos kill or
// pause of nats-server hits the broker exactly as with a plain process, and
// the supervisor starts a fresh container after the restart delay, as
// systemd would restart the unit running it. Other specs go to `processes`.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/command_runner.h"
#include "lab/process_launcher.h"

namespace chaos::lab {

class ContainerLauncher final : public ProcessLauncher {
 public:
  ContainerLauncher(CommandRunner& runner, ProcessLauncher& processes) : runner_(runner), processes_(processes) {}

  // Runs the container, reads its init pid from `podman inspect` and writes
  // it to the spec's pidfile.
  StatusOr<int> start(const ProcessSpec& spec) override;
  // A container's pid counts as running while that same process (same
  // start time) is alive: the init is conmon's child, not ours.
  bool running(int pid) override;
  void send_signal(int pid, int signal_number) override;

  // `podman rm -f -t 0` on every container started; after stop_all.
  Status remove_containers();

 private:
  struct Started {
    std::string container;
    std::uint64_t start_time = 0;
  };

  StatusOr<int> start_container(const ProcessSpec& spec);

  CommandRunner& runner_;
  ProcessLauncher& processes_;
  std::map<int, Started> containers_;  // by init pid
  std::vector<std::string> names_;     // every container ever started, for removal
};

// The pid in `podman inspect --format {{.State.Pid}}` output; 0 when the
// container is not running, nullopt when the text is not a pid.
std::optional<int> init_pid_in_inspect(const std::string& output);

}  // namespace chaos::lab
