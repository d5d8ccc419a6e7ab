#include "agent/faults/network/network_runtime.h"

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

}  // namespace chaos::agent::network
