// One long-running lab process as the supervisor sees it: what to run,
// where its output goes, where its pid is published, and how long to wait
// before restarting it (systemd's RestartSec).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace chaos::lab {

struct ProcessSpec {
  std::string name;               // "nats-n1", "agent-n1", "prometheus", ...
  // How `down` finds it again after a crash: the program's base name and a
  // string in its argv that is unique to this lab (a path in the state dir
  // or a lab-specific address).
  std::string program;
  std::string marker;
  std::vector<std::string> argv;  // argv[0] absolute or looked up in PATH
  std::string logfile;            // stdout and stderr, appended
  std::string pidfile;            // written on every (re)start
  std::chrono::milliseconds restart_delay{2000};
  // Podman flavour: the Podman container this process is the init of; argv
  // is then `podman ... run -d --replace ...`, which returns once it runs.
  // Empty: a plain child process.
  std::string container;
};

}  // namespace chaos::lab
