// The ContainerFinder the agent uses: asks each configured runtime for its
// running containers, selects and samples them (container_selection.h),
// then inspects only the chosen ones for their init pid, and pins that pid
// by its start time and network namespace.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/targets/container_finder.h"
#include "agent/targets/runtime/container_runtime.h"

namespace chaos::agent {

// A DockerApiRuntime per configured Docker API socket ([containers]
// podman_socket, docker_socket) and a ContainerdRuntime for
// containerd_socket (every containerd namespace); an empty path leaves that
// runtime off.
std::vector<std::unique_ptr<ContainerRuntime>> make_container_runtimes(const std::string& podman_socket,
                                                                       const std::string& docker_socket,
                                                                       const std::string& containerd_socket = "");

// Holds no state between calls: concurrent injects may call find() at once.
class RuntimeContainerFinder final : public ContainerFinder {
 public:
  explicit RuntimeContainerFinder(std::vector<std::unique_ptr<ContainerRuntime>> runtimes);

  // FAILED_PRECONDITION naming the config key when the selector's runtime
  // has no socket; UNAVAILABLE when a runtime asked cannot answer (a
  // partial listing could pick the wrong containers); NOT_FOUND when
  // nothing matches or a chosen container stops while it is resolved.
  StatusOr<std::vector<v1::ContainerRef>> find(const v1::ContainerSelector& selector, const std::string& field,
                                               std::uint64_t seed) override;

 private:
  StatusOr<v1::ContainerRef> resolve(ContainerRuntime& runtime, const ContainerInfo& chosen,
                                     const std::string& field) const;

  std::vector<std::unique_ptr<ContainerRuntime>> runtimes_;
};

}  // namespace chaos::agent
