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

  // The label's value, or "" when the container has no such label.
  std::string label(const std::string& key) const {
    const auto it = labels.find(key);
    return it == labels.end() ? std::string() : it->second;
  }
};

// A bounded, printable excerpt of what a runtime said (a reply body, an
// error, an id), for messages: hostile bytes never reach a log or a client.
inline std::string runtime_reply_excerpt(const std::string& text) {
  constexpr std::size_t kMaxQuoted = 200;
  std::string out;
  for (unsigned char c : text.substr(0, kMaxQuoted)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  if (text.size() > kMaxQuoted) out += "...";
  return out;
}

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
