// A real chaos-agent inside namespace A of the network test bed (A linked to
// B and to C, see lab/testbed/network_test_bed.h), reached
// from the test through a LoopbackBridge, with a resolv.conf of its own for
// dns.fail (/etc/netns/A/resolv.conf, pointing at B: no query can leave the
// bed) and node-state snapshots of A for "nothing is left behind" checks.
// Everything is removed in destructors, also when a test fails.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chaos/v1/agent.grpc.pb.h"
#include "common/command_runner.h"
#include "lab/testbed/agent_harness.h"
#include "lab/testbed/loopback_bridge.h"
#include "lab/testbed/network_test_bed.h"
#include "lab/testbed/node_state_snapshot.h"

namespace chaos::agent::integration {

// A fresh directory below the temp dir, removed with everything in it when
// the object goes, also when a test fails half-way.
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

// One agent process in a namespace. `environment` ("NAME=value") is set for
// the agent only (e.g. the crash hook's CHAOS_CRASH_AFTER_STEPS), never for
// the test process.
class NamespacedAgent {
 public:
  // `flags` are added to the agent's command line (e.g. --podman-socket).
  NamespacedAgent(std::string netns, std::string state_dir, std::string log_file,
                  std::vector<std::string> environment = {}, std::vector<std::string> flags = {});
  NamespacedAgent(const NamespacedAgent&) = delete;
  NamespacedAgent& operator=(const NamespacedAgent&) = delete;

  // Starts the agent and waits until it serves (journal recovery is done by
  // then); false with the reason in log() otherwise.
  bool start();
  // SIGTERM after closing the test's connections; the exit status (-1 on a
  // timeout). Why close them first: with a client connected the agent's
  // gRPC shutdown waits out its whole 5 s grace before the registry reverts
  // anything (see the report on agent/main.cc), which would only slow the
  // tests down.
  int stop();
  AgentProcess& process() { return process_; }
  pid_t pid() const { return process_.pid(); }
  std::string log() const { return process_.log(); }

  // A channel with a connection of its own (not shared with other channels
  // to the same address), for clients that must be independent.
  std::shared_ptr<grpc::Channel> new_channel() const;
  v1::Agent::Stub& stub() { return *stub_; }

  grpc::Status inject(const v1::InjectRequest& request, v1::InjectResponse* response,
                      std::chrono::seconds deadline = std::chrono::seconds(20));
  grpc::Status revert(const std::string& fault_id, v1::RevertResponse* response = nullptr,
                      std::chrono::seconds deadline = std::chrono::seconds(20));
  grpc::Status list(v1::ListResponse* response, bool include_ended = false);

 private:
  std::string netns_;
  AgentProcess process_;
  std::unique_ptr<LoopbackBridge> bridge_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

// Namespaces A, B, C and A's resolv.conf.
class AgentTestBed {
 public:
  // `instance`: see NetworkTestBed (several beds in one process).
  explicit AgentTestBed(const std::string& instance = "");
  ~AgentTestBed();
  AgentTestBed(const AgentTestBed&) = delete;
  AgentTestBed& operator=(const AgentTestBed&) = delete;

  // "" when ready.
  const std::string& error() const { return error_; }
  chaos::testing::NetworkTestBed& network() { return network_; }
  const std::string& a() const { return network_.a(); }

  // A's nftables/iptables/tc/rules/resolv.conf and the given processes.
  StatusOr<chaos::testing::NodeStateSnapshot> snapshot(const std::vector<pid_t>& processes = {});
  // "" when A and the processes look as in `baseline`; else the diff.
  std::string diff_from(const chaos::testing::NodeStateSnapshot& baseline, const std::vector<pid_t>& processes = {});

  CommandRunner& commands() { return commands_; }

 private:
  chaos::testing::NetworkTestBed network_;
  ProcessCommandRunner commands_;
  std::string resolv_dir_;
  std::string error_;
};

// An InjectRequest with a duration long enough never to end by itself
// during a test.
v1::InjectRequest inject_request(const v1::FaultSpec& spec, const std::string& experiment = "cag-exp",
                                 int duration_seconds = 120);

v1::NetworkScope network_scope(const std::string& interface, const std::vector<std::string>& destination_cidrs,
                               const std::vector<int>& ports = {});

// Minimal specs of each kind, scoped as given.
v1::FaultSpec delay_spec(const v1::NetworkScope& scope, int milliseconds = 10);
v1::FaultSpec loss_spec(const v1::NetworkScope& scope, double percent = 10);
v1::FaultSpec partition_spec(const std::vector<std::string>& cidrs, const v1::NetworkScope& narrowing = {});
v1::FaultSpec bandwidth_spec(const v1::NetworkScope& scope, std::uint64_t bits_per_second = 1'000'000);
v1::FaultSpec duplicate_spec(const v1::NetworkScope& scope, double percent = 5);
v1::FaultSpec reorder_spec(const v1::NetworkScope& scope, double percent = 50, int delay_milliseconds = 10);
v1::FaultSpec dns_fail_spec(const std::string& pattern = "*.lab");
v1::FaultSpec kill_spec(pid_t pid);
v1::FaultSpec pause_spec(pid_t pid);

// /proc/PID/status: "Threads:" and "VmRSS:" (KiB); -1 when unreadable.
long proc_status_value(pid_t pid, const std::string& field);

}  // namespace chaos::agent::integration
