// The engine's per-packet logic without its I/O: decide (ImpairmentModel),
// hold (ReleaseQueue) and release, through a verdict callback and a
// PacketSender, so it is unit-tested with fakes.
//
// Why two ways to hold a packet: while the kernel waits for our verdict on
// a packet a local socket sent, the packet stays charged to that socket
// (sk_wmem_alloc). TCP Small Queues then lets the socket have only about
// 1 ms of its pacing rate queued below it, so a 10 ms hold keeps TCP from
// ever growing its window (measured: 15 Gbit/s -> 5 Mbit/s). netem avoids
// this by orphaning the packet; userspace cannot. So a packet from a local
// socket (POSTROUTING, with a socket owner, copied whole) gets NF_DROP at
// once — the kernel frees it and uncharges the socket; TCP keeps its own
// copy for retransmission — and our copy is sent again at release time
// through the PacketSender. Every other packet (ingress: a raw socket
// would send it, not deliver it; forwarded; truncated) keeps the kernel's
// copy and gets NF_ACCEPT at release time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "agent/faults/network/engine/impairment_model.h"
#include "agent/faults/network/engine/nfqueue_socket.h"
#include "agent/faults/network/engine/packet_sender.h"
#include "agent/faults/network/engine/release_queue.h"

namespace chaos::agent::network {

struct EngineStats {
  std::uint64_t received = 0;
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t released = 0;
  // Of the released: sent again by us (the kernel's copy was dropped).
  std::uint64_t reinjected = 0;
  // Re-injections or duplicates the sender refused (lost packets).
  std::uint64_t send_failures = 0;
  // Sum over released packets of (verdict time - planned release time): how
  // late the engine is, for fidelity reports.
  std::uint64_t lateness_ns_total = 0;
  // Packets we did not copy because a cap on held copies (bytes or count)
  // was reached: such a packet waits in the kernel's (fail-open) queue
  // instead of being re-sent, and a duplicate it should have had is not
  // sent. Never dropped for the cap.
  std::uint64_t over_cap = 0;
  // Held for a release time in the future (delay, jitter, rate, reorder's
  // waiting share): the packets this engine really delayed.
  std::uint64_t delayed = 0;
};

// Default cap on the packet bytes one engine holds (re-send copies and
// duplicates). A copy can be a 64 KiB packet (loopback MTU), so a count cap
// alone does not bound memory.
inline constexpr std::size_t kDefaultMaxHeldBytes = std::size_t{64} << 20;  // 64 MiB

class PacketHolder {
 public:
  using VerdictSink = std::function<void(std::uint32_t packet_id, int verdict)>;

  // `sender` may be null: then nothing is re-injected and no duplicate is
  // sent. `max_copies_held` and `max_bytes_held` bound the copies we hold
  // (the kernel's queue limit no longer applies to them); beyond either,
  // packets take the verdict path, whose kernel queue is fail-open, and get
  // no duplicate (counted in EngineStats::over_cap).
  PacketHolder(const ImpairmentSpec& spec, std::uint64_t seed, VerdictSink verdicts, PacketSender* sender,
               std::size_t max_copies_held, std::size_t max_bytes_held = kDefaultMaxHeldBytes);

  // `arrived`: when the packet reached the kernel's queue (the engine's
  // estimate, at most `now`); its delay starts then, as netem's does at
  // enqueue. `now`: when it was read.
  void on_packet(const QueuedPacket& packet, SteadyTime arrived, SteadyTime now);
  void on_packet(const QueuedPacket& packet, SteadyTime now) { on_packet(packet, now, now); }
  // Packets still in the kernel's queue when the engine stops: accepted.
  void accept_unheld(const QueuedPacket& packet);
  void release_due(SteadyTime now);
  void release_all(SteadyTime now);

  bool empty() const { return held_.empty(); }
  std::size_t bytes_held() const { return bytes_held_; }
  SteadyTime next_release() const { return held_.next_release(); }
  EngineStats stats() const;

 private:
  bool can_reinject(const QueuedPacket& packet) const;
  bool fits(std::size_t bytes) const { return bytes <= max_bytes_held_ - bytes_held_; }
  void release(std::vector<HeldPacket> packets, SteadyTime now);
  void send(const std::vector<unsigned char>& packet, std::atomic<std::uint64_t>& on_success);

  ImpairmentModel model_;
  VerdictSink verdicts_;
  PacketSender* sender_;
  std::size_t max_copies_held_;
  std::size_t max_bytes_held_;
  std::size_t copies_held_ = 0;
  std::size_t bytes_held_ = 0;
  ReleaseQueue held_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> duplicated_{0};
  std::atomic<std::uint64_t> released_{0};
  std::atomic<std::uint64_t> reinjected_{0};
  std::atomic<std::uint64_t> send_failures_{0};
  std::atomic<std::uint64_t> lateness_ns_total_{0};
  std::atomic<std::uint64_t> over_cap_{0};
  std::atomic<std::uint64_t> delayed_{0};
};

}  // namespace chaos::agent::network
