// A container runtime the agent asks which containers run on this host and
// what their init process is. The real one speaks the Docker Engine API
// (docker_api_runtime.h), which Docker and Podman both serve; tests use
// fakes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::agent {

struct ContainerInfo {
  std::string runtime;  // "podman", "docker": the runtime that reported it
  std::string id;       // full hex id
  std::string name;     // without Docker's leading '/'
  std::map<std::string, std::string> labels;
  int pid = 0;  // init process in the host's pid namespace; 0 until inspected
  bool running = false;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  // "podman" or "docker": what ContainerSelector.runtime names.
  virtual const std::string& name() const = 0;
  // Where the runtime is asked ("/run/podman/podman.sock"), for messages.
  virtual const std::string& where() const = 0;
  // The running containers, without pids (listing is one cheap call).
  virtual StatusOr<std::vector<ContainerInfo>> list_running() = 0;
  // One container with its pid; `running` false once it has stopped.
  virtual StatusOr<ContainerInfo> inspect(const std::string& id) = 0;
};

}  // namespace chaos::agent
