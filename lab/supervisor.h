// Keeps the lab's processes running the way systemd's Restart=always does:
// a process that exits for any reason (a chaos kill included) is started
// again after its restart delay. Time comes from an injected Clock and
// processes from a ProcessLauncher, so the logic is tested without waiting.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "lab/process_launcher.h"
#include "lab/process_spec.h"

namespace chaos::lab {

class Supervisor {
 public:
  using Logger = std::function<void(const std::string&)>;

  Supervisor(std::vector<ProcessSpec> specs, ProcessLauncher& launcher, Clock& clock, Logger log);

  // Starts every process in order. A process that cannot start is retried
  // by tick() like one that died.
  void start_all();
  // One pass: notices exits and restarts processes whose delay has passed.
  void tick();
  // SIGTERM to everyone, SIGKILL after `grace`, waiting via the clock.
  void stop_all(Duration grace);

  // Current pid of `name`, if it is running.
  std::optional<int> pid_of(const std::string& name) const;
  int restarts_of(const std::string& name) const;

 private:
  struct Managed {
    ProcessSpec spec;
    std::optional<int> pid;
    std::optional<SteadyTime> restart_at;
    int restarts = 0;
  };

  void launch(Managed& process);
  const Managed* find(const std::string& name) const;

  std::vector<Managed> processes_;
  ProcessLauncher& launcher_;
  Clock& clock_;
  Logger log_;
};

}  // namespace chaos::lab
