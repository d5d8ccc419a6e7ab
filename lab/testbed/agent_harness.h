// Real chaos-agent processes and real victim processes for integration
// tests. Everything started here is killed and reaped in destructors, also
// when a test fails half-way.
#pragma once

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "chaos/v1/agent.grpc.pb.h"
#include "common/proc_reader.h"
#include "lab/testbed/safe_kill.h"

namespace chaos::agent::integration {

using test_support::safe_kill;

inline pid_t spawn(const std::vector<std::string>& argv, const std::string& output_file = "/dev/null") {
  // Built before fork(): a child of a multi-threaded test must not allocate
  // (another thread may have held the allocator's lock at the fork).
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // a group of its own: the test's terminal signals do not reach it
    const int fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// True once `pid` (a child of this process) has exited: it is reaped and
// `pid` becomes -1, so nothing signals a recycled pid later.
inline bool reap_if_exited(pid_t& pid) {
  if (pid <= 0) return true;
  if (::waitpid(pid, nullptr, WNOHANG) != pid) return false;
  pid = -1;
  return true;
}

// Field 3 of /proc/PID/stat: 'S', 'R', 'T', 'Z', ...; 'X' when gone.
inline char process_state(pid_t pid) {
  const auto stat = ProcReader().stat(pid);
  return stat ? stat->state : 'X';
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks
// since boot (0 when gone). With the pid it names one process: a reused pid
// has another start time.
inline unsigned long long process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int index = 3; index <= 22 && fields >> field; ++index) {
    if (index == 22) return std::stoull(field);
  }
  return 0;
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout, std::chrono::milliseconds step =
                                                                            std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(step);
  }
  return predicate();
}

inline std::vector<std::string> with_prefix(std::vector<std::string> prefix, const std::vector<std::string>& argv) {
  prefix.insert(prefix.end(), argv.begin(), argv.end());
  return prefix;
}

// A `sleep 300` child with a recognisable argv[0] (via bash's exec -a).
class Victim {
 public:
  explicit Victim(const std::string& argv0 = "sleep", std::vector<std::string> prefix = {})
      : pid_(spawn(with_prefix(std::move(prefix), {"/bin/bash", "-c", "exec -a '" + argv0 + "' sleep 300"}))) {
    // Wait for the exec so its cmdline is the victim's, not bash's.
    eventually([&] { return cmdline().rfind(argv0, 0) == 0; }, std::chrono::seconds(5));
    start_time_ = process_start_time(pid_);
  }
  ~Victim() {
    // pid_ is -1 after a failed fork or once exited() reaped it: waitpid(-1)
    // would reap another child of the test.
    if (!reaped_ && pid_ > 0) {
      safe_kill(pid_, SIGKILL);
      safe_kill(pid_, SIGCONT);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;

  // True (and reaped) once the victim has exited on its own.
  bool exited() { return reap_if_exited(pid_); }

  pid_t pid() const { return pid_; }
  char state() const { return process_state(pid_); }
  // Running or sleeping, and still the process started here. Not "not
  // stopped": a killed victim is a zombie ('Z') until reaped, and not 'T'.
  bool running() const {
    const char now = state();
    return (now == 'R' || now == 'S') && start_time_ != 0 && process_start_time(pid_) == start_time_;
  }
  std::string cmdline() const { return ProcReader().cmdline(pid_).value_or(""); }
  // The signal that ended it, once it has ended (within `timeout`).
  std::optional<int> wait_for_death(std::chrono::milliseconds timeout) {
    if (pid_ <= 0 || reaped_) return std::nullopt;
    int status = 0;
    const bool ended = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!ended) return std::nullopt;
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

 private:
  pid_t pid_;
  unsigned long long start_time_ = 0;
  bool reaped_ = false;
};

// chaos-agent from the build dir on ephemeral ports with its own state dir.
class AgentProcess {
 public:
  // `prefix` runs the agent through another command (e.g. ip netns exec).
  AgentProcess(std::string state_dir, std::string log_file, std::vector<std::string> extra = {},
               std::vector<std::string> prefix = {})
      : state_dir_(std::move(state_dir)),
        log_file_(std::move(log_file)),
        extra_(std::move(extra)),
        prefix_(std::move(prefix)) {}
  ~AgentProcess() { kill_hard(); }
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  static std::string binary() {
    const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
    return std::string(build_dir ? build_dir : "build") + "/bin/chaos-agent";
  }

  // Starts the agent and waits for "grpc listening on HOST:PORT".
  bool start() {
    std::ofstream(log_file_, std::ios::trunc).close();
    std::vector<std::string> argv = {binary(), "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                     "--state-dir", state_dir_, "--node-name", "cag-node"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    argv.insert(argv.begin(), prefix_.begin(), prefix_.end());
    pid_ = spawn(argv, log_file_);
    eventually([&] { return parse_ports() || exited(); }, std::chrono::seconds(20), std::chrono::milliseconds(50));
    const bool up = pid_ > 0 && grpc_port_ > 0;
    if (up) {
      channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_), grpc::InsecureChannelCredentials());
      stub_ = v1::Agent::NewStub(channel_);
    }
    return up;
  }

  void kill_hard() {
    if (pid_ <= 0) return;
    safe_kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // Sends `signal` and returns the exit status (-1 on a timeout).
  int stop_with(int signal, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    if (pid_ <= 0) return -1;  // never started or already reaped
    safe_kill(pid_, signal);
    int status = 0;
    const bool ended = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!ended) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // True (and reaped) once the agent has exited on its own.
  bool exited() { return reap_if_exited(pid_); }

  pid_t pid() const { return pid_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  v1::Agent::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  std::string log() const {
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  bool parse_ports() {
    const std::string text = log();
    std::smatch grpc_match;
    std::smatch metrics_match;
    static const std::regex grpc_line("grpc listening on 127\\.0\\.0\\.1:(\\d+)");
    static const std::regex metrics_line("metrics listening on 127\\.0\\.0\\.1:(\\d+)");
    if (!std::regex_search(text, grpc_match, grpc_line) || !std::regex_search(text, metrics_match, metrics_line)) {
      return false;
    }
    grpc_port_ = std::stoi(grpc_match[1]);
    metrics_port_ = std::stoi(metrics_match[1]);
    return true;
  }

  std::string state_dir_;
  std::string log_file_;
  std::vector<std::string> extra_;
  std::vector<std::string> prefix_;
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

}  // namespace chaos::agent::integration
