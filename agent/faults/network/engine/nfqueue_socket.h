// Thin netlink I/O for one NFQUEUE queue (libmnl + libnetfilter_queue's
// nlmsg helpers): bind and configure, read queued packets without blocking,
// and send verdicts in batches (several netlink messages per sendmsg).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"

struct mnl_socket;

namespace chaos::agent::network {

struct QueuedPacket {
  std::uint32_t packet_id = 0;
  std::size_t length = 0;                    // the whole packet, even if truncated here
  std::span<const unsigned char> payload;    // copied bytes (may be a prefix)
  std::uint8_t hook = 0;                     // NF_INET_PRE_ROUTING, NF_INET_POST_ROUTING, ...
  // The packet belongs to a full local socket (the kernel reported its
  // owner's uid; needs QueueConfig::report_socket_owner).
  bool from_local_socket = false;
  // Only with QueueConfig::keep_gso: a GSO super-packet (longer than the
  // MTU; the kernel segments it after us), and a checksum left partial.
  bool gso = false;
  bool checksum_partial = false;
  // The device the kernel routed it to (0: none, e.g. before routing).
  int out_interface = 0;
  // skb->priority (e.g. a bandwidth fault's CLASSIFY): a packet socket
  // re-send must carry it, as it skips the chains that set it.
  std::uint32_t priority = 0;
  // Only with QueueConfig::keep_gso: the packet's connection tracking
  // status (CTA_STATUS: IPS_SRC_NAT, IPS_DST_NAT, ...); nullopt when the
  // packet has no conntrack entry (untracked, or conntrack not loaded). A
  // packet-socket re-send skips NAT, so it needs this.
  std::optional<std::uint32_t> conntrack_status;
};

struct QueueConfig {
  std::uint16_t queue_number = 0;
  std::uint32_t max_length = 4096;
  // Whole packets are needed only to send duplicates; otherwise a prefix is
  // enough and keeps the copy to userspace cheap.
  bool copy_whole_packet = false;
  // Ask for NFQA_UID, which tells packets of local sockets apart.
  bool report_socket_owner = false;
  // With copy_whole_packet: still queue GSO super-packets unsegmented
  // (NFQA_CFG_F_GSO); checksums then stay partial. Only for a sender that
  // can send such packets (GsoPacketSender). Also asks for each packet's
  // conntrack status (NFQA_CFG_F_CONNTRACK); a kernel that cannot give it
  // (reports_conntrack() false) queues without it.
  bool keep_gso = false;
};

class NfqueueSocket {
 public:
  static StatusOr<std::unique_ptr<NfqueueSocket>> open(const QueueConfig& config);
  ~NfqueueSocket();
  NfqueueSocket(const NfqueueSocket&) = delete;
  NfqueueSocket& operator=(const NfqueueSocket&) = delete;

  int fd() const;
  // Whether packets carry their conntrack status (with keep_gso).
  bool reports_conntrack() const { return config_.keep_gso && conntrack_; }
  // Delivers packets already waiting on the socket (a bounded batch);
  // never blocks.
  Status receive_pending(const std::function<void(const QueuedPacket&)>& on_packet);
  // Verdicts are buffered and sent by flush_verdicts() (or when full).
  Status add_verdict(std::uint32_t packet_id, int verdict);
  Status flush_verdicts();

 private:
  NfqueueSocket(mnl_socket* socket, const QueueConfig& config);
  bool conntrack_ = true;  // NFQA_CFG_F_CONNTRACK asked for (with keep_gso)
  Status configure();
  Status send_config(std::uint8_t command, bool with_params);

  mnl_socket* socket_;
  QueueConfig config_;
  std::uint32_t port_id_ = 0;
  // Allocated uninitialised: a page is resident only once a read or a
  // verdict batch reaches it, and light traffic uses the first few.
  std::unique_ptr<char[]> receive_buffer_;
  std::unique_ptr<char[]> verdict_buffer_;
  std::size_t verdict_bytes_ = 0;
};

}  // namespace chaos::agent::network
