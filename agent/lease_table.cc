#include "agent/lease_table.h"

namespace chaos::agent {

const Lease& LeaseTable::create_or_extend(const std::string& id, Duration ttl, SteadyTime now) {
  Lease& lease = leases_[id];
  lease.id = id;
  if (ttl.count() > 0) lease.ttl = ttl;
  lease.expires_at = now + lease.ttl;
  return lease;
}

std::optional<Lease> LeaseTable::renew(const std::string& id, Duration ttl, SteadyTime now) {
  auto found = leases_.find(id);
  if (found == leases_.end() || found->second.expires_at <= now) return std::nullopt;
  return create_or_extend(id, ttl, now);
}

std::optional<Lease> LeaseTable::find(const std::string& id) const {
  auto found = leases_.find(id);
  if (found == leases_.end()) return std::nullopt;
  return found->second;
}

std::vector<Lease> LeaseTable::take_expired(SteadyTime now) {
  std::vector<Lease> expired;
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second.expires_at <= now) {
      expired.push_back(it->second);
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

std::optional<SteadyTime> LeaseTable::next_expiry() const {
  std::optional<SteadyTime> next;
  for (const auto& [id, lease] : leases_) {
    if (!next || lease.expires_at < *next) next = lease.expires_at;
  }
  return next;
}

}  // namespace chaos::agent
