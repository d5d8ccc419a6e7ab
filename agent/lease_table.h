// Leases: the orchestrator's dead-man switch. Each lease has a TTL and must
// be renewed before it runs out; the registry reverts every fault of a lease
// that expired. Not thread-safe: the FaultRegistry guards it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"

namespace chaos::agent {

struct Lease {
  std::string id;
  Duration ttl{0};
  SteadyTime expires_at{};
};

class LeaseTable {
 public:
  // Creates the lease, or extends it to now + ttl (a zero ttl on an existing
  // lease keeps its previous ttl). The caller validates ttl > 0 for a new one.
  const Lease& create_or_extend(const std::string& id, Duration ttl, SteadyTime now);
  // Extends a live lease; nullopt when it is unknown or already expired.
  std::optional<Lease> renew(const std::string& id, Duration ttl, SteadyTime now);
  std::optional<Lease> find(const std::string& id) const;
  bool contains(const std::string& id) const { return leases_.count(id) > 0; }
  // Removes and returns every lease whose deadline has passed.
  std::vector<Lease> take_expired(SteadyTime now);
  // The earliest deadline of any lease; nullopt when there is none.
  std::optional<SteadyTime> next_expiry() const;

 private:
  std::map<std::string, Lease> leases_;
};

}  // namespace chaos::agent
