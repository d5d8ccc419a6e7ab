// A validated NetworkScope: which packets a network fault touches.
//
// Address semantics are from this node's point of view: `peers`
// (destination_cidrs in the proto) are the remote side, i.e. the destination
// of egress packets and the source of ingress packets; `local_addresses`
// (source_cidrs) are this node's side. So one scope describes both
// directions of a conversation with the same peers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "chaos/v1/agent.pb.h"
#include "common/status.h"

namespace chaos::agent::network {

struct Cidr {
  int family = 4;  // 4 or 6
  std::array<unsigned char, 16> address{};
  int prefix_length = 0;
  std::string text;  // canonical "10.0.0.0/8"

  bool contains(const Cidr& other) const;
};

enum class Protocol { kAny, kTcp, kUdp, kIcmp };

struct TrafficScope {
  std::string interface;  // empty: every interface except loopback
  std::vector<Cidr> peers;
  std::vector<Cidr> local_addresses;
  std::vector<std::uint16_t> ports;  // source or destination port
  Protocol protocol = Protocol::kAny;
  bool egress = true;
  bool ingress = false;

  // A human line for fault details: "on veth0 egress to 10.0.0.2/32 udp".
  std::string describe() const;
};

// Limits that keep rule sets small and commands short.
inline constexpr std::size_t kMaxCidrsPerScope = 64;
inline constexpr std::size_t kMaxPortsPerScope = 64;
// iptables has no address sets without ipset, so each (peer, local) pair is
// a rule per port chunk and protocol; cap the product.
inline constexpr std::size_t kMaxAddressPairsPerScope = 64;

StatusOr<Cidr> parse_cidr(const std::string& text);

// `field` prefixes error messages ("network_delay.scope"); `default_direction`
// applies when the scope says DIRECTION_UNSPECIFIED.
StatusOr<TrafficScope> scope_from_proto(const v1::NetworkScope& proto, const std::string& field,
                                        v1::Direction default_direction);

// Applies a direction to an already converted scope (partitions carry their
// direction outside the scope).
Status set_direction(TrafficScope& scope, v1::Direction direction, const std::string& field);

// True when some packet could match both scopes.
bool scopes_overlap(const TrafficScope& a, const TrafficScope& b);

const char* protocol_name(Protocol protocol);

}  // namespace chaos::agent::network
