#include "agent/faults/network/engine/nfqueue_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

namespace chaos::agent::network {

namespace {

// MNL_SOCKET_BUFFER_SIZE is a sysconf() call, not a constant; 8 KiB is its
// value on 4 KiB-page systems and ample for config messages and verdicts.
constexpr std::size_t kNetlinkPageBytes = 8192;
constexpr std::size_t kReceiveBufferBytes = 0xffff + kNetlinkPageBytes;
constexpr std::size_t kVerdictBufferBytes = 64 * 1024;
// Enough of each packet to read the IP and transport headers.
constexpr int kHeaderCopyBytes = 128;
// The kernel queues packets while we sleep; a large receive buffer absorbs
// bursts (fail-open covers the rest).
constexpr int kReceiveBufferSocketBytes = 16 * 1024 * 1024;
// Reads per receive_pending() call: under a flood the engine must still get
// back to releasing due packets on time.
constexpr int kMaxReadsPerCall = 64;

std::string errno_text(const std::string& what, std::uint16_t queue) {
  return what + " (queue " + std::to_string(queue) + "): " + std::strerror(errno);
}

struct CallbackState {
  const std::function<void(const QueuedPacket&)>* on_packet;
};

// CTA_STATUS from a packet's nested NFQA_CT; libmnl bounds every attribute.
int on_conntrack_attribute(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == CTA_STATUS && mnl_attr_validate(attribute, MNL_TYPE_U32) >= 0) {
    *static_cast<std::optional<std::uint32_t>*>(data) = ntohl(mnl_attr_get_u32(attribute));
  }
  return MNL_CB_OK;
}

int on_queue_message(const nlmsghdr* message, void* data) {
  nlattr* attributes[NFQA_MAX + 1] = {};
  if (nfq_nlmsg_parse(message, attributes) < 0 || attributes[NFQA_PACKET_HDR] == nullptr) {
    return MNL_CB_OK;  // not a packet (e.g. an ack); nothing to decide
  }
  const auto* header = static_cast<const nfqnl_msg_packet_hdr*>(
      mnl_attr_get_payload(attributes[NFQA_PACKET_HDR]));
  QueuedPacket packet;
  packet.packet_id = ntohl(header->packet_id);
  packet.hook = header->hook;
  packet.from_local_socket = attributes[NFQA_UID] != nullptr;
  if (attributes[NFQA_SKB_INFO] != nullptr && mnl_attr_validate(attributes[NFQA_SKB_INFO], MNL_TYPE_U32) >= 0) {
    const std::uint32_t info = ntohl(mnl_attr_get_u32(attributes[NFQA_SKB_INFO]));
    packet.gso = (info & NFQA_SKB_GSO) != 0;
    packet.checksum_partial = (info & NFQA_SKB_CSUMNOTREADY) != 0;
  }
  if (attributes[NFQA_PRIORITY] != nullptr && mnl_attr_validate(attributes[NFQA_PRIORITY], MNL_TYPE_U32) >= 0) {
    packet.priority = ntohl(mnl_attr_get_u32(attributes[NFQA_PRIORITY]));
  }
  if (attributes[NFQA_IFINDEX_OUTDEV] != nullptr &&
      mnl_attr_validate(attributes[NFQA_IFINDEX_OUTDEV], MNL_TYPE_U32) >= 0) {
    packet.out_interface = static_cast<int>(ntohl(mnl_attr_get_u32(attributes[NFQA_IFINDEX_OUTDEV])));
  }
  if (attributes[NFQA_CT] != nullptr) {
    std::optional<std::uint32_t> status;
    if (mnl_attr_parse_nested(attributes[NFQA_CT], on_conntrack_attribute, &status) >= 0) {
      packet.conntrack_status = status;
    }
  }
  if (attributes[NFQA_PAYLOAD] != nullptr) {
    packet.payload = {static_cast<const unsigned char*>(mnl_attr_get_payload(attributes[NFQA_PAYLOAD])),
                      mnl_attr_get_payload_len(attributes[NFQA_PAYLOAD])};
  }
  packet.length = packet.payload.size();
  // NFQA_CAP_LEN is present only when the copy was truncated.
  if (attributes[NFQA_CAP_LEN] != nullptr) packet.length = ntohl(mnl_attr_get_u32(attributes[NFQA_CAP_LEN]));
  (*static_cast<CallbackState*>(data)->on_packet)(packet);
  return MNL_CB_OK;
}

}  // namespace

StatusOr<std::unique_ptr<NfqueueSocket>> NfqueueSocket::open(const QueueConfig& config) {
  mnl_socket* socket = mnl_socket_open(NETLINK_NETFILTER);
  if (socket == nullptr) return unavailable(errno_text("cannot open netfilter netlink socket", config.queue_number));
  std::unique_ptr<NfqueueSocket> queue(new NfqueueSocket(socket, config));
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    return unavailable(errno_text("cannot bind netlink socket", config.queue_number));
  }
  queue->port_id_ = mnl_socket_get_portid(socket);
  CHAOS_RETURN_IF_ERROR(queue->configure());
  return queue;
}

NfqueueSocket::NfqueueSocket(mnl_socket* socket, const QueueConfig& config)
    : socket_(socket), config_(config), receive_buffer_(std::make_unique_for_overwrite<char[]>(kReceiveBufferBytes)),
      verdict_buffer_(std::make_unique_for_overwrite<char[]>(kVerdictBufferBytes)) {}

NfqueueSocket::~NfqueueSocket() {
  // Unbinding hands every packet still queued back to the kernel's default
  // (drop); the engine releases its held packets before this point.
  (void)send_config(NFQNL_CFG_CMD_UNBIND, false);
  mnl_socket_close(socket_);
}

