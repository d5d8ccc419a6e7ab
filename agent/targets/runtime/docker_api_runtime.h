// The Docker Engine REST API over a unix socket. Docker serves it, and so
// does Podman (`podman system service`), so one client covers both.
//
// Everything the socket says is untrusted input: each call has connect and
// read timeouts and an overall deadline, bodies are capped, the number of
// containers and labels is capped, and any transport, status or JSON
// problem comes back as a Status naming the socket and the endpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "agent/targets/runtime/container_runtime.h"

namespace chaos::agent {

struct DockerApiLimits {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{2000};
  std::chrono::milliseconds call_deadline{10000};  // a server dripping bytes still ends
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_containers = 4096;
  // Containers with more labels are left out of listings (they can never
  // be targets); longer label keys or values are dropped, since no valid
  // selector (at most 253 characters) could name them.
  std::size_t max_labels = 256;
  std::size_t max_label_text = 253;
};

// One connection per call and nothing shared between calls, so several
// threads may use one instance.
class DockerApiRuntime final : public ContainerRuntime {
 public:
  DockerApiRuntime(std::string name, std::string socket_path, DockerApiLimits limits = {});

  const std::string& name() const override { return name_; }
  const std::string& where() const override { return socket_path_; }
  // GET /v1.40/containers/json (running containers only).
  StatusOr<std::vector<ContainerInfo>> list_running() override;
  // GET /v1.40/containers/{id}/json.
  StatusOr<ContainerInfo> inspect(const std::string& id) override;

 private:
  StatusOr<std::string> get(const std::string& endpoint) const;

  std::string name_;
  std::string socket_path_;
  DockerApiLimits limits_;
};

}  // namespace chaos::agent
