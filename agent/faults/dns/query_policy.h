// Decides, for one incoming query, what the stub responder does with it:
// reply at once (the fault), forward to the real upstream (non-matching
// names, unselected queries, anything we cannot parse), forward and then
// answer late (delay), or stay silent (timeout). Pure apart from a seeded
// PRNG, so tests can pin which share of queries the percent option hits.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <span>

#include "agent/faults/dns/dns_fault_spec.h"
#include "agent/faults/dns/dns_message.h"

namespace chaos::agent::dns {

// Short on purpose: a caching resolver in front of the application must not
// keep serving a spoofed address long after the fault is reverted.
inline constexpr std::uint32_t kSpoofTtlSeconds = 1;

struct QueryPlan {
  enum class Action { kReply, kForward, kDrop };
  Action action = Action::kForward;
  Bytes reply;                                     // kReply
  std::chrono::nanoseconds answer_delay{0};        // kForward: hold the upstream answer this long
  bool faulted = false;                            // the fault decided this query
};

class QueryPolicy {
 public:
  QueryPolicy(DnsFaultSpec spec, std::uint64_t seed);

  // Thread-safe: the UDP and TCP listeners share one policy.
  QueryPlan plan(std::span<const std::uint8_t> message);
  // The effect check's probe: a matching name always gets the fault (no
  // percent draw, so the check does not depend on luck and leaves the
  // PRNG's sequence for user queries alone).
  QueryPlan plan_probe(std::span<const std::uint8_t> message) const;

  const DnsFaultSpec& spec() const { return spec_; }

 private:
  bool selected_by_percent();
  QueryPlan plan_fault(const DnsQuery& query) const;

  const DnsFaultSpec spec_;
  std::mutex random_mutex_;
  std::mt19937_64 random_;
};

}  // namespace chaos::agent::dns
