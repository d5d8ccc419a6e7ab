#include "agent/faults/proxy/direction_queue.h"

#include <algorithm>

namespace chaos::agent::proxy {

void DirectionQueue::push(std::string bytes, SteadyTime due, bool hold_order, bool own_segment) {
  if (bytes.empty()) return;
  held_bytes_ += bytes.size();
  if (!hold_order) ++unordered_held_;
  held_.push_back(Chunk{std::move(bytes), due, hold_order, own_segment});
}

void DirectionQueue::append_ready(Chunk& chunk) {
  // Compact the written prefix first so ready_ does not grow forever.
  if (ready_offset_ > 0 && ready_offset_ == ready_.size()) {
    ready_.clear();
    ready_offset_ = 0;
    edges_.clear();
  }
  if (chunk.own_segment && (edges_.empty() || edges_.back() != ready_.size())) edges_.push_back(ready_.size());
  // The common case (nothing unwritten): the chunk's buffer becomes ready_
  // without a copy.
  if (ready_.empty()) {
    ready_ = std::move(chunk.bytes);
  } else {
    ready_ += chunk.bytes;
  }
  if (chunk.own_segment) edges_.push_back(ready_.size());
}

std::string_view DirectionQueue::ready() const {
  const std::string_view all = std::string_view(ready_).substr(ready_offset_);
  for (const std::size_t edge : edges_) {
    if (edge > ready_offset_) return all.substr(0, edge - ready_offset_);
  }
  return all;
}

std::optional<SteadyTime> DirectionQueue::release(SteadyTime now) {
  std::optional<SteadyTime> next;
  bool earlier_held = false;
  for (auto chunk = held_.begin(); chunk != held_.end();) {
    if (chunk->due <= now && (!chunk->hold_order || !earlier_held)) {
      held_bytes_ -= chunk->bytes.size();
      append_ready(*chunk);
      if (!chunk->hold_order) --unordered_held_;
      chunk = held_.erase(chunk);
      continue;
    }
    earlier_held = true;
    // A chunk already due but held behind an earlier one is no wake-up of
    // its own: reporting its past due time made the proxy loop on it.
    if (chunk->due > now) next = next ? std::min(*next, chunk->due) : chunk->due;
    // Only ordered chunks behind this one: none can go before it, so the
    // rest (thousands with tcp.slicer) need not be looked at.
    if (unordered_held_ == 0) break;
    ++chunk;
  }
  return next;
}

void DirectionQueue::consume(std::size_t count) {
  ready_offset_ = std::min(ready_.size(), ready_offset_ + count);
  while (!edges_.empty() && edges_.front() <= ready_offset_) edges_.pop_front();
  if (ready_offset_ == ready_.size()) {
    ready_.clear();
    ready_offset_ = 0;
    edges_.clear();
  }
}

void DirectionQueue::clear() {
  held_.clear();
  held_bytes_ = 0;
  unordered_held_ = 0;
  ready_.clear();
  ready_offset_ = 0;
  edges_.clear();
}

}  // namespace chaos::agent::proxy
