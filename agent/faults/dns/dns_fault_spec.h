// The validated form of a v1::DnsFault: built once at the gRPC edge, trusted
// by everything after it. Errors name the proto field ("dns.patterns[1]: ...").
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/faults/dns/dns_message.h"
#include "agent/faults/dns/name_pattern.h"
#include "chaos/v1/agent.pb.h"
#include "common/status.h"

namespace chaos::agent::dns {

enum class DnsFaultMode { kNxDomain, kServFail, kRefused, kTimeout, kDelay, kSpoof };

const char* dns_fault_mode_name(DnsFaultMode mode);

// Limits that keep every reply inside one 512-octet UDP message and every
// delay shorter than any sane fault.
inline constexpr std::size_t kMaxPatterns = 64;
inline constexpr std::size_t kMaxSpoofAddressesPerFamily = 8;
inline constexpr std::chrono::hours kMaxDelay{1};

struct DnsFaultSpec {
  std::vector<NamePattern> patterns;
  DnsFaultMode mode = DnsFaultMode::kNxDomain;
  std::chrono::nanoseconds delay{0};  // kDelay only
  SpoofedAddresses spoof;             // kSpoof only
  double percent = 100.0;             // (0, 100]

  bool matches(const std::string& dotted_lower_name) const;
  // "nxdomain for *.lab, db.example (50%)"
  std::string describe() const;
};

StatusOr<DnsFaultSpec> parse_dns_fault_spec(const v1::DnsFault& proto);

}  // namespace chaos::agent::dns
