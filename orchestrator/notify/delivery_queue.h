// The one background sender of a run's notifications. The run only ever
// enqueues (never blocks: a full queue drops the delivery and counts it as
// failed); the sender thread tries each delivery in order, retrying with a
// doubling backoff. At the end chaosctl drains it for a bounded time and
// then gives up, so a slow or dead receiver never holds up a run or changes
// its verdict.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/notify_config.h"

namespace chaos::orchestrator {

struct Delivery {
  std::string what;                 // "webhook https://hooks.example/chaos (verdict)"
  std::function<Status()> attempt;  // one try; bounded by the endpoint's timeout
  // Ends the attempt in flight from another thread (at drain's deadline and
  // when the queue stops): the timeouts bound each read, not a whole answer.
  std::function<void()> abort;
  DeliveryPolicy policy;
  std::chrono::milliseconds attempt_timeout{5000};
  // The longest it can take: every attempt timing out, plus the backoffs.
  std::chrono::milliseconds worst_case() const;
};

struct DeliverySummary {
  int delivered = 0;
  std::vector<std::string> failed;  // "what: last error (N attempts)"
  std::vector<std::string> pending;  // given up on at drain
};

class DeliveryQueue {
 public:
  static constexpr std::size_t kDefaultCapacity = 64;
  explicit DeliveryQueue(std::size_t capacity = kDefaultCapacity);
  // Stops the sender: queued deliveries are dropped, backoffs cut short, a
  // request in flight is aborted.
  ~DeliveryQueue();
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  void enqueue(Delivery delivery);
  // Waits until nothing is queued or in flight, or at most min(cap, the
  // worst case of what is left); what is left then is reported pending and
  // not attempted any more.
  DeliverySummary drain(std::chrono::milliseconds cap);

 private:
  void send_loop();
  void deliver(Delivery& delivery);

  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Delivery> queue_;
  bool busy_ = false;  // a delivery is being attempted
  std::string in_flight_;
  std::chrono::milliseconds in_flight_worst_{0};
  std::function<void()> in_flight_abort_;
  bool stopping_ = false;
  DeliverySummary summary_;
  std::thread sender_;
};

}  // namespace chaos::orchestrator
