#include "agent/agent_config.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

TEST(AgentConfig, ParsesEveryKey) {
  auto config = parse_agent_config(R"(
listen = "0.0.0.0:9700"
metrics_listen = "0.0.0.0:9701"
node_name = "n1"
state_dir = "/tmp/x"
process_scope = "netns"
[labels]
zone = "a"
role = "broker"
[policy]
allowed_kinds = ["process.kill", "network.delay"]
max_duration = "10m"
max_delay = "2s"
max_loss_percent = 50
protected_processes = ["^sshd$"]
)",
                                   "agent.toml");
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->listen, "0.0.0.0:9700");
  EXPECT_EQ(config->metrics_listen, "0.0.0.0:9701");
  EXPECT_EQ(config->node_name, "n1");
  EXPECT_EQ(config->state_dir, "/tmp/x");
  EXPECT_EQ(config->process_scope, ProcessScope::kNetns);
  EXPECT_EQ(config->labels.at("role"), "broker");
  EXPECT_EQ(config->policy.allowed_kinds.size(), 2u);
  EXPECT_EQ(config->policy.max_duration, 10min);
  EXPECT_EQ(config->policy.max_delay, 2s);
  EXPECT_EQ(config->policy.max_loss_percent, 50);
  EXPECT_EQ(config->policy.protected_processes, std::vector<std::string>{"^sshd$"});
}

