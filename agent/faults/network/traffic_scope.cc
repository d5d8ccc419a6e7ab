#include "agent/faults/network/traffic_scope.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace chaos::agent::network {

namespace {

// Interface names reach tc/iptables argv: refuse anything that could read as
// an option or exceed IFNAMSIZ-1.
bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() > 15 || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '@';
  });
}

void mask_host_bits(Cidr& cidr) {
  const int bits = cidr.family == 4 ? 32 : 128;
  for (int bit = cidr.prefix_length; bit < bits; ++bit) {
    cidr.address[static_cast<std::size_t>(bit / 8)] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  }
}

std::string render(const Cidr& cidr) {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(cidr.family == 4 ? AF_INET : AF_INET6, cidr.address.data(), buffer, sizeof(buffer));
  return std::string(buffer) + "/" + std::to_string(cidr.prefix_length);
}

StatusOr<std::vector<Cidr>> parse_cidr_list(const google::protobuf::RepeatedPtrField<std::string>& list,
                                            const std::string& field) {
  if (static_cast<std::size_t>(list.size()) > kMaxCidrsPerScope) {
    return invalid_argument(field + ": at most " + std::to_string(kMaxCidrsPerScope) + " CIDRs");
  }
  std::vector<Cidr> cidrs;
  for (int i = 0; i < list.size(); ++i) {
    auto cidr = parse_cidr(list.Get(i));
    if (!cidr.ok()) return cidr.status().with_context(field + "[" + std::to_string(i) + "]");
    cidrs.push_back(*cidr);
  }
  return cidrs;
}

bool lists_overlap(const std::vector<Cidr>& a, const std::vector<Cidr>& b) {
  if (a.empty() || b.empty()) return true;
  for (const auto& x : a) {
    for (const auto& y : b) {
      if (x.contains(y) || y.contains(x)) return true;
    }
  }
  return false;
}

}  // namespace

bool Cidr::contains(const Cidr& other) const {
  if (family != other.family || prefix_length > other.prefix_length) return false;
  Cidr masked = other;
  masked.prefix_length = prefix_length;
  mask_host_bits(masked);
  return masked.address == address;
}

StatusOr<Cidr> parse_cidr(const std::string& text) {
  if (text.empty() || text.size() > 64) return invalid_argument("'" + text.substr(0, 64) + "' is not a CIDR");
  const auto slash = text.find('/');
  const std::string address = text.substr(0, slash);
  Cidr cidr;
  if (inet_pton(AF_INET, address.c_str(), cidr.address.data()) == 1) {
    cidr.family = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), cidr.address.data()) == 1) {
    cidr.family = 6;
    // ::ffff:a.b.c.d is how an IPv6 socket shows an IPv4 peer; the packets
    // are IPv4, so an ip6 rule for it would never match.
    const auto& bytes = cidr.address;
    if (std::all_of(bytes.begin(), bytes.begin() + 10, [](unsigned char b) { return b == 0; }) && bytes[10] == 0xff &&
        bytes[11] == 0xff) {
      return invalid_argument("'" + text + "' is an IPv4-mapped IPv6 address: its traffic is IPv4, so give " +
                              std::to_string(bytes[12]) + "." + std::to_string(bytes[13]) + "." +
                              std::to_string(bytes[14]) + "." + std::to_string(bytes[15]));
    }
  } else {
    return invalid_argument("'" + text + "' is not an IPv4 or IPv6 address or CIDR");
  }
  const int max_prefix = cidr.family == 4 ? 32 : 128;
  cidr.prefix_length = max_prefix;
  if (slash != std::string::npos) {
    const std::string prefix = text.substr(slash + 1);
    int value = -1;
    const auto [end, error] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), value);
    if (prefix.empty() || error != std::errc{} || end != prefix.data() + prefix.size() || value < 0 ||
        value > max_prefix) {
      return invalid_argument("'" + text + "': prefix length must be 0.." + std::to_string(max_prefix));
    }
    cidr.prefix_length = value;
  }
  mask_host_bits(cidr);
  cidr.text = render(cidr);
  return cidr;
}

Status set_direction(TrafficScope& scope, v1::Direction direction, const std::string& field) {
  switch (direction) {
    case v1::DIRECTION_EGRESS: scope.egress = true; scope.ingress = false; return {};
    case v1::DIRECTION_INGRESS: scope.egress = false; scope.ingress = true; return {};
    case v1::DIRECTION_BOTH: scope.egress = true; scope.ingress = true; return {};
    default: return invalid_argument(field + ": unknown direction " + std::to_string(direction));
  }
}

