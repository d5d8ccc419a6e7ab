// The lab's Podman flavour without Podman: the broker containers' argv, the
// parsers over podman and ldd output, and the container launcher over a
// fake runner.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "lab/broker_rootfs.h"
#include "lab/container_launcher.h"
#include "lab/lab_containers.h"
#include "lab/lab_processes.h"
#include "lab/proc_scan.h"
#include "tests/support/fake_command_runner.h"
#include "tests/support/temp_dir.h"

namespace chaos::lab {
namespace {

LabLayout podman_layout(const std::string& state_dir = "/run/chaos-lab") {
  LabParams params;
  params.runtime = kRuntimePodman;
  params.state_dir = state_dir;
  return *LabLayout::create(params);
}

bool has_pair(const std::vector<std::string>& argv, const std::string& flag, const std::string& value) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && argv[i + 1] == value) return true;
  }
  return false;
}

// A launcher for the specs without a container; none reach it in these tests.
class NoProcesses final : public ProcessLauncher {
 public:
  StatusOr<int> start(const ProcessSpec& spec) override { return internal_error("unexpected " + spec.name); }
  bool running(int) override { return false; }
  void send_signal(int, int) override {}
};

TEST(LabContainersTest, LayoutAcceptsOnlyKnownRuntimes) {
  LabParams params;
  EXPECT_EQ(LabLayout::create(params)->params().runtime, kRuntimeProcess);
  params.runtime = "docker";
  EXPECT_FALSE(LabLayout::create(params).ok());
  params.runtime = kRuntimePodman;
  EXPECT_TRUE(LabLayout::create(params).ok());
}

TEST(LabContainersTest, BrokerJoinsItsNodeNamespaceWithLabelsAndLocalRootfs) {
  const auto layout = podman_layout();
  const auto argv = nats_container_run_argv(layout, 2, 4096);
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(argv[0], "podman");
  EXPECT_TRUE(has_pair(argv, "--runtime", "runc"));
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--replace"), argv.end());
  EXPECT_TRUE(has_pair(argv, "--name", "chaoslab-nats-2"));
  EXPECT_TRUE(has_pair(argv, "--network", "ns:/run/netns/chaoslab-n2"));
  EXPECT_TRUE(has_pair(argv, "--dns", "10.77.0.1"));
  EXPECT_TRUE(has_pair(argv, "--ulimit", "nofile=4096:4096"));
  EXPECT_TRUE(has_pair(argv, "--ulimit", "nproc=1024:1024"));
  for (const char* label : {"app=nats", "chaos.lab=chaoslab", "io.kubernetes.pod.namespace=chaos-lab",
                            "io.kubernetes.pod.name=nats-2", "io.kubernetes.container.name=nats"}) {
    EXPECT_TRUE(has_pair(argv, "--label", label)) << label;
  }
  EXPECT_TRUE(has_pair(argv, "--volume", "/run/chaos-lab/nodes/n2:/run/chaos-lab/nodes/n2"));
  EXPECT_TRUE(has_pair(argv, "--rootfs", "/run/chaos-lab/rootfs"));
  // The command follows the rootfs: nats-server is the container's init.
  const auto rootfs = std::find(argv.begin(), argv.end(), "--rootfs");
  ASSERT_LT(rootfs + 2, argv.end());
  EXPECT_EQ(*(rootfs + 2), kContainerNatsServer);
  EXPECT_TRUE(has_pair(argv, "--config", "/run/chaos-lab/nodes/n2/nats-server.conf"));
  EXPECT_GE(broker_nofile_limit(), 1);
  EXPECT_LE(broker_nofile_limit(), 65536);
}

TEST(LabContainersTest, OnlyBrokersRunInContainersAndDownStillFindsThem) {
  const auto layout = podman_layout();
  int containers = 0;
  for (const auto& spec : lab_process_specs(layout, "/bin")) {
    if (spec.container.empty()) continue;
    ++containers;
    EXPECT_EQ(spec.program, "nats-server");
    // `down` finds an orphan by its config path; the container's argv has it.
    EXPECT_TRUE(cmdline_matches({kContainerNatsServer, "--config", spec.marker}, spec.program, spec.marker));
  }
  EXPECT_EQ(containers, 3);
  LabParams params;
  for (const auto& spec : lab_process_specs(*LabLayout::create(params), "/bin")) EXPECT_TRUE(spec.container.empty());
}

TEST(LabContainersTest, APodmanLabServesThePodmanApiAndItsAgentsUseIt) {
  const auto layout = podman_layout();
  const auto specs = lab_process_specs(layout, "/bin");
  const auto api = std::find_if(specs.begin(), specs.end(), [](const ProcessSpec& s) { return s.name == "podman-api"; });
  ASSERT_NE(api, specs.end());
  EXPECT_TRUE(has_pair(api->argv, "--runtime", "runc")) << "the lab's podman flags, as for the brokers";
  EXPECT_EQ(api->argv.back(), "unix://" + podman_api_socket_path(layout));
  int agents = 0;
  for (const auto& spec : specs) {
    if (spec.program != "chaos-agent") continue;
    ++agents;
    EXPECT_TRUE(has_pair(spec.argv, "--podman-socket", podman_api_socket_path(layout))) << spec.name;
  }
  EXPECT_EQ(agents, 3);
  LabParams params;
  for (const auto& spec : lab_process_specs(*LabLayout::create(params), "/bin")) {
    EXPECT_NE(spec.name, "podman-api");
    EXPECT_EQ(std::find(spec.argv.begin(), spec.argv.end(), "--podman-socket"), spec.argv.end());
  }
}

