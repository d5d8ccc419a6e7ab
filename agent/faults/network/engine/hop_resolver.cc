#include "agent/faults/network/engine/hop_resolver.h"

#include <libmnl/libmnl.h>
#include <net/if_arp.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace chaos::agent::network {

namespace {

constexpr std::uint16_t kUsableNeighbour =
    NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;

struct Attributes {
  const nlattr* table[RTA_MAX + 1 > NDA_MAX + 1 ? RTA_MAX + 1 : NDA_MAX + 1] = {};
  int max = 0;
};

int keep_attribute(const nlattr* attribute, void* data) {
  auto* attributes = static_cast<Attributes*>(data);
  const int type = mnl_attr_get_type(attribute);
  if (type >= 0 && type <= attributes->max) attributes->table[type] = attribute;
  return MNL_CB_OK;
}

int keep_metric(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == RTAX_MTU && mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0) {
    *static_cast<unsigned*>(data) = mnl_attr_get_u32(attribute);
  }
  return MNL_CB_OK;
}

}  // namespace

namespace {

int on_spd_attribute(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == XFRMA_SPD_INFO &&
      mnl_attr_get_payload_len(attribute) >= sizeof(xfrmu_spdinfo)) {
    xfrmu_spdinfo counts{};
    std::memcpy(&counts, mnl_attr_get_payload(attribute), sizeof(counts));
    *static_cast<bool*>(data) = counts.incnt + counts.outcnt + counts.fwdcnt + counts.inscnt + counts.outscnt +
                                    counts.fwdscnt > 0;
  }
  return MNL_CB_OK;
}

int on_spd_info(const nlmsghdr* message, void* data) {
  if (message->nlmsg_type != XFRM_MSG_NEWSPDINFO) return MNL_CB_OK;
  return mnl_attr_parse(message, sizeof(std::uint32_t), on_spd_attribute, data);
}

}  // namespace

namespace {

// Every chain dump message is looked at; a chain of type "nat" sets the flag.
int on_chain_attribute(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == NFTA_CHAIN_TYPE && mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) >= 0 &&
      std::strcmp(mnl_attr_get_str(attribute), "nat") == 0) {
    *static_cast<bool*>(data) = true;
  }
  return MNL_CB_OK;
}

int on_chain(const nlmsghdr* message, void* data) {
  return mnl_attr_parse(message, sizeof(nfgenmsg), on_chain_attribute, data);
}

bool legacy_nat_table(const char* names_file) {
  std::ifstream names(names_file);
  std::string name;
  for (int lines = 0; lines < 64 && std::getline(names, name); ++lines) {
    if (name == "nat") return true;
  }
  return false;
}

}  // namespace

void MnlSocketCloser::operator()(mnl_socket* socket) const { mnl_socket_close(socket); }

StatusOr<bool> nat_chains_present() {
  if (legacy_nat_table("/proc/net/ip_tables_names") || legacy_nat_table("/proc/net/ip6_tables_names")) return true;
  const MnlSocket owner(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  mnl_socket* netlink = owner.get();
  if (netlink == nullptr) return unavailable(std::string("cannot open a netfilter netlink socket: ") + std::strerror(errno));
  if (mnl_socket_bind(netlink, 0, MNL_SOCKET_AUTOPID) < 0) {
    return unavailable(std::string("cannot bind a netfilter netlink socket: ") + std::strerror(errno));
  }
  std::array<unsigned char, 16384> buffer{};
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN;
  request->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request->nlmsg_seq = 1;
  auto* header = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(request, sizeof(nfgenmsg)));
  header->nfgen_family = AF_UNSPEC;
  header->version = NFNETLINK_V0;
  if (mnl_socket_sendto(netlink, request, request->nlmsg_len) < 0) {
    return unavailable(std::string("cannot list nftables chains: ") + std::strerror(errno));
  }
  bool present = false;
  // Bounded: a namespace with more chains than this many reads is taken as having NAT.
  for (int reads = 0; reads < 256; ++reads) {
    const ssize_t received = mnl_socket_recvfrom(netlink, buffer.data(), buffer.size());
    if (received < 0) return unavailable(std::string("cannot list nftables chains: ") + std::strerror(errno));
    const int result = mnl_cb_run(buffer.data(), static_cast<std::size_t>(received), 1,
                                  mnl_socket_get_portid(netlink), on_chain, &present);
    if (result < 0) return unavailable(std::string("cannot list nftables chains: ") + std::strerror(errno));
    if (result == MNL_CB_STOP) return present;  // NLMSG_DONE
  }
  return true;
}

