#include "agent/targets/runtime/container_selection.h"

#include <algorithm>

#include "agent/targets/container_finder.h"
#include "common/sampling.h"

namespace chaos::agent {

namespace {

bool has_labels(const ContainerInfo& container, const google::protobuf::Map<std::string, std::string>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& pair) {
    const auto it = container.labels.find(pair.first);
    return it != container.labels.end() && it->second == pair.second;
  });
}

// The sandbox of the container's pod: same pod uid when both carry one,
// else same pod namespace and name.
const ContainerInfo* pod_sandbox_of(const ContainerInfo& container, const std::vector<ContainerInfo>& all) {
  const std::string uid = container.label(kPodUidLabel);
  const std::string pod_namespace = container.label(kPodNamespaceLabel);
  const std::string pod_name = container.label(kPodNameLabel);
  for (const auto& candidate : all) {
    if (candidate.runtime != container.runtime || !is_pod_sandbox(candidate)) continue;
    const std::string candidate_uid = candidate.label(kPodUidLabel);
    if (!uid.empty() && !candidate_uid.empty()) {
      if (uid == candidate_uid) return &candidate;
      continue;
    }
    if (!pod_name.empty() && candidate.label(kPodNamespaceLabel) == pod_namespace &&
        candidate.label(kPodNameLabel) == pod_name) {
      return &candidate;
    }
  }
  return nullptr;
}

}  // namespace

bool is_pod_sandbox(const ContainerInfo& container) {
  return container.label("io.kubernetes.docker.type") == "podsandbox" ||
         container.label(kCriContainerdKindLabel) == "sandbox" || container.label(kContainerNameLabel) == "POD";
}

bool matches_selector(const v1::ContainerSelector& selector, const ContainerInfo& container,
                      const std::vector<ContainerInfo>& all) {
  if (is_pod_sandbox(container)) return false;
  if (!selector.runtime().empty() && selector.runtime() != container.runtime) return false;
  if (!selector.name().empty() && selector.name() != container.name) return false;
  if (!selector.id_prefix().empty()) {
    const auto& prefix = selector.id_prefix();
    if (container.id.size() < prefix.size() ||
        !std::equal(prefix.begin(), prefix.end(), container.id.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return false;
    }
  }
  if (!has_labels(container, selector.labels())) return false;
  if (!selector.pod_namespace().empty() && selector.pod_namespace() != container.label(kPodNamespaceLabel)) {
    return false;
  }
  if (!selector.pod_name().empty() && selector.pod_name() != container.label(kPodNameLabel)) return false;
  if (!selector.container_name().empty() && selector.container_name() != container.label(kContainerNameLabel)) {
    return false;
  }
  if (!selector.pod_labels().empty()) {
    const ContainerInfo* sandbox = pod_sandbox_of(container, all);
    if (!has_labels(sandbox != nullptr ? *sandbox : container, selector.pod_labels())) return false;
  }
  return true;
}

StatusOr<std::vector<ContainerInfo>> select_containers(const v1::ContainerSelector& selector,
                                                       std::vector<ContainerInfo> running, const std::string& field,
                                                       std::uint64_t seed) {
  std::vector<ContainerInfo> matches;
  for (const auto& container : running) {
    if (matches_selector(selector, container, running)) matches.push_back(container);
  }
  if (matches.empty()) return not_found(field + ": no running container matches " + describe_selector(selector));
  const auto by_id = [](const ContainerInfo& a, const ContainerInfo& b) {
    return std::tie(a.runtime, a.id) < std::tie(b.runtime, b.id);
  };
  std::sort(matches.begin(), matches.end(), by_id);
  keep_sample(matches, sample_size(matches.size(), selector.count(), selector.percent()), seed, by_id);
  return matches;
}

}  // namespace chaos::agent
