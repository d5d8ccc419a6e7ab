#include "lab/probe/sequence_tracker.h"

#include <cassert>

namespace chaos::lab::probe {

namespace {
constexpr std::size_t kMaxRememberedLost = 100000;
}  // namespace

void SequenceTracker::published(std::uint64_t sequence, bool acked, SteadyTime now) {
  assert((window_.empty() || window_.back().sequence < sequence) && "sequences must increase");
  window_.push_back(Publish{sequence, acked, now});
}

Delivery SequenceTracker::received(std::uint64_t sequence) {
  if (sequence < floor_) {
    return lost_.erase(sequence) != 0 ? Delivery::kLate : Delivery::kDuplicate;
  }
  return received_.insert(sequence).second ? Delivery::kFirst : Delivery::kDuplicate;
}

std::uint64_t SequenceTracker::expire(SteadyTime now) {
  std::uint64_t newly_lost = 0;
  while (!window_.empty() && window_.front().finished + grace_ <= now) {
    const Publish& oldest = window_.front();
    const bool delivered = received_.erase(oldest.sequence) != 0;
    if (oldest.acked && !delivered) {
      ++newly_lost;
      lost_.insert(oldest.sequence);
      // Only for telling "late" from "duplicate"; forget the oldest first.
      if (lost_.size() > kMaxRememberedLost) lost_.erase(lost_.begin());
    }
    floor_ = oldest.sequence + 1;
    window_.pop_front();
  }
  // Deliveries of sequences that were never published by this run (or
  // whose publish is still running) stay in received_; drop the ones below
  // the floor so the set cannot grow without bound.
  received_.erase(received_.begin(), received_.lower_bound(floor_));
  return newly_lost;
}

std::uint64_t SequenceTracker::awaiting() const {
  std::uint64_t count = 0;
  for (const auto& publish : window_) {
    if (publish.acked && received_.count(publish.sequence) == 0) ++count;
  }
  return count;
}

}  // namespace chaos::lab::probe