StatusOr<bool> ipsec_policies_present() {
  const MnlSocket owner(mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC));
  mnl_socket* netlink = owner.get();
  if (netlink == nullptr) {
    if (errno == EPROTONOSUPPORT) return false;  // no xfrm in this kernel: no policy either
    return unavailable(std::string("cannot open an xfrm netlink socket: ") + std::strerror(errno));
  }
  if (mnl_socket_bind(netlink, 0, MNL_SOCKET_AUTOPID) < 0) {
    return unavailable(std::string("cannot bind an xfrm netlink socket: ") + std::strerror(errno));
  }
  std::array<unsigned char, 8192> buffer{};
  nlmsghdr* request = mnl_nlmsg_put_header(buffer.data());
  request->nlmsg_type = XFRM_MSG_GETSPDINFO;
  request->nlmsg_flags = NLM_F_REQUEST;
  request->nlmsg_seq = 1;
  *static_cast<std::uint32_t*>(mnl_nlmsg_put_extra_header(request, sizeof(std::uint32_t))) = 0;
  if (mnl_socket_sendto(netlink, request, request->nlmsg_len) < 0) {
    return unavailable(std::string("cannot ask the kernel for its IPsec policy counts: ") + std::strerror(errno));
  }
  const ssize_t received = mnl_socket_recvfrom(netlink, buffer.data(), buffer.size());
  bool present = false;
  if (received < 0 || mnl_cb_run(buffer.data(), static_cast<std::size_t>(received), 1,
                                 mnl_socket_get_portid(netlink), on_spd_info, &present) < 0) {
    return unavailable(std::string("no IPsec policy counts from the kernel: ") + std::strerror(errno));
  }
  return present;
}

