// Which of the running containers a ContainerSelector names: pure, so every
// rule is unit-tested without a runtime.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/targets/runtime/container_runtime.h"
#include "chaos/v1/agent.pb.h"

namespace chaos::agent {

// The CRI labels kubelet puts on every container of a pod.
inline constexpr const char* kPodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr const char* kPodNameLabel = "io.kubernetes.pod.name";
inline constexpr const char* kPodUidLabel = "io.kubernetes.pod.uid";
inline constexpr const char* kContainerNameLabel = "io.kubernetes.container.name";
// containerd's CRI plugin marks each pod's sandbox with kind "sandbox".
inline constexpr const char* kCriContainerdKindLabel = "io.cri-containerd.kind";

// A pod's sandbox ("pause") container: it holds the pod's namespaces and
// labels but runs nothing of the workload, so it is never a target.
bool is_pod_sandbox(const ContainerInfo& container);

// Does `container` match every field `selector` sets? `all` is every
// running container (for a pod's sandbox); sandboxes never match.
bool matches_selector(const v1::ContainerSelector& selector, const ContainerInfo& container,
                      const std::vector<ContainerInfo>& all);

// The matches of `selector` among `running`, sorted by runtime and id, then
// sampled by its count or percent (ceil, at least 1) with a shuffle seeded
// by `seed`, so one fault always picks the same containers. NOT_FOUND
// "<field>: no running container matches <describe_selector>" when empty.
StatusOr<std::vector<ContainerInfo>> select_containers(const v1::ContainerSelector& selector,
                                                       std::vector<ContainerInfo> running, const std::string& field,
                                                       std::uint64_t seed);

}  // namespace chaos::agent
