#include "agent/faults/network/network_runtime.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "agent/targets/namespaces/namespace_handle.h"

namespace chaos::agent::network {

Status ScopeBook::reserve(const std::string& group, const std::string& fault_id, const TrafficScope& scope) {
  std::lock_guard lock(mutex_);
  for (const auto& [other_id, entry] : entries_) {
    if (entry.group == group && scopes_overlap(entry.scope, scope)) {
      return failed_precondition("scope " + scope.describe() + " overlaps live fault " + other_id + " (" +
                                 entry.scope.describe() + ") on the same " + group +
                                 " backend; revert it first or narrow the scope");
    }
  }
  entries_[fault_id] = Entry{group, scope};
  return {};
}

void ScopeBook::release(const std::string& fault_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(fault_id);
}

std::optional<std::uint16_t> QueueNumbers::acquire() {
  std::lock_guard lock(mutex_);
  for (std::uint16_t number = kFirst; number < kFirst + kCount; ++number) {
    if (in_use_.insert(number).second) return number;
  }
  return std::nullopt;
}

void QueueNumbers::release(std::uint16_t number) {
  std::lock_guard lock(mutex_);
  in_use_.erase(number);
}

std::shared_ptr<MangleTableKeeper> MangleKeepers::keeper_for(const std::string& network_namespace,
                                                             const std::function<std::string()>& namespace_cookie) {
  std::lock_guard lock(mutex_);
  std::erase_if(keepers_, [](const auto& entry) { return entry.second.expired(); });
  if (auto existing = keepers_[network_namespace].lock()) return existing;
  std::string path;
  // Only a namespace identity names the same namespace after a restart.
  if (!state_dir_.empty() && network_namespace.rfind("net:", 0) == 0) {
    // "net:[4026532301]" -> "net-4026532301": a file name without brackets.
    std::string name;
    for (const char c : network_namespace) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        name += c;
      } else if (c == ':') {
        name += '-';
      }
    }
    path = state_dir_ + "/network/mangle-baseline-" + name + ".json";
  }
  std::string cookie = path.empty() ? "" : namespace_cookie();
  auto keeper = std::make_shared<MangleTableKeeper>(std::move(path), boot_id_, std::move(cookie));
  keepers_[network_namespace] = keeper;
  return keeper;
}

NetworkSite NetworkRuntime::site_of(const FaultContext& context) {
  if (context.container == nullptr) return NetworkSite{env.commands, -1, "", mangle};
  const ContainerScope& container = *context.container;
  // The identity the targeting wrapper read from the held namespace; a
  // scope without one (a caller that did not resolve it) is keyed by its
  // descriptor, which is unique while the fault holds it.
  std::string network_namespace = container.ref.network_namespace();
  if (network_namespace.empty()) network_namespace = "fd:" + std::to_string(container.network_namespace_fd);
  if (network_namespace == agent_network_namespace) {
    // Entered all the same (the container's runner): the same kernel
    // objects either way, and the runner is what recovery asks for.
    return NetworkSite{container.commands, container.network_namespace_fd, "", mangle};
  }
  const int fd = container.network_namespace_fd;
  const auto cookie = [fd] {
    if (fd < 0) return std::string();  // no handle: the agent's own cookie would be recorded
    const auto read = network_namespace_cookie(fd);
    return read.ok() ? std::to_string(*read) : std::string();
  };
  return NetworkSite{container.commands, fd, network_namespace,
                     container_mangle->keeper_for(network_namespace, cookie)};
}

}  // namespace chaos::agent::network
