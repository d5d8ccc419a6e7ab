#include "common/worker_pool.h"

#include <cstdio>
#include <exception>
#include "common/thread_name.h"

namespace chaos {

WorkerPool::WorkerPool(WorkerPoolOptions options) : options_(std::move(options)) {
  if (options_.max_threads == 0) options_.max_threads = 1;
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::submit(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  if (stopping_ || queue_.size() >= options_.max_queued) return false;
  queue_.push_back(std::move(task));
  if (idle_ == 0 && threads_ < options_.max_threads) {
    // Detached, but counted: stop() waits until every worker has left work().
    try {
      std::thread([this] {
        set_current_thread_name("chaos-pool");
        work();
      }).detach();
      ++threads_;
    } catch (const std::system_error&) {
      // Out of threads: the task waits for a running worker; with none at
      // all, refuse it so the caller can run it itself.
      if (threads_ == 0) {
        queue_.pop_back();
        return false;
      }
    }
  } else {
    wakeup_.notify_one();
  }
  return true;
}

void WorkerPool::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) break;
      ++idle_;
      const bool woken = wakeup_.wait_for(lock, options_.idle_exit, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (!woken) break;  // idle for long enough: an idle agent keeps no spare threads
      continue;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& error) {
      if (options_.log) options_.log(std::string("worker task threw: ") + error.what());
    } catch (...) {
      if (options_.log) options_.log("worker task threw a non-exception");
    }
    lock.lock();
  }
  --threads_;
  all_exited_.notify_all();
}

void WorkerPool::stop() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  wakeup_.notify_all();
  all_exited_.wait(lock, [this] { return threads_ == 0; });
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(mutex_);
  return threads_;
}

}  // namespace chaos