int NfqueueSocket::fd() const { return mnl_socket_get_fd(socket_); }

Status NfqueueSocket::configure() {
  const int fd = mnl_socket_get_fd(socket_);
  const int one = 1;
  // Without this a receive-buffer overrun surfaces as ENOBUFS on every read.
  setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
  // SO_RCVBUFFORCE ignores rmem_max (we run with CAP_NET_ADMIN); fall back
  // to the capped SO_RCVBUF otherwise.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBufferSocketBytes,
                 sizeof(kReceiveBufferSocketBytes)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBufferSocketBytes, sizeof(kReceiveBufferSocketBytes));
  }
  CHAOS_RETURN_IF_ERROR(send_config(NFQNL_CFG_CMD_BIND, false));
  if (Status configured = send_config(NFQNL_CFG_CMD_NONE, true); !configured.ok()) {
    // Conntrack's queue glue may be missing (EOPNOTSUPP): the engine then
    // decides from the namespace's NAT rules instead.
    if (!config_.keep_gso) return configured;
    conntrack_ = false;
    CHAOS_RETURN_IF_ERROR(send_config(NFQNL_CFG_CMD_NONE, true));
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
    return internal_error(errno_text("cannot make netlink socket non-blocking", config_.queue_number));
  }
  return {};
}

Status NfqueueSocket::send_config(std::uint8_t command, bool with_params) {
  char buffer[kNetlinkPageBytes];
  nlmsghdr* message = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, config_.queue_number);
  if (command != NFQNL_CFG_CMD_NONE) nfq_nlmsg_cfg_put_cmd(message, AF_INET, command);
  if (with_params) {
    nfq_nlmsg_cfg_put_params(message, NFQNL_COPY_PACKET,
                             config_.copy_whole_packet ? 0xffff : kHeaderCopyBytes);
    nfq_nlmsg_cfg_put_qmaxlen(message, config_.max_length);
    // FAIL_OPEN: a full queue accepts instead of dropping. GSO: no costly
    // segmentation before queueing, unless we must re-send whole packets
    // through a raw socket, which cannot send a GSO super-packet; without
    // this flag the kernel also completes partial checksums
    // (skb_checksum_help) before copying, so the copy is valid on the wire.
    // keep_gso: our sender segments through the kernel and completes
    // checksums itself (one packet per 64 KiB instead of ~45).
    std::uint32_t flags = NFQA_CFG_F_FAIL_OPEN;
    if (!config_.copy_whole_packet || config_.keep_gso) flags |= NFQA_CFG_F_GSO;
    if (config_.report_socket_owner) flags |= NFQA_CFG_F_UID_GID;
    // A packet-socket re-send skips NAT: GsoPacketSender reads the status.
    if (config_.keep_gso && conntrack_) flags |= NFQA_CFG_F_CONNTRACK;
    mnl_attr_put_u32(message, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(message, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_UID_GID |
                                                   NFQA_CFG_F_CONNTRACK));
  }
  message->nlmsg_flags |= NLM_F_ACK;
  message->nlmsg_seq = 1;
  if (mnl_socket_sendto(socket_, message, message->nlmsg_len) < 0) {
    return unavailable(errno_text("cannot configure NFQUEUE", config_.queue_number));
  }
  const ssize_t received = mnl_socket_recvfrom(socket_, buffer, sizeof(buffer));
  if (received < 0) return unavailable(errno_text("no answer configuring NFQUEUE", config_.queue_number));
  if (mnl_cb_run(buffer, static_cast<std::size_t>(received), 1, port_id_, nullptr, nullptr) < 0) {
    if (errno == EBUSY) {
      return already_exists("NFQUEUE queue " + std::to_string(config_.queue_number) +
                            " is bound by another process");
    }
    return unavailable(errno_text("kernel refused NFQUEUE configuration", config_.queue_number));
  }
  return {};
}

Status NfqueueSocket::receive_pending(const std::function<void(const QueuedPacket&)>& on_packet) {
  CallbackState state{&on_packet};
  for (int reads = 0; reads < kMaxReadsPerCall; ++reads) {
    const ssize_t received = mnl_socket_recvfrom(socket_, receive_buffer_.get(), kReceiveBufferBytes);
    if (received < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
      if (errno == ENOBUFS) continue;  // overrun: packets were accepted (fail-open)
      return unavailable(errno_text("cannot read NFQUEUE", config_.queue_number));
    }
    mnl_cb_run(receive_buffer_.get(), static_cast<std::size_t>(received), 0, port_id_,
               on_queue_message, &state);
  }
  return {};  // more may be waiting; poll() reports it again
}

Status NfqueueSocket::add_verdict(std::uint32_t packet_id, int verdict) {
  if (verdict_bytes_ + 256 > kVerdictBufferBytes) {
    CHAOS_RETURN_IF_ERROR(flush_verdicts());
  }
  nlmsghdr* message = nfq_nlmsg_put(verdict_buffer_.get() + verdict_bytes_, NFQNL_MSG_VERDICT,
                                    config_.queue_number);
  nfq_nlmsg_verdict_put(message, static_cast<int>(packet_id), verdict);
  verdict_bytes_ += MNL_ALIGN(message->nlmsg_len);
  return {};
}

Status NfqueueSocket::flush_verdicts() {
  if (verdict_bytes_ == 0) return {};
  const auto bytes = verdict_bytes_;
  verdict_bytes_ = 0;
  if (mnl_socket_sendto(socket_, verdict_buffer_.get(), bytes) < 0) {
    return unavailable(errno_text("cannot send NFQUEUE verdicts", config_.queue_number));
  }
  return {};
}

}  // namespace chaos::agent::network
