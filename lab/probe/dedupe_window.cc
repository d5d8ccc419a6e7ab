#include "lab/probe/dedupe_window.h"

namespace chaos::lab::probe {

bool DedupeWindow::seen_before(std::uint64_t message_id) {
  if (capacity_ == 0) return false;
  if (remembered_.count(message_id) != 0) return true;
  remembered_.insert(message_id);
  order_.push_back(message_id);
  if (order_.size() > capacity_) {
    remembered_.erase(order_.front());
    order_.pop_front();
  }
  return false;
}

}  // namespace chaos::lab::probe