StatusOr<std::unique_ptr<NetlinkHopResolver>> NetlinkHopResolver::open() {
  std::unique_ptr<NetlinkHopResolver> resolver(new NetlinkHopResolver());
  resolver->netlink_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (resolver->netlink_ == nullptr || mnl_socket_bind(resolver->netlink_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return unavailable(std::string("cannot open the route netlink socket: ") + std::strerror(errno));
  }
  resolver->ioctl_fd_.reset(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!resolver->ioctl_fd_.valid()) {
    return unavailable(std::string("cannot open the interface query socket: ") + std::strerror(errno));
  }
  return resolver;
}

std::optional<std::span<const unsigned char>> NetlinkHopResolver::ask(void* request) {
  auto* message = static_cast<nlmsghdr*>(request);
  message->nlmsg_flags = NLM_F_REQUEST;
  message->nlmsg_seq = ++sequence_;
  if (mnl_socket_sendto(netlink_.get(), message, message->nlmsg_len) < 0) return std::nullopt;
  // rtnetlink answers a doit request inside sendmsg: the answer is waiting
  // (or lost); never block the engine on it.
  for (;;) {
    const ssize_t received = recv(mnl_socket_get_fd(netlink_.get()), answer_.data(), answer_.size(), MSG_DONTWAIT);
    if (received < 0 && errno == EINTR) continue;
    if (received < static_cast<ssize_t>(sizeof(nlmsghdr))) return std::nullopt;
    const auto* answer = reinterpret_cast<const nlmsghdr*>(answer_.data());
    if (!mnl_nlmsg_ok(answer, static_cast<int>(received))) return std::nullopt;
    if (answer->nlmsg_seq != sequence_) continue;  // a stale answer to an earlier request
    if (answer->nlmsg_type == NLMSG_ERROR) return std::nullopt;
    return std::span<const unsigned char>(answer_.data(), answer->nlmsg_len);
  }
}

std::optional<LinkHop> NetlinkHopResolver::resolve(std::span<const unsigned char> destination, int out_interface) {
  if (destination.size() != 4 && destination.size() != 16) return std::nullopt;
  const std::uint8_t family = destination.size() == 4 ? AF_INET : AF_INET6;
  alignas(nlmsghdr) char request[256];

  nlmsghdr* message = mnl_nlmsg_put_header(request);
  message->nlmsg_type = RTM_GETROUTE;
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(rtmsg)));
  route->rtm_family = family;
  route->rtm_dst_len = static_cast<unsigned char>(destination.size() * 8);
  mnl_attr_put(message, RTA_DST, destination.size(), destination.data());
  if (out_interface > 0) mnl_attr_put_u32(message, RTA_OIF, static_cast<std::uint32_t>(out_interface));
  const auto route_answer = ask(message);
  if (!route_answer) return std::nullopt;
  const auto* answer = reinterpret_cast<const nlmsghdr*>(route_answer->data());
  if (answer->nlmsg_type != RTM_NEWROUTE || answer->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return std::nullopt;
  const auto* found = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(answer));
  if (found->rtm_type != RTN_UNICAST) return std::nullopt;  // local, broadcast, unreachable, ...
  Attributes attributes;
  attributes.max = RTA_MAX;
  if (mnl_attr_parse(answer, sizeof(rtmsg), keep_attribute, &attributes) < 0) return std::nullopt;
  const nlattr* oif = attributes.table[RTA_OIF];
  if (oif == nullptr || mnl_attr_validate(oif, MNL_TYPE_U32) < 0) return std::nullopt;
  LinkHop hop;
  hop.interface_index = static_cast<int>(mnl_attr_get_u32(oif));
  if (attributes.table[RTA_METRICS] != nullptr) {
    (void)mnl_attr_parse_nested(attributes.table[RTA_METRICS], keep_metric, &hop.mtu);
  }
  std::array<unsigned char, 16> next_hop{};
  std::size_t next_hop_bytes = destination.size();
  std::memcpy(next_hop.data(), destination.data(), destination.size());
  if (const nlattr* gateway = attributes.table[RTA_GATEWAY]; gateway != nullptr) {
    if (mnl_attr_get_payload_len(gateway) != destination.size()) return std::nullopt;
    std::memcpy(next_hop.data(), mnl_attr_get_payload(gateway), next_hop_bytes);
  } else if (attributes.table[RTA_VIA] != nullptr) {
    return std::nullopt;  // a next hop of the other family: rare, left to the raw path
  }

  // The device: Ethernet only (the packet socket builds an Ethernet header).
  ifreq device{};
  device.ifr_ifindex = hop.interface_index;
  if (ioctl(ioctl_fd_.get(), SIOCGIFNAME, &device) < 0) return std::nullopt;
  if (ioctl(ioctl_fd_.get(), SIOCGIFHWADDR, &device) < 0 || device.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    return std::nullopt;
  }
  std::memcpy(hop.interface_mac.data(), device.ifr_hwaddr.sa_data, hop.interface_mac.size());
  if (ioctl(ioctl_fd_.get(), SIOCGIFMTU, &device) < 0 || device.ifr_mtu <= 0) return std::nullopt;
  const auto device_mtu = static_cast<unsigned>(device.ifr_mtu);
  if (hop.mtu == 0 || hop.mtu > device_mtu) hop.mtu = device_mtu;

  message = mnl_nlmsg_put_header(request);
  message->nlmsg_type = RTM_GETNEIGH;
  auto* neighbour = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(ndmsg)));
  neighbour->ndm_family = family;
  neighbour->ndm_ifindex = hop.interface_index;
  mnl_attr_put(message, NDA_DST, next_hop_bytes, next_hop.data());
  const auto neighbour_answer = ask(message);
  if (!neighbour_answer) return std::nullopt;
  answer = reinterpret_cast<const nlmsghdr*>(neighbour_answer->data());
  if (answer->nlmsg_type != RTM_NEWNEIGH || answer->nlmsg_len < NLMSG_LENGTH(sizeof(ndmsg))) return std::nullopt;
  if ((static_cast<const ndmsg*>(mnl_nlmsg_get_payload(answer))->ndm_state & kUsableNeighbour) == 0) {
    return std::nullopt;
  }
  Attributes neighbour_attributes;
  neighbour_attributes.max = NDA_MAX;
  if (mnl_attr_parse(answer, sizeof(ndmsg), keep_attribute, &neighbour_attributes) < 0) return std::nullopt;
  const nlattr* address = neighbour_attributes.table[NDA_LLADDR];
  if (address == nullptr || mnl_attr_get_payload_len(address) != hop.next_hop_mac.size()) return std::nullopt;
  std::memcpy(hop.next_hop_mac.data(), mnl_attr_get_payload(address), hop.next_hop_mac.size());
  return hop;
}

}  // namespace chaos::agent::network
