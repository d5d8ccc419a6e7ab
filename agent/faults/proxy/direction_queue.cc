#include "agent/faults/proxy/direction_queue.h"

#include <algorithm>

namespace chaos::agent::proxy {

void DirectionQueue::push(std::string bytes, SteadyTime due, bool hold_order) {
  if (bytes.empty()) return;
  held_bytes_ += bytes.size();
  held_.push_back(Chunk{std::move(bytes), due, hold_order});
}

std::optional<SteadyTime> DirectionQueue::release(SteadyTime now) {
  std::optional<SteadyTime> next;
  bool earlier_held = false;
  for (auto chunk = held_.begin(); chunk != held_.end();) {
    if (chunk->due <= now && (!chunk->hold_order || !earlier_held)) {
      // Compact the written prefix first so ready_ does not grow forever.
      if (ready_offset_ > 0 && ready_offset_ == ready_.size()) {
        ready_.clear();
        ready_offset_ = 0;
      }
      ready_ += chunk->bytes;
      held_bytes_ -= chunk->bytes.size();
      chunk = held_.erase(chunk);
      continue;
    }
    earlier_held = true;
    // A chunk already due but held behind an earlier one is no wake-up of
    // its own: reporting its past due time made the proxy loop on it.
    if (chunk->due > now) next = next ? std::min(*next, chunk->due) : chunk->due;
    ++chunk;
  }
  return next;
}

void DirectionQueue::consume(std::size_t count) {
  ready_offset_ = std::min(ready_.size(), ready_offset_ + count);
  if (ready_offset_ == ready_.size()) {
    ready_.clear();
    ready_offset_ = 0;
  }
}

void DirectionQueue::clear() {
  held_.clear();
  held_bytes_ = 0;
  ready_.clear();
  ready_offset_ = 0;
}

}  // namespace chaos::agent::proxy
