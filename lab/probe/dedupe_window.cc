#include "lab/probe/dedupe_window.h"

namespace chaos::lab::probe {

bool DedupeWindow::seen_before(std::uint64_t stream_sequence) {
  if (capacity_ == 0) return false;
  if (remembered_.count(stream_sequence) != 0) return true;
  remembered_.insert(stream_sequence);
  order_.push_back(stream_sequence);
  if (order_.size() > capacity_) {
    remembered_.erase(order_.front());
    order_.pop_front();
  }
  return false;
}

}  // namespace chaos::lab::probe
