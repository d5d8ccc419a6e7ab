// A process table in memory: signals change the fake processes' state
// (STOP -> 'T', CONT -> 'S', anything else ends them) and are recorded.
#pragma once

#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "agent/process_table.h"

namespace chaos::agent::testing {

class FakeProcessTable final : public ProcessTable {
 public:
  static constexpr int kSelf = 50;
  static constexpr int kParent = 49;
  static constexpr std::uint64_t kOwnNetns = 4026531840;
  static constexpr std::uint64_t kHostPidns = 4026531836;

  ProcessInfo& add(int pid, std::string comm, std::string cmdline, std::uint64_t netns = kOwnNetns) {
    std::lock_guard lock(mutex_);
    ProcessInfo& process = processes_[pid];
    process.pid = pid;
    process.ppid = 1;
    process.comm = std::move(comm);
    process.cmdline = std::move(cmdline);
    process.state = 'S';
    process.start_time = 1000 + static_cast<std::uint64_t>(pid);
    process.netns_inode = netns;
    process.pidns_inode = kHostPidns;
    return process;
  }
  // A process of a container: its own pid namespace, and `inner` its pid there.
  ProcessInfo& add_in_container(int pid, std::string comm, std::string cmdline, std::uint64_t pidns, int inner) {
    ProcessInfo& process = add(pid, std::move(comm), std::move(cmdline), 0);
    std::lock_guard lock(mutex_);
    process.pidns_inode = pidns;
    namespace_pids_[pid] = inner;
    return process;
  }
  void remove(int pid) {
    std::lock_guard lock(mutex_);
    processes_.erase(pid);
  }
  // The kernel refuses signals to this pid (EPERM).
  void deny(int pid) {
    std::lock_guard lock(mutex_);
    denied_.insert(pid);
  }
  // Signals to this pid are delivered but change nothing (a handler that
  // catches them, a process stuck in the kernel).
  void ignore_signals(int pid) {
    std::lock_guard lock(mutex_);
    ignoring_.insert(pid);
  }
  char state_of(int pid) const {
    std::lock_guard lock(mutex_);
    auto found = processes_.find(pid);
    return found == processes_.end() ? 'X' : found->second.state;
  }
  std::vector<std::pair<int, int>> signals() const {
    std::lock_guard lock(mutex_);
    return signals_;
  }
  void clear_signals() {
    std::lock_guard lock(mutex_);
    signals_.clear();
  }

  std::vector<ProcessInfo> list() override {
    std::lock_guard lock(mutex_);
    std::vector<ProcessInfo> all;
    for (const auto& [pid, process] : processes_) all.push_back(process);
    return all;
  }
  std::optional<ProcessInfo> get(int pid) override {
    std::lock_guard lock(mutex_);
    auto found = processes_.find(pid);
    if (found == processes_.end()) return std::nullopt;
    return found->second;
  }
  Status send_signal(int pid, std::uint64_t start_time, int signal) override {
    std::lock_guard lock(mutex_);
    auto found = processes_.find(pid);
    if (found == processes_.end() || found->second.start_time != start_time) return not_found("gone");
    if (denied_.count(pid) > 0) return permission_denied("pid " + std::to_string(pid) + ": not permitted");
    signals_.emplace_back(pid, signal);
    if (ignoring_.count(pid) > 0) return {};
    if (signal == SIGSTOP) {
      found->second.state = 'T';
    } else if (signal == SIGCONT) {
      found->second.state = 'S';
    } else {
      processes_.erase(found);
    }
    return {};
  }
  std::optional<int> namespace_pid(int pid) override {
    std::lock_guard lock(mutex_);
    if (processes_.count(pid) == 0) return std::nullopt;
    auto found = namespace_pids_.find(pid);
    return found == namespace_pids_.end() ? pid : found->second;
  }
  int self_pid() const override { return kSelf; }
  int parent_pid() const override { return kParent; }
  std::uint64_t self_netns_inode() const override { return kOwnNetns; }

 private:
  mutable std::mutex mutex_;
  std::map<int, ProcessInfo> processes_;
  std::map<int, int> namespace_pids_;
  std::set<int> denied_;
  std::set<int> ignoring_;
  std::vector<std::pair<int, int>> signals_;
};

}  // namespace chaos::agent::testing
