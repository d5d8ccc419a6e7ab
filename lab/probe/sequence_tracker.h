// Classifies the probe's messages by their sequence numbers: a message that
// was confirmed by the broker and not consumed within the grace period is
// lost; a sequence consumed twice is duplicated. Pure logic over explicit
// times so tests need no clock and no broker.
//
// Memory stays bounded: a sequence is settled once its publish finished
// more than `grace` ago; settled sequences leave the window, and a settled
// sequence that arrives again is a duplicate (or "late" if it had been
// counted as lost).
#pragma once

#include <cstdint>
#include <deque>
#include <set>

#include "common/clock.h"

namespace chaos::lab::probe {

enum class Delivery { kFirst, kDuplicate, kLate };

class SequenceTracker {
 public:
  explicit SequenceTracker(Duration grace) : grace_(grace) {}

  // The publish of `sequence` finished at `now`; `acked` says whether
  // the broker confirmed it. Sequences must be reported in increasing order.
  void published(std::uint64_t sequence, bool acked, SteadyTime now);
  // A consumer delivered `sequence`.
  Delivery received(std::uint64_t sequence);
  // Settles sequences older than the grace period; returns how many of
  // them were acknowledged but never delivered (newly lost).
  std::uint64_t expire(SteadyTime now);
  // Acknowledged sequences in the window that have not been delivered yet.
  std::uint64_t awaiting() const;
  // Settled as lost and still not delivered (late deliveries leave).
  std::uint64_t missing() const { return lost_.size(); }

 private:
  struct Publish {
    std::uint64_t sequence;
    bool acked;
    SteadyTime finished;
  };

  Duration grace_;
  std::deque<Publish> window_;
  std::set<std::uint64_t> received_;  // delivered sequences not yet settled
  std::set<std::uint64_t> lost_;      // settled as lost; a late delivery removes it
  std::uint64_t floor_ = 0;           // every sequence below is settled
};

}  // namespace chaos::lab::probe