StatusOr<TrafficScope> scope_from_proto(const v1::NetworkScope& proto, const std::string& field,
                                        v1::Direction default_direction) {
  TrafficScope scope;
  if (!proto.interface().empty() && !valid_interface_name(proto.interface())) {
    return invalid_argument(field + ".interface: '" + proto.interface().substr(0, 32) +
                            "' is not a valid interface name");
  }
  scope.interface = proto.interface();
  CHAOS_ASSIGN_OR_RETURN(scope.peers, parse_cidr_list(proto.destination_cidrs(), field + ".destination_cidrs"));
  CHAOS_ASSIGN_OR_RETURN(scope.local_addresses, parse_cidr_list(proto.source_cidrs(), field + ".source_cidrs"));
  const std::size_t pairs = std::max<std::size_t>(scope.peers.size(), 1) *
                            std::max<std::size_t>(scope.local_addresses.size(), 1);
  if (pairs > kMaxAddressPairsPerScope) {
    return invalid_argument(field + ": destination_cidrs x source_cidrs makes " + std::to_string(pairs) +
                            " address pairs; at most " + std::to_string(kMaxAddressPairsPerScope));
  }
  if (static_cast<std::size_t>(proto.ports_size()) > kMaxPortsPerScope) {
    return invalid_argument(field + ".ports: at most " + std::to_string(kMaxPortsPerScope) + " ports");
  }
  for (int i = 0; i < proto.ports_size(); ++i) {
    const auto port = proto.ports(i);
    if (port == 0 || port > 65535) {
      return invalid_argument(field + ".ports[" + std::to_string(i) + "]: " + std::to_string(port) +
                              " is not a port (1..65535)");
    }
    scope.ports.push_back(static_cast<std::uint16_t>(port));
  }
  switch (proto.protocol()) {
    case v1::NetworkScope::PROTOCOL_ANY: scope.protocol = Protocol::kAny; break;
    case v1::NetworkScope::PROTOCOL_TCP: scope.protocol = Protocol::kTcp; break;
    case v1::NetworkScope::PROTOCOL_UDP: scope.protocol = Protocol::kUdp; break;
    case v1::NetworkScope::PROTOCOL_ICMP: scope.protocol = Protocol::kIcmp; break;
    default: return invalid_argument(field + ".protocol: unknown protocol " + std::to_string(proto.protocol()));
  }
  if (scope.protocol == Protocol::kIcmp && !scope.ports.empty()) {
    return invalid_argument(field + ".ports: ICMP has no ports");
  }
  const auto direction = proto.direction() == v1::DIRECTION_UNSPECIFIED ? default_direction : proto.direction();
  CHAOS_RETURN_IF_ERROR(set_direction(scope, direction, field + ".direction"));
  return scope;
}

bool scopes_overlap(const TrafficScope& a, const TrafficScope& b) {
  if (!a.interface.empty() && !b.interface.empty() && a.interface != b.interface) return false;
  if (!((a.egress && b.egress) || (a.ingress && b.ingress))) return false;
  if (a.protocol != Protocol::kAny && b.protocol != Protocol::kAny && a.protocol != b.protocol) return false;
  if (!a.ports.empty() && !b.ports.empty() &&
      std::none_of(a.ports.begin(), a.ports.end(), [&](std::uint16_t port) {
        return std::find(b.ports.begin(), b.ports.end(), port) != b.ports.end();
      })) {
    return false;
  }
  return lists_overlap(a.peers, b.peers) && lists_overlap(a.local_addresses, b.local_addresses);
}

const char* protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp: return "tcp";
    case Protocol::kUdp: return "udp";
    case Protocol::kIcmp: return "icmp";
    case Protocol::kAny: break;
  }
  return "any";
}

std::string TrafficScope::describe() const {
  std::string text = interface.empty() ? "on all interfaces" : "on " + interface;
  text += egress && ingress ? " both ways" : egress ? " egress" : " ingress";
  auto join = [](const std::vector<Cidr>& cidrs) {
    std::string joined;
    for (const auto& cidr : cidrs) joined += (joined.empty() ? "" : ",") + cidr.text;
    return joined;
  };
  if (!peers.empty()) text += " peers " + join(peers);
  if (!local_addresses.empty()) text += " local " + join(local_addresses);
  if (protocol != Protocol::kAny) text += std::string(" ") + protocol_name(protocol);
  if (!ports.empty()) {
    text += " ports ";
    for (std::size_t i = 0; i < ports.size(); ++i) text += (i ? "," : "") + std::to_string(ports[i]);
  }
  return text;
}

}  // namespace chaos::agent::network
