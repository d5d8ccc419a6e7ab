// A server process in a test bed namespace (through `ip netns exec`, which
// execs it), killed and reaped when the object goes, also when a test fails.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "lab/testbed/agent_harness.h"

namespace chaos::agent::integration {

class ServerInNamespace {
 public:
  // `ready` is polled for up to 10 s (a connect that succeeds).
  ServerInNamespace(const std::string& netns, const std::vector<std::string>& argv, const std::function<bool()>& ready,
                    const std::string& output_file = "/dev/null") {
    pid_ = spawn(with_prefix({"/usr/sbin/ip", "netns", "exec", netns}, argv), output_file);
    ready_ = eventually([&] { return !reap_if_exited(pid_) && ready(); }, std::chrono::seconds(10),
                        std::chrono::milliseconds(50));
  }
  ~ServerInNamespace() {
    if (pid_ <= 0) return;
    safe_kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ServerInNamespace(const ServerInNamespace&) = delete;
  ServerInNamespace& operator=(const ServerInNamespace&) = delete;
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace chaos::agent::integration
