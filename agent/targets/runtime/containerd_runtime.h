// containerd's native gRPC API over its unix socket (the hand-written
// subset in proto/containerd/). Containers are listed per containerd
// namespace ("default" for ctr, "k8s.io" for Kubernetes' CRI plugin, "moby"
// for Docker), with one Tasks/List per namespace telling which run; only the
// chosen containers' tasks are asked for their pid (Tasks/Get).
//
// Everything the socket says is untrusted input: each call has its own
// deadline within an overall one, messages are size-capped on the channel,
// the numbers of namespaces, containers and labels are capped, and every
// problem comes back as a Status naming the socket and the call.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/targets/runtime/container_runtime.h"

namespace chaos::agent {

struct ContainerdLimits {
  std::chrono::milliseconds call_deadline{2000};
  std::chrono::milliseconds total_deadline{10000};  // all calls of one list_running() or inspect()
  int max_message_bytes = 8 << 20;
  std::size_t max_namespaces = 64;
  std::size_t max_containers = 4096;  // over all namespaces
  // As in DockerApiLimits: containers with more labels are left out of
  // listings; longer label keys or values are dropped (no selector names
  // them).
  std::size_t max_labels = 256;
  std::size_t max_label_text = 253;
};

// Is `text` a containerd identifier (a namespace or container id)? Runs of
// letters and digits joined by single '_', '.' or '-', at most 76.
bool is_containerd_identifier(const std::string& text);

// A container record as the API returns it, mapped to ContainerInfo: the id
// is also the name (containerd containers have no other name: `ctr run`'s
// ID), labels beyond the bounds are dropped, and a container with too many
// labels is left out (nullopt).
std::optional<ContainerInfo> containerd_container_info(const std::string& runtime, const std::string& id,
                                                       const std::map<std::string, std::string>& labels,
                                                       const ContainerdLimits& limits);

// Nothing shared between calls (each makes its own channel), so several
// threads may use one instance.
class ContainerdRuntime final : public ContainerRuntime {
 public:
  // `namespaces` empty: every namespace the daemon has
  // (Namespaces/List on each call).
  ContainerdRuntime(std::string name, std::string socket_path, std::vector<std::string> namespaces = {},
                    ContainerdLimits limits = {});

  const std::string& name() const override { return name_; }
  const std::string& where() const override { return socket_path_; }
  // Containers/List and Tasks/List in each namespace: the containers whose
  // task is RUNNING.
  StatusOr<std::vector<ContainerInfo>> list_running() override;
  // Tasks/Get in each namespace. A container with no task, or with a task
  // not RUNNING, is not running; an id with tasks in two namespaces is
  // FAILED_PRECONDITION (the pid would be a guess).
  StatusOr<ContainerInfo> inspect(const std::string& id) override;

 private:
  std::string name_;
  std::string socket_path_;
  std::vector<std::string> namespaces_;
  ContainerdLimits limits_;
};

}  // namespace chaos::agent