TEST(LabContainersTest, ParsesPodmanAndLddOutput) {
  EXPECT_EQ(container_names_in("chaoslab-nats-1\n\nchaoslab-nats-2 \n"),
            (std::vector<std::string>{"chaoslab-nats-1", "chaoslab-nats-2"}));
  EXPECT_EQ(shared_libraries_in_ldd("\tlinux-vdso.so.1 (0x00007ffd)\n"
                                    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f63)\n"
                                    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f63)\n"),
            (std::vector<std::string>{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}));
  EXPECT_TRUE(shared_libraries_in_ldd("\tnot a dynamic executable\n").empty());
  EXPECT_EQ(init_pid_in_inspect("1234\n"), 1234);
  EXPECT_EQ(init_pid_in_inspect("0\n"), 0);
  EXPECT_EQ(init_pid_in_inspect(""), std::nullopt);
  EXPECT_EQ(init_pid_in_inspect("12ab"), std::nullopt);
}

TEST(LabContainersTest, DownRemovesEveryLabContainerByLabel) {
  const auto layout = podman_layout();
  testing::FakeCommandRunner runner;
  runner.on(" ps -a ", [](const auto&) { return CommandResult{0, "chaoslab-nats-1\nchaoslab-nats-3\n", ""}; });
  auto removed = remove_lab_containers(layout, runner);
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(*removed, 2u);
  const auto lines = runner.call_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("--filter label=chaos.lab=chaoslab"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" rm -f -t 0 chaoslab-nats-1 chaoslab-nats-3"), std::string::npos) << lines[1];

  testing::FakeCommandRunner empty;
  removed = remove_lab_containers(layout, empty);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0u);
  EXPECT_EQ(empty.call_lines().size(), 1u);  // nothing to remove: no rm
}

TEST(ContainerLauncherTest, StartsTheContainerAndWatchesItsInitPid) {
  const std::string state = test_support::process_scratch_dir() + "/container-launcher";
  std::filesystem::create_directories(state + "/run");
  const auto layout = podman_layout(state);
  ProcessSpec spec;
  spec.name = "nats-n1";
  spec.container = layout.container_name(1);
  spec.argv = nats_container_run_argv(layout, 1, 1024);
  spec.pidfile = layout.pidfile("nats-n1");
  // The test's own process stands in for the container's init.
  const int init = static_cast<int>(::getpid());
  testing::FakeCommandRunner runner;
  runner.on(" inspect ", [init](const auto&) { return CommandResult{0, std::to_string(init) + "\n", ""}; });
  NoProcesses processes;
  ContainerLauncher launcher(runner, processes);
  auto pid = launcher.start(spec);
  ASSERT_TRUE(pid.ok()) << pid.status().to_string();
  EXPECT_EQ(*pid, init);
  EXPECT_EQ(read_pidfile(spec.pidfile), init);
  EXPECT_TRUE(launcher.running(init));
  EXPECT_FALSE(launcher.running(init + 1000000));  // never started here
  auto lines = runner.call_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" run -d --replace --name chaoslab-nats-1"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(" inspect --format {{.State.Pid}} chaoslab-nats-1"), std::string::npos) << lines[1];

  runner.clear();
  ASSERT_TRUE(launcher.remove_containers().ok());
  lines = runner.call_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" rm -f -t 0 --ignore chaoslab-nats-1"), std::string::npos) << lines[0];
}

TEST(ContainerLauncherTest, AContainerThatFailsOrExitsAtOnceIsNotStarted) {
  const auto layout = podman_layout(test_support::process_scratch_dir());
  ProcessSpec spec;
  spec.name = "nats-n1";
  spec.container = layout.container_name(1);
  spec.argv = nats_container_run_argv(layout, 1, 1024);
  spec.pidfile = test_support::process_scratch_dir() + "/never.pid";
  NoProcesses processes;

  testing::FakeCommandRunner failing;
  failing.fail_on(" run -d ", "Error: runc create failed");
  ContainerLauncher launcher(failing, processes);
  auto pid = launcher.start(spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("chaoslab-nats-1"), std::string::npos) << pid.status().message();

  testing::FakeCommandRunner exited;
  exited.on(" inspect ", [](const auto&) { return CommandResult{0, "0\n", ""}; });
  ContainerLauncher second(exited, processes);
  pid = second.start(spec);
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(spec.pidfile));
}

}  // namespace
}  // namespace chaos::lab
