// Starts and watches the lab's long-running processes. The supervisor's
// logic talks to this interface only, so it is unit-tested with a fake.
#pragma once

#include <map>
#include <memory>

#include "common/status.h"
#include "lab/process_spec.h"

namespace chaos::lab {

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts `spec` with output appended to its log and its pid written to
  // its pidfile; returns the pid.
  virtual StatusOr<int> start(const ProcessSpec& spec) = 0;
  // False once the process has exited (and reaps it).
  virtual bool running(int pid) = 0;
  virtual void send_signal(int pid, int signal_number) = 0;
};

// Writes `pid` to `path` through a temporary file and rename, so a reader
// never sees half a pid.
Status write_pidfile(const std::string& path, int pid);

// The real launcher over Boost.Process. Children stay attached to this
// process so their exit is observed without polling /proc.
class ChildProcessLauncher final : public ProcessLauncher {
 public:
  ChildProcessLauncher();
  ~ChildProcessLauncher() override;
  StatusOr<int> start(const ProcessSpec& spec) override;
  bool running(int pid) override;
  void send_signal(int pid, int signal_number) override;

 private:
  struct Children;
  std::unique_ptr<Children> children_;
};

}  // namespace chaos::lab
