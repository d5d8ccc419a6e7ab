// Where a packet we re-send through a packet socket must go on the link:
// the interface, the path MTU and the next hop's Ethernet address (the
// kernel's route and neighbour tables, read over rtnetlink). A packet socket
// skips the routing and neighbour layers, so GsoPacketSender asks this
// first; faked in unit tests.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "common/status.h"
#include "common/unique_fd.h"

struct mnl_socket;

namespace chaos::agent::network {

struct LinkHop {
  int interface_index = 0;
  unsigned mtu = 0;  // the route's MTU when it has one (PMTU), else the device's
  std::array<unsigned char, 6> next_hop_mac{};
  std::array<unsigned char, 6> interface_mac{};
};

class HopResolver {
 public:
  virtual ~HopResolver() = default;
  // `destination` is 4 (IPv4) or 16 (IPv6) address bytes; `out_interface`
  // the device the kernel chose (0: any). nullopt unless the route is a
  // unicast one through an Ethernet device whose neighbour entry is usable
  // now (not incomplete or failed).
  virtual std::optional<LinkHop> resolve(std::span<const unsigned char> destination, int out_interface) = 0;
};

// Whether the calling thread's network namespace has any IPsec (xfrm)
// policy, from the kernel's policy counts (XFRM_MSG_GETSPDINFO). A packet
// socket skips the IPsec output path, so the engine does not use one then.
// False when the kernel has no xfrm at all.
StatusOr<bool> ipsec_policies_present();

// Whether the calling thread's network namespace has any NAT table or
// chain (iptables-legacy's nat table, or an nftables chain of type nat,
// which iptables-nft uses too). For kernels that cannot report a queued
// packet's conntrack status (no NETFILTER_NETLINK_GLUE_CT): without NAT
// there, no packet's connection is NATed.
StatusOr<bool> nat_chains_present();

// An mnl socket closed on every path out.
struct MnlSocketCloser {
  void operator()(mnl_socket* socket) const;
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlSocketCloser>;

class NetlinkHopResolver final : public HopResolver {
 public:
  // Opens its sockets in the calling thread's network namespace.
  static StatusOr<std::unique_ptr<NetlinkHopResolver>> open();
  NetlinkHopResolver(const NetlinkHopResolver&) = delete;
  NetlinkHopResolver& operator=(const NetlinkHopResolver&) = delete;

  std::optional<LinkHop> resolve(std::span<const unsigned char> destination, int out_interface) override;

 private:
  NetlinkHopResolver() = default;
  // One request, one answer (NLM_F_ACK-less doit); the answer's bytes.
  std::optional<std::span<const unsigned char>> ask(void* request);

  MnlSocket netlink_;
  UniqueFd ioctl_fd_;
  std::uint32_t sequence_ = 0;
  std::array<unsigned char, 8192> answer_{};
};

}  // namespace chaos::agent::network