TEST(AgentConfig, DefaultsWhenEmpty) {
  auto config = parse_agent_config("", "empty.toml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->listen, "127.0.0.1:9700");
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9701");
  EXPECT_EQ(config->state_dir, "/var/lib/chaos-agent");
  EXPECT_EQ(config->process_scope, ProcessScope::kAll);
}

TEST(AgentConfig, BoundsHaveDefaultsAndAreReadAndChecked) {
  auto defaults = parse_agent_config("", "empty.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->policy.max_duration, 1h);
  EXPECT_EQ(defaults->policy.max_lease_ttl, 10min);
  EXPECT_EQ(defaults->policy.max_live_faults, 256u);
  auto set = parse_agent_config("[policy]\nmax_lease_ttl = \"5m\"\nmax_live_faults = 64\n", "b.toml");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->policy.max_lease_ttl, 5min);
  EXPECT_EQ(set->policy.max_live_faults, 64u);
  EXPECT_EQ(parse_agent_config("[policy]\nmax_duration = \"0s\"\n", "b.toml").status().message(),
            "b.toml:2:16: policy.max_duration: must be positive (there is no unlimited)");
  EXPECT_EQ(parse_agent_config("[policy]\nmax_duration = \"745h\"\n", "b.toml").status().message(),
            "b.toml:2:16: policy.max_duration: must be at most 720h");
  EXPECT_EQ(parse_agent_config("[policy]\nmax_live_faults = 0\n", "b.toml").status().message(),
            "b.toml:2:19: policy.max_live_faults: 0 is outside 1..4096");
  EXPECT_FALSE(parse_agent_config("[policy]\nmax_live_faults = \"many\"\n", "b.toml").ok());
}

TEST(AgentConfig, TheProxyByteBudgetHasADefaultAndIsChecked) {
  auto defaults = parse_agent_config("", "empty.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->proxy_max_buffered_bytes, std::size_t{64} << 20);
  auto set = parse_agent_config("[proxy]\nmax_buffered_bytes = 268435456\n", "p.toml");
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->proxy_max_buffered_bytes, std::size_t{256} << 20);
  EXPECT_EQ(parse_agent_config("[proxy]\nmax_buffered_bytes = 1000\n", "p.toml").status().message(),
            "p.toml:2:22: proxy.max_buffered_bytes: 1000 is outside 1048576..68719476736");
  EXPECT_EQ(parse_agent_config("[proxy]\nmax_queued = 1\n", "p.toml").status().message(),
            "p.toml:2:1: proxy: unknown key 'max_queued'");
}

TEST(AgentConfig, TheShippedConfigsParse) {
  const char* source_dir = std::getenv("CHAOS_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "run through ctest (CHAOS_SOURCE_DIR)";
  for (const char* file : {"agent/agent.example.toml", "deploy/agent.toml"}) {
    auto config = load_agent_config(std::string(source_dir) + "/" + file);
    EXPECT_TRUE(config.ok()) << file << ": " << config.status().to_string();
  }
}

TEST(AgentConfig, ErrorsPointAtFileLineAndColumn) {
  EXPECT_EQ(parse_agent_config("listen = \"a:1\"\nlisten_typo = 1\n", "a.toml").status().message(),
            "a.toml:2:1: top level: unknown key 'listen_typo'");
  EXPECT_EQ(parse_agent_config("[policy]\nmax_duration = \"ten\"\n", "a.toml").status().message().rfind(
                "a.toml:2:16: policy.max_duration: ", 0),
            0u);
  EXPECT_EQ(parse_agent_config("[policy]\nallowed_kinds = [\"network.nope\"]\n", "a.toml").status().message(),
            "a.toml:2:17: policy.allowed_kinds: unknown fault kind 'network.nope'");
  EXPECT_EQ(parse_agent_config("[policy]\nmax_loss_percent = 120\n", "a.toml").status().message(),
            "a.toml:2:20: policy.max_loss_percent: must be within 0..100");
  EXPECT_EQ(parse_agent_config("[policy]\nmax_memory_percent = 0\n", "a.toml").status().message(),
            "a.toml:2:22: policy.max_memory_percent: must be within (0, 100]");
  auto memory = parse_agent_config("[policy]\nmax_memory_bytes = 1073741824\nmax_memory_percent = 25\n", "a.toml");
  ASSERT_TRUE(memory.ok()) << memory.status().message();
  EXPECT_EQ(memory->policy.max_memory_bytes, 1073741824u);
  EXPECT_EQ(memory->policy.max_memory_percent, 25);
  EXPECT_EQ(parse_agent_config("node_name = 3\n", "a.toml").status().message(),
            "a.toml:1:13: node_name: expected a string, got integer");
  EXPECT_EQ(parse_agent_config("process_scope = \"pid\"\n", "a.toml").status().message(),
            "a.toml:1:17: process_scope: expected 'all' or 'netns', got 'pid'");
  EXPECT_EQ(parse_agent_config("[policy]\nprotected_processes = [\"(\"]\n", "a.toml").status().code(),
            StatusCode::kInvalidArgument);
  auto syntax = parse_agent_config("listen = \n", "a.toml");
  EXPECT_EQ(syntax.status().message().rfind("a.toml:1:", 0), 0u) << syntax.status().message();
}

TEST(AgentConfig, ReportsEveryErrorOfTheFileAtOnce) {
  const auto status = parse_agent_config(
      "insecure_plaintext_on_non_loopback = \"yes\"\n[policy]\nmax_loss_percent = 120\nmax_durattion = \"1m\"\n"
      "[labels]\nzone = 1\n",
      "a.toml")
                          .status();
  EXPECT_EQ(status.message(),
            "a.toml:1:38: insecure_plaintext_on_non_loopback: expected true or false, got string\n"
            "a.toml:6:8: labels.zone: expected a string, got integer\n"
            "a.toml:3:20: policy.max_loss_percent: must be within 0..100\n"
            "a.toml:4:1: policy: unknown key 'max_durattion'");
}

TEST(AgentConfig, ContainerSocketsAreOptionalAndChecked) {
  auto none = parse_agent_config("", "c.toml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->containers.any());
  auto both = parse_agent_config(
      "[containers]\npodman_socket = \"/run/podman/podman.sock\"\ndocker_socket = \"/run/docker.sock\"\n", "c.toml");
  ASSERT_TRUE(both.ok()) << both.status().to_string();
  EXPECT_EQ(both->containers.podman_socket, "/run/podman/podman.sock");
  EXPECT_EQ(both->containers.docker_socket, "/run/docker.sock");
  auto off = parse_agent_config("[containers]\ndocker_socket = \"\"\n", "c.toml");
  ASSERT_TRUE(off.ok()) << off.status().to_string();
  EXPECT_FALSE(off->containers.any());
  auto containerd =
      parse_agent_config("[containers]\ncontainerd_socket = \"/run/containerd/containerd.sock\"\n", "c.toml");
  ASSERT_TRUE(containerd.ok()) << containerd.status().to_string();
  EXPECT_EQ(containerd->containers.containerd_socket, "/run/containerd/containerd.sock");
  EXPECT_TRUE(containerd->containers.any());
  EXPECT_EQ(parse_agent_config("[containers]\ncontainerd_socket = \"containerd.sock\"\n", "c.toml").status().message(),
            "c.toml:2:21: containers.containerd_socket: must be an absolute path (or empty: runtime off)");

  EXPECT_EQ(parse_agent_config("[containers]\npodman_socket = \"podman.sock\"\n", "c.toml").status().message(),
            "c.toml:2:17: containers.podman_socket: must be an absolute path (or empty: runtime off)");
  EXPECT_EQ(parse_agent_config("[containers]\ndocker_socket = \"/" + std::string(120, 'd') + "\"\n", "c.toml")
                .status()
                .message(),
            "c.toml:2:17: containers.docker_socket: at most 107 bytes (a unix socket path)");
  EXPECT_EQ(parse_agent_config("[containers]\ncri_socket = \"/run/x.sock\"\n", "c.toml").status().message(),
            "c.toml:2:1: containers: unknown key 'cri_socket'");
  EXPECT_EQ(parse_agent_config("[containers]\npodman_socket = 1\n", "c.toml").status().message(),
            "c.toml:2:17: containers.podman_socket: expected a string, got integer");
}

TEST(AgentConfig, MissingFileIsAnError) {
  EXPECT_EQ(load_agent_config("/nonexistent/agent.toml").status().code(), StatusCode::kNotFound);
}

StatusOr<AgentConfig> resolve_args(std::vector<std::string> args) {
  CLI::App app;
  AgentFlagSet flags(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
  return flags.resolve();
}

TEST(AgentFlags, FlagsOverrideTheConfigFile) {
  const std::string path = ::testing::TempDir() + "/agent-flags-test.toml";
  std::ofstream(path) << "listen = \"127.0.0.1:1000\"\nnode_name = \"from-file\"\n[labels]\nzone = \"a\"\n";
  auto config = resolve_args({"--config", path, "--node-name", "from-flag", "--label", "rack=r1",
                              "--process-scope", "netns", "--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->listen, "127.0.0.1:1000");
  EXPECT_EQ(config->node_name, "from-flag");
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:0");
  EXPECT_EQ(config->labels.at("zone"), "a");
  EXPECT_EQ(config->labels.at("rack"), "r1");
  EXPECT_EQ(config->process_scope, ProcessScope::kNetns);
  std::filesystem::remove(path);
}

TEST(AgentFlags, DefaultsAndBadValues) {
  auto defaults = resolve_args({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->listen, "127.0.0.1:9700");
  EXPECT_FALSE(defaults->node_name.empty()) << "defaults to the hostname";
  EXPECT_EQ(resolve_args({"--label", "novalue"}).status().message(),
            "--label: expected key=value, got 'novalue'");
  EXPECT_EQ(resolve_args({"--process-scope", "everything"}).status().message().rfind("--process-scope:", 0), 0u);
}

TEST(AgentFlags, ContainerSocketFlagsOverrideTheConfigAndAreChecked) {
  const std::string path = ::testing::TempDir() + "/agent-socket-flags-test.toml";
  std::ofstream(path) << "[containers]\npodman_socket = \"/run/from-file.sock\"\n";
  auto config = resolve_args({"--config", path, "--docker-socket", "/run/docker.sock"});
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->containers.podman_socket, "/run/from-file.sock");
  EXPECT_EQ(config->containers.docker_socket, "/run/docker.sock");
  config = resolve_args({"--config", path, "--podman-socket", "/tmp/lab/podman.sock"});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->containers.podman_socket, "/tmp/lab/podman.sock");
  config = resolve_args({"--config", path, "--containerd-socket", "/tmp/lab/containerd.sock"});
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->containers.containerd_socket, "/tmp/lab/containerd.sock");
  EXPECT_EQ(config->containers.podman_socket, "/run/from-file.sock");
  EXPECT_EQ(resolve_args({"--containerd-socket", "c.sock"}).status().message(),
            "--containerd-socket: must be an absolute path (or empty: runtime off)");
  config = resolve_args({"--cgroup-root", "/proc/1/root/sys/fs/cgroup"});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->containers.cgroup_root, "/proc/1/root/sys/fs/cgroup");
  EXPECT_EQ(resolve_args({"--cgroup-root", "sys/fs/cgroup"}).status().message(),
            "--cgroup-root: must be an absolute path");
  EXPECT_EQ(resolve_args({"--podman-socket", "podman.sock"}).status().message(),
            "--podman-socket: must be an absolute path (or empty: runtime off)");
  EXPECT_EQ(resolve_args({"--docker-socket", "/" + std::string(200, 'd')}).status().message().rfind(
                "--docker-socket: at most", 0),
            0u);
  std::filesystem::remove(path);
}

TEST(AgentConfig, DiskFillProtectedMountPoints) {
  auto defaults = parse_agent_config("", "a.toml");
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->policy.disk_fill_protected, std::vector<std::string>{"/"});
  auto listed = parse_agent_config("[policy]\ndisk_fill_protected = [\"/\", \"/var/lib/\"]\n", "a.toml");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_EQ(listed->policy.disk_fill_protected, (std::vector<std::string>{"/", "/var/lib"}));
  auto none = parse_agent_config("[policy]\ndisk_fill_protected = []\n", "a.toml");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->policy.disk_fill_protected.empty());
  EXPECT_EQ(parse_agent_config("[policy]\ndisk_fill_protected = [\"var\"]\n", "a.toml").status().message(),
            "a.toml:2:23: policy.disk_fill_protected: 'var' is not an absolute path of at most 4096 bytes");
}

}  // namespace
}  // namespace chaos::agent
