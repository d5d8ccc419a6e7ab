// Where slow work runs: an Executor takes tasks; WorkerPool runs them on at
// most `max_threads` threads, started on demand and stopped again after
// they sit idle, so an idle agent keeps no spare threads and a burst of
// reverts never means a thread per fault. InlineExecutor runs each task on
// the caller's thread (deterministic unit tests).
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

namespace chaos {

class Executor {
 public:
  virtual ~Executor() = default;
  // Takes ownership of `task`. Returns false when the task was refused
  // (queue full or stopping); the caller still owns the work then.
  [[nodiscard]] virtual bool submit(std::function<void()> task) = 0;
};

class InlineExecutor final : public Executor {
 public:
  bool submit(std::function<void()> task) override {
    task();
    return true;
  }
};

struct WorkerPoolOptions {
  std::size_t max_threads = 8;
  std::size_t max_queued = 1024;
  std::chrono::milliseconds idle_exit{std::chrono::seconds(10)};
  // A task that throws is a bug in the task; the pool logs it and goes on.
  std::function<void(const std::string&)> log;
};

class WorkerPool final : public Executor {
 public:
  explicit WorkerPool(WorkerPoolOptions options);
  ~WorkerPool() override;  // runs what is queued, then joins every thread
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  bool submit(std::function<void()> task) override;
  // Stops taking tasks, finishes the queued ones, joins the threads.
  void stop();

  std::size_t threads() const;

 private:
  void work();

  WorkerPoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  std::condition_variable all_exited_;
  std::deque<std::function<void()>> queue_;
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace chaos
