#include "agent/targets/runtime/runtime_container_finder.h"

#include "agent/targets/namespaces/namespace_handle.h"
#include "agent/targets/runtime/container_selection.h"
#include "agent/targets/runtime/containerd_runtime.h"
#include "agent/targets/runtime/docker_api_runtime.h"
#include "common/check.h"
#include "common/proc_reader.h"

namespace chaos::agent {

std::vector<std::unique_ptr<ContainerRuntime>> make_container_runtimes(const std::string& podman_socket,
                                                                       const std::string& docker_socket,
                                                                       const std::string& containerd_socket) {
  std::vector<std::unique_ptr<ContainerRuntime>> runtimes;
  if (!podman_socket.empty()) runtimes.push_back(std::make_unique<DockerApiRuntime>("podman", podman_socket));
  if (!docker_socket.empty()) runtimes.push_back(std::make_unique<DockerApiRuntime>("docker", docker_socket));
  if (!containerd_socket.empty()) {
    runtimes.push_back(std::make_unique<ContainerdRuntime>("containerd", containerd_socket));
  }
  return runtimes;
}

RuntimeContainerFinder::RuntimeContainerFinder(std::vector<std::unique_ptr<ContainerRuntime>> runtimes)
    : runtimes_(std::move(runtimes)) {}

StatusOr<std::vector<v1::ContainerRef>> RuntimeContainerFinder::find(const v1::ContainerSelector& selector,
                                                                     const std::string& field, std::uint64_t seed) {
  std::vector<ContainerRuntime*> asked;
  for (const auto& runtime : runtimes_) {
    if (selector.runtime().empty() || selector.runtime() == runtime->name()) asked.push_back(runtime.get());
  }
  if (asked.empty()) {
    if (!selector.runtime().empty()) {
      return failed_precondition(field + ".runtime: this agent has no " + selector.runtime() +
                                 " socket; set [containers] " + selector.runtime() + "_socket in its config");
    }
    return failed_precondition(field +
                               ": this agent reaches no container runtime; set [containers] "
                               "podman_socket, docker_socket or containerd_socket in its config");
  }
  std::vector<ContainerInfo> running;
  for (ContainerRuntime* runtime : asked) {
    auto listed = runtime->list_running();
    if (!listed.ok()) return listed.status().with_context(field);
    for (auto& container : *listed) {
      container.runtime = runtime->name();
      running.push_back(std::move(container));
    }
  }
  CHAOS_ASSIGN_OR_RETURN(auto chosen, select_containers(selector, std::move(running), field, seed));
  std::vector<v1::ContainerRef> refs;
  for (const auto& container : chosen) {
    ContainerRuntime* runtime = nullptr;
    for (ContainerRuntime* candidate : asked) {
      if (candidate->name() == container.runtime) runtime = candidate;
    }
    CHAOS_CHECK(runtime != nullptr, "a selected container comes from a runtime that was asked");
    CHAOS_ASSIGN_OR_RETURN(auto ref, resolve(*runtime, container, field));
    refs.push_back(std::move(ref));
  }
  return refs;
}

StatusOr<v1::ContainerRef> RuntimeContainerFinder::resolve(ContainerRuntime& runtime, const ContainerInfo& chosen,
                                                           const std::string& field) const {
  auto inspected = runtime.inspect(chosen.id);
  if (!inspected.ok()) return inspected.status().with_context(field);
  // containerd containers are named by their id: say it once.
  const std::string who = runtime.name() + " container " + chosen.name +
                          (chosen.name == chosen.id ? "" : " (" + chosen.id.substr(0, 12) + ")");
  const auto gone = [&](const std::string& how) {
    return not_found(field + ": " + who + " " + how + " while the agent resolved it");
  };
  if (!inspected->running || inspected->pid <= 0) return gone("stopped");
  const ProcReader proc;
  const auto before = proc.stat(inspected->pid);
  if (!before) return gone("lost its init process " + std::to_string(inspected->pid));
  auto network = namespace_of(inspected->pid, "net");
  if (!network.ok()) return gone("lost its init process " + std::to_string(inspected->pid));
  // The namespace must be the one of the process whose start time we keep:
  // a pid reused in between would pin someone else's namespace.
  const auto after = proc.stat(inspected->pid);
  if (!after || after->start_time != before->start_time) return gone("restarted");

  v1::ContainerRef ref;
  ref.set_runtime(runtime.name());
  ref.set_id(chosen.id);
  ref.set_name(inspected->name.empty() ? chosen.name : inspected->name);
  ref.set_pid(inspected->pid);
  ref.set_pid_start_time(before->start_time);
  ref.set_network_namespace(network->to_string("net"));
  ref.set_pod_namespace(chosen.label(kPodNamespaceLabel));
  ref.set_pod_name(chosen.label(kPodNameLabel));
  return ref;
}

}  // namespace chaos::agent
