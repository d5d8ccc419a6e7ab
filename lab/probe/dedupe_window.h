// The idempotent consumer's memory: the ids of the last N messages it
// processed, so a redelivery or a second stored copy of one of them is not
// processed again. Memory
// is bounded by N (a ring for the order, a set for the lookup); N = 0
// remembers nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>

namespace chaos::lab::probe {

class DedupeWindow {
 public:
  explicit DedupeWindow(std::size_t capacity) : capacity_(capacity) {}

  // True when `message_id` is among the last N remembered (processed
  // already: skip it); otherwise remembers it, forgetting the oldest beyond
  // N, and returns false.
  bool seen_before(std::uint64_t message_id);
  std::size_t size() const { return order_.size(); }

 private:
  std::size_t capacity_;
  std::deque<std::uint64_t> order_;
  std::unordered_set<std::uint64_t> remembered_;
};

}  // namespace chaos::lab::probe
