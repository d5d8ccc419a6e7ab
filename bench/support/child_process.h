// A child process the benchmarks start (chaos-agent, sleep): argv only, its
// output appended to a log file, stopped with SIGTERM (then SIGKILL after a
// grace period) when the owner goes away, so no benchmark leaves one behind.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace chaos::bench {

class ChildProcess {
 public:
  // Throws std::runtime_error when the program cannot be started.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const;
  bool running();
  // SIGTERM without waiting, so many children can shut down in parallel.
  void request_stop();
  // SIGTERM, wait up to `grace`, then SIGKILL. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chaos::bench
