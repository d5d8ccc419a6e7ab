#include "orchestrator/notify/delivery_queue.h"

#include <algorithm>
#include <exception>

namespace chaos::orchestrator {

std::chrono::milliseconds Delivery::worst_case() const {
  std::chrono::milliseconds total = attempt_timeout;
  std::chrono::milliseconds backoff = policy.backoff;
  for (int retry = 0; retry < policy.retries; ++retry) {
    total += backoff + attempt_timeout;
    backoff *= 2;
  }
  // A request can take a connect, a write and a read timeout.
  return total * 3;
}

// A sender that fails (out of memory) stops taking deliveries instead of
// ending the process: notifications never decide how a run ends.
DeliveryQueue::DeliveryQueue(std::size_t capacity)
    : capacity_(capacity), sender_([this] {
        try {
          send_loop();
        } catch (...) {
          std::lock_guard lock(mutex_);
          stopping_ = true;
          busy_ = false;
          changed_.notify_all();
        }
      }) {}

DeliveryQueue::~DeliveryQueue() {
  std::function<void()> abort;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    abort = in_flight_abort_;
  }
  changed_.notify_all();
  if (abort) abort();
  sender_.join();
}

void DeliveryQueue::enqueue(Delivery delivery) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= capacity_) {
      summary_.failed.push_back(delivery.what + ": dropped, " + std::to_string(capacity_) +
                                " notifications already waiting");
      return;
    }
    queue_.push_back(std::move(delivery));
  }
  changed_.notify_all();
}

DeliverySummary DeliveryQueue::drain(std::chrono::milliseconds cap) {
  std::unique_lock lock(mutex_);
  std::chrono::milliseconds left = in_flight_worst_;
  for (const auto& delivery : queue_) left += delivery.worst_case();
  const auto deadline = std::chrono::steady_clock::now() + std::min(cap, left);
  changed_.wait_until(lock, deadline, [this] { return queue_.empty() && !busy_; });
  DeliverySummary summary = summary_;
  if (busy_) summary.pending.push_back(in_flight_);
  for (const auto& delivery : queue_) summary.pending.push_back(delivery.what);
  stopping_ = true;  // what is left is given up on
  queue_.clear();
  std::function<void()> abort = busy_ ? in_flight_abort_ : nullptr;
  lock.unlock();
  changed_.notify_all();
  if (abort) abort();  // a request still in flight must not hold up the exit
  return summary;
}

void DeliveryQueue::send_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Delivery delivery = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    in_flight_ = delivery.what;
    in_flight_worst_ = delivery.worst_case();
    in_flight_abort_ = delivery.abort;
    lock.unlock();
    deliver(delivery);
    lock.lock();
    busy_ = false;
    in_flight_.clear();
    in_flight_worst_ = std::chrono::milliseconds(0);
    in_flight_abort_ = nullptr;
    changed_.notify_all();
  }
}

// Runs without the lock; the sleeps between attempts wake up at once when
// the queue stops.
void DeliveryQueue::deliver(Delivery& delivery) {
  std::chrono::milliseconds backoff = delivery.policy.backoff;
  const int attempts = delivery.policy.retries + 1;
  std::string last_error;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    Status status;
    try {
      status = delivery.attempt();
    } catch (const std::exception& error) {
      status = internal_error(std::string("exception: ") + error.what());
    } catch (...) {
      status = internal_error("unknown exception");
    }
    if (status.ok()) {
      std::lock_guard lock(mutex_);
      ++summary_.delivered;
      return;
    }
    last_error = status.message();
    if (attempt == attempts) break;
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, backoff, [this] { return stopping_; })) {
      summary_.failed.push_back(delivery.what + ": " + last_error + " (" + std::to_string(attempt) +
                                " attempt(s), then stopped)");
      return;
    }
    backoff *= 2;
  }
  std::lock_guard lock(mutex_);
  summary_.failed.push_back(delivery.what + ": " + last_error + " (" + std::to_string(attempts) + " attempt(s))");
}

}  // namespace chaos::orchestrator
