#include "agent/faults/dns/dns_fault_spec.h"

#include <arpa/inet.h>

#include <cmath>

#include "common/duration.h"

namespace chaos::agent::dns {

namespace {

Status field_error(const std::string& field, const std::string& what) {
  return invalid_argument("dns." + field + ": " + what);
}

StatusOr<DnsFaultMode> parse_mode(v1::DnsFault::Mode mode) {
  switch (mode) {
    case v1::DnsFault::MODE_NXDOMAIN: return DnsFaultMode::kNxDomain;
    case v1::DnsFault::MODE_SERVFAIL: return DnsFaultMode::kServFail;
    case v1::DnsFault::MODE_REFUSED: return DnsFaultMode::kRefused;
    case v1::DnsFault::MODE_TIMEOUT: return DnsFaultMode::kTimeout;
    case v1::DnsFault::MODE_DELAY: return DnsFaultMode::kDelay;
    case v1::DnsFault::MODE_SPOOF: return DnsFaultMode::kSpoof;
    default: break;
  }
  return field_error("mode", "must be one of nxdomain, servfail, refused, timeout, delay, spoof");
}

Status parse_patterns(const v1::DnsFault& proto, DnsFaultSpec& spec) {
  if (proto.patterns_size() == 0) return field_error("patterns", "at least one pattern is required");
  if (static_cast<std::size_t>(proto.patterns_size()) > kMaxPatterns) {
    return field_error("patterns", "at most " + std::to_string(kMaxPatterns) + " patterns");
  }
  for (int i = 0; i < proto.patterns_size(); ++i) {
    auto pattern = NamePattern::compile(proto.patterns(i));
    if (!pattern.ok()) {
      return field_error("patterns[" + std::to_string(i) + "]", pattern.status().message());
    }
    spec.patterns.push_back(std::move(pattern).value());
  }
  return {};
}

Status parse_spoof_addresses(const v1::DnsFault& proto, DnsFaultSpec& spec) {
  if (proto.spoof_addresses_size() == 0) {
    return field_error("spoof_addresses", "at least one address is required for mode spoof");
  }
  for (int i = 0; i < proto.spoof_addresses_size(); ++i) {
    const std::string& text = proto.spoof_addresses(i);
    const std::string field = "spoof_addresses[" + std::to_string(i) + "]";
    std::array<std::uint8_t, 4> v4{};
    std::array<std::uint8_t, 16> v6{};
    if (inet_pton(AF_INET, text.c_str(), v4.data()) == 1) {
      spec.spoof.ipv4.push_back(v4);
    } else if (inet_pton(AF_INET6, text.c_str(), v6.data()) == 1) {
      spec.spoof.ipv6.push_back(v6);
    } else {
      return field_error(field, "'" + text.substr(0, 64) + "' is not an IPv4 or IPv6 address");
    }
  }
  if (spec.spoof.ipv4.size() > kMaxSpoofAddressesPerFamily ||
      spec.spoof.ipv6.size() > kMaxSpoofAddressesPerFamily) {
    return field_error("spoof_addresses", "at most " + std::to_string(kMaxSpoofAddressesPerFamily) +
                                              " addresses per family (one UDP reply must hold them)");
  }
  return {};
}

Status parse_delay(const v1::DnsFault& proto, DnsFaultSpec& spec) {
  const auto& delay = proto.delay();
  if (delay.seconds() < 0 || delay.nanos() < 0 || delay.nanos() >= 1'000'000'000) {
    return field_error("delay", "must be a valid non-negative duration");
  }
  if (delay.seconds() > std::chrono::duration_cast<std::chrono::seconds>(kMaxDelay).count()) {
    return field_error("delay", "must be at most " + format_duration(kMaxDelay));
  }
  spec.delay = std::chrono::seconds(delay.seconds()) + std::chrono::nanoseconds(delay.nanos());
  if (spec.delay <= std::chrono::nanoseconds(0)) return field_error("delay", "must be positive for mode delay");
  return {};
}

}  // namespace

const char* dns_fault_mode_name(DnsFaultMode mode) {
  switch (mode) {
    case DnsFaultMode::kNxDomain: return "nxdomain";
    case DnsFaultMode::kServFail: return "servfail";
    case DnsFaultMode::kRefused: return "refused";
    case DnsFaultMode::kTimeout: return "timeout";
    case DnsFaultMode::kDelay: return "delay";
    case DnsFaultMode::kSpoof: return "spoof";
  }
  return "unknown";
}

bool DnsFaultSpec::matches(const std::string& dotted_lower_name) const {
  for (const auto& pattern : patterns) {
    if (pattern.matches(dotted_lower_name)) return true;
  }
  return false;
}

std::string DnsFaultSpec::describe() const {
  std::string text = dns_fault_mode_name(mode);
  if (mode == DnsFaultMode::kDelay) text += " " + format_duration(delay);
  text += " for ";
  for (std::size_t i = 0; i < patterns.size(); ++i) text += (i ? ", " : "") + patterns[i].text();
  if (percent < 100.0) text += " (" + std::to_string(static_cast<int>(std::lround(percent))) + "%)";
  return text;
}

StatusOr<DnsFaultSpec> parse_dns_fault_spec(const v1::DnsFault& proto) {
  DnsFaultSpec spec;
  CHAOS_ASSIGN_OR_RETURN(spec.mode, parse_mode(proto.mode()));
  CHAOS_RETURN_IF_ERROR(parse_patterns(proto, spec));
  if (spec.mode == DnsFaultMode::kDelay) CHAOS_RETURN_IF_ERROR(parse_delay(proto, spec));
  if (spec.mode == DnsFaultMode::kSpoof) CHAOS_RETURN_IF_ERROR(parse_spoof_addresses(proto, spec));
  if (spec.mode != DnsFaultMode::kDelay && (proto.delay().seconds() != 0 || proto.delay().nanos() != 0)) {
    return field_error("delay", "only valid with mode delay");
  }
  if (spec.mode != DnsFaultMode::kSpoof && proto.spoof_addresses_size() != 0) {
    return field_error("spoof_addresses", "only valid with mode spoof");
  }
  if (!std::isfinite(proto.percent()) || proto.percent() < 0.0 || proto.percent() > 100.0) {
    return field_error("percent", "must be in [0, 100] (0 means 100)");
  }
  spec.percent = proto.percent() == 0.0 ? 100.0 : proto.percent();
  return spec;
}

}  // namespace chaos::agent::dns
