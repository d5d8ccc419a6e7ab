// A held reference to another process's network namespace, and the two ways
// the agent works inside it: tools run through nsenter (argv, never a
// shell), and threads that enter it before they open sockets (the NFQUEUE
// engine, the DNS stub). Holding the open /proc/PID/ns/net keeps the
// namespace alive and pinned: a recycled pid can never redirect a fault.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"

namespace chaos::agent {

// A namespace's identity as /proc/PID/ns/* reads it: "net:[4026532301]".
struct NamespaceIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::string to_string(const std::string& type) const;  // "net:[4026532301]"
  bool operator==(const NamespaceIdentity& other) const {
    return device == other.device && inode == other.inode;
  }
};

// The identity of /proc/PID/ns/<type> ("net", "pid", "mnt"): NOT_FOUND when
// the process is gone.
StatusOr<NamespaceIdentity> namespace_of(int pid, const std::string& type);
// The agent's own network namespace as /proc/self/ns/net names it
// ("net:[4026531840]"); empty when it cannot be read.
std::string own_network_namespace();

class NamespaceHandle {
 public:
  // Opens /proc/PID/ns/<type>. NOT_FOUND when the process is gone.
  static StatusOr<NamespaceHandle> open(int pid, const std::string& type);
  NamespaceHandle() = default;
  NamespaceHandle(NamespaceHandle&& other) noexcept;
  NamespaceHandle& operator=(NamespaceHandle&& other) noexcept;
  NamespaceHandle(const NamespaceHandle&) = delete;
  NamespaceHandle& operator=(const NamespaceHandle&) = delete;
  ~NamespaceHandle();

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& type() const { return type_; }
  const NamespaceIdentity& identity() const { return identity_; }
  // A path that names exactly this namespace while the handle is open
  // ("/proc/<agent pid>/fd/<fd>"), for nsenter --net=.
  std::string path() const;

 private:
  NamespaceHandle(int fd, std::string type, NamespaceIdentity identity);
  int fd_ = -1;
  std::string type_;
  NamespaceIdentity identity_;
};

// Moves the calling thread into the network namespace `fd` names (setns).
// Only for threads the caller owns for the namespace's work (an engine or a
// stub thread): a pool thread must never be moved.
Status enter_network_namespace(int fd);

// The kernel's cookie of the network namespace `fd` names (SO_NETNS_COOKIE,
// Linux 5.14): never given to another namespace during the boot, where the
// inode of a namespace that ended is soon another's. Read through a socket
// made on a short-lived thread that enters the namespace; `fd` < 0: the
// caller's own namespace. UNIMPLEMENTED on an older kernel.
StatusOr<std::uint64_t> network_namespace_cookie(int fd);

// Runs every command inside one network namespace:
// nsenter --net=<path> -- argv...
class NamespacedCommandRunner final : public CommandRunner {
 public:
  NamespacedCommandRunner(CommandRunner& inner, std::string namespace_path);
  using CommandRunner::run;
  StatusOr<CommandResult> run(const std::vector<std::string>& argv, const RunOptions& options) override;

 private:
  CommandRunner& inner_;
  std::string namespace_path_;
};

}  // namespace chaos::agent
