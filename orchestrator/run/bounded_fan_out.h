// Runs many independent calls on a bounded number of threads. Fan-out to
// 1,000 agents must not mean 1,000 threads: a thread that cannot be started
// (std::system_error) is simply not added, and the calling thread always
// works too, so the calls all run even when no extra thread can be made.
#pragma once

#include <cstddef>
#include <functional>

namespace chaos::orchestrator {

class BoundedFanOut {
 public:
  // Enough to overlap the round trips of a large fleet while keeping the
  // thread count (and each thread's stack) small.
  static constexpr std::size_t kDefaultLimit = 16;

  explicit BoundedFanOut(std::size_t limit = kDefaultLimit) : limit_(limit == 0 ? 1 : limit) {}

  // Calls task(i) for every i in [0, count), at most limit() at a time, and
  // returns when all have returned. Every task runs even when one throws;
  // the first exception is then rethrown on the calling thread (never left
  // to escape a worker thread, which would terminate the process).
  void for_each(std::size_t count, const std::function<void(std::size_t)>& task) const;

  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
};

}  // namespace chaos::orchestrator
