// Packets held by the engine, ordered by release time. Ties keep arrival
// order so a constant delay releases in FIFO order, which also keeps the
// kernel's linear verdict lookup short (it scans from the oldest entry).
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "common/clock.h"

namespace chaos::agent::network {

struct HeldPacket {
  SteadyTime release_at{};
  std::uint64_t arrival = 0;  // tie-breaker, increasing
  std::uint32_t packet_id = 0;
  // Non-empty only when a copy must be sent alongside the original.
  std::vector<unsigned char> duplicate_payload;
  // Non-empty when the kernel already dropped the original (packet_id is
  // then meaningless): these bytes are sent again at release time.
  std::vector<unsigned char> reinject_payload;
};

class ReleaseQueue {
 public:
  void hold(SteadyTime release_at, std::uint32_t packet_id,
            std::vector<unsigned char> duplicate_payload = {}) {
    heap_.push(HeldPacket{release_at, next_arrival_++, packet_id, std::move(duplicate_payload), {}});
  }

  // A packet whose original the kernel no longer holds: `packet` is sent at
  // release time (twice when `duplicate`).
  void hold_copy(SteadyTime release_at, std::vector<unsigned char> packet, bool duplicate) {
    std::vector<unsigned char> copy;
    if (duplicate) copy = packet;
    heap_.push(HeldPacket{release_at, next_arrival_++, 0, std::move(copy), std::move(packet)});
  }

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  SteadyTime next_release() const { return heap_.top().release_at; }

  // Removes and returns every packet due at `now`, in release order.
  std::vector<HeldPacket> take_due(SteadyTime now) {
    std::vector<HeldPacket> due;
    while (!heap_.empty() && heap_.top().release_at <= now) {
      due.push_back(std::move(const_cast<HeldPacket&>(heap_.top())));  // NOLINT: popped next
      heap_.pop();
    }
    return due;
  }

  std::vector<HeldPacket> take_all() {
    std::vector<HeldPacket> all;
    while (!heap_.empty()) {
      all.push_back(std::move(const_cast<HeldPacket&>(heap_.top())));  // NOLINT: popped next
      heap_.pop();
    }
    return all;
  }

 private:
  struct Later {
    bool operator()(const HeldPacket& a, const HeldPacket& b) const {
      if (a.release_at != b.release_at) return a.release_at > b.release_at;
      return a.arrival > b.arrival;
    }
  };
  std::priority_queue<HeldPacket, std::vector<HeldPacket>, Later> heap_;
  std::uint64_t next_arrival_ = 0;
};

}  // namespace chaos::agent::network
