// Real certificates (Debian openssl through common/pki) and real chaos-agent
// processes on 127.0.0.1 for the security integration tests. Everything is
// created in a temp dir and removed, and every agent is killed, also when a
// test fails half-way.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/command_runner.h"
#include "common/pki.h"
#include "orchestrator/clients/agent_client.h"
#include "lab/testbed/agent_harness.h"

namespace chaos::security_testing {

namespace fs = std::filesystem;
using agent::integration::AgentProcess;
using agent::integration::eventually;

inline constexpr const char* kAgentName = "agent-a";
inline constexpr const char* kToken = "integration-token-0123456789";

// Two CAs: "trusted" (agent-a, chaosctl) and "other" (mallory).
class Certificates {
 public:
  explicit Certificates(const fs::path& root) : root_(root) {
    ProcessCommandRunner runner;
    pki::CertificateAuthority trusted(runner, trusted_dir());
    status_ = trusted.init(1, false).status();
    if (status_.ok()) status_ = trusted.issue({pki::CertificateRole::kAgent, kAgentName, {"127.0.0.1"}, 1}, false).status();
    if (status_.ok()) status_ = trusted.issue({pki::CertificateRole::kClient, "chaosctl", {}, 1}, false).status();
    pki::CertificateAuthority other(runner, other_dir());
    if (status_.ok()) status_ = other.init(1, false).status();
    if (status_.ok()) status_ = other.issue({pki::CertificateRole::kClient, "mallory", {}, 1}, false).status();
  }
  const Status& status() const { return status_; }
  std::string trusted_dir() const { return (root_ / "trusted").string(); }
  std::string other_dir() const { return (root_ / "other").string(); }
  std::string trusted(const std::string& file) const { return trusted_dir() + "/" + file; }
  std::string other(const std::string& file) const { return other_dir() + "/" + file; }

  std::vector<std::string> agent_flags() const {
    return {"--tls-cert", trusted("agent-a.crt"), "--tls-key", trusted("agent-a.key"), "--tls-client-ca",
            trusted("ca.crt")};
  }
  // What chaosctl's inventory would say for agent-a.
  orchestrator::AgentSecurity chaosctl_security() const {
    orchestrator::AgentSecurity security;
    security.tls = {trusted("ca.crt"), trusted("chaosctl.crt"), trusted("chaosctl.key")};
    security.server_name = kAgentName;
    return security;
  }

 private:
  fs::path root_;
  Status status_;
};

inline fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("chaos-security-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::unique_ptr<orchestrator::AgentClient> chaosctl_client(const AgentProcess& agent,
                                                                  const orchestrator::AgentSecurity& security) {
  const std::string address = "127.0.0.1:" + std::to_string(agent.grpc_port());
  auto opened = orchestrator::open_agent_channel(address, security);
  if (!opened.ok()) return orchestrator::make_failing_agent_client(address, opened.status());
  return orchestrator::make_grpc_agent_client(opened->channel, address, std::chrono::seconds(5), opened->bearer_token);
}

}  // namespace chaos::security_testing
