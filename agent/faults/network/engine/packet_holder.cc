#include "agent/faults/network/engine/packet_holder.h"

#include <netinet/in.h>
#include <linux/netfilter.h>

#include <algorithm>

namespace chaos::agent::network {

PacketHolder::PacketHolder(const ImpairmentSpec& spec, std::uint64_t seed, VerdictSink verdicts,
                           PacketSender* sender, std::size_t max_copies_held, std::size_t max_bytes_held)
    : model_(spec, seed),
      verdicts_(std::move(verdicts)),
      sender_(sender),
      max_copies_held_(max_copies_held),
      max_bytes_held_(max_bytes_held) {}

bool PacketHolder::can_reinject(const QueuedPacket& packet) const {
  return sender_ != nullptr && packet.hook == NF_INET_POST_ROUTING && packet.from_local_socket &&
         !packet.payload.empty() && packet.payload.size() == packet.length && sender_->can_send(packet);
}

void PacketHolder::on_packet(const QueuedPacket& packet, SteadyTime arrived, SteadyTime now) {
  received_.fetch_add(1, std::memory_order_relaxed);
  const auto decision = model_.decide(std::min(arrived, now), packet.length);
  if (decision.drop) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    verdicts_(packet.packet_id, NF_DROP);
    return;
  }
  const bool wants_copy = decision.duplicate && sender_ != nullptr && packet.payload.size() == packet.length;
  if (decision.release_at <= now && !wants_copy) {
    // Nothing to wait for (0 ms, or reorder's "go now" share).
    verdicts_(packet.packet_id, NF_ACCEPT);
    released_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (decision.release_at > now) delayed_.fetch_add(1, std::memory_order_relaxed);
  const std::size_t size = packet.payload.size();
  bool capped = false;
  if (can_reinject(packet)) {
    const std::size_t needed = wants_copy ? 2 * size : size;
    if (copies_held_ < max_copies_held_ && fits(needed)) {
      verdicts_(packet.packet_id, NF_DROP);  // frees the socket's charge now
      ++copies_held_;
      bytes_held_ += needed;
      held_.hold_copy(decision.release_at, std::vector<unsigned char>(packet.payload.begin(), packet.payload.end()),
                      wants_copy);
      return;
    }
    capped = true;  // the kernel keeps it instead
  }
  std::vector<unsigned char> bytes;
  if (wants_copy) {
    if (fits(size)) {
      bytes.assign(packet.payload.begin(), packet.payload.end());
    } else {
      capped = true;  // no duplicate for this one
    }
  }
  if (capped) over_cap_.fetch_add(1, std::memory_order_relaxed);
  if (bytes.empty() && decision.release_at <= now) {
    verdicts_(packet.packet_id, NF_ACCEPT);
    released_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bytes_held_ += bytes.size();
  held_.hold(decision.release_at, packet.packet_id, std::move(bytes));
}

void PacketHolder::accept_unheld(const QueuedPacket& packet) {
  received_.fetch_add(1, std::memory_order_relaxed);
  verdicts_(packet.packet_id, NF_ACCEPT);
}

void PacketHolder::release_due(SteadyTime now) { release(held_.take_due(now), now); }

void PacketHolder::release_all(SteadyTime now) { release(held_.take_all(), now); }

void PacketHolder::release(std::vector<HeldPacket> packets, SteadyTime now) {
  for (auto& packet : packets) {
    if (now > packet.release_at) {
      lateness_ns_total_.fetch_add(static_cast<std::uint64_t>((now - packet.release_at).count()),
                                   std::memory_order_relaxed);
    }
    bytes_held_ -= packet.reinject_payload.size() + packet.duplicate_payload.size();
    if (packet.reinject_payload.empty()) {
      verdicts_(packet.packet_id, NF_ACCEPT);
    } else {
      --copies_held_;
      send(packet.reinject_payload, reinjected_);
    }
    if (!packet.duplicate_payload.empty()) send(packet.duplicate_payload, duplicated_);
  }
  released_.fetch_add(packets.size(), std::memory_order_relaxed);
}

void PacketHolder::send(const std::vector<unsigned char>& packet, std::atomic<std::uint64_t>& on_success) {
  if (sender_ != nullptr && sender_->send(packet)) {
    on_success.fetch_add(1, std::memory_order_relaxed);
  } else {
    send_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

EngineStats PacketHolder::stats() const {
  return EngineStats{received_.load(),   dropped_.load(),       duplicated_.load(),       released_.load(),
                     reinjected_.load(), send_failures_.load(), lateness_ns_total_.load(), over_cap_.load(),
                     delayed_.load()};
}

}  // namespace chaos::agent::network
