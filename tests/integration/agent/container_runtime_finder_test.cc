// The real ContainerFinder against real runtimes: `podman system service`,
// (where installed) dockerd and containerd, each on a socket in a temp dir,
// with a pod
// laid out as kubelet labels it (a sandbox carrying the pod's labels, and
// two workload containers). Pod labels, name and id prefix must each
// resolve to the container's real init pid and network namespace.
// Then the agent itself against the same daemons (AgentContainerTargets): a
// fault by container name lands in the container's namespace only, and a
// SIGKILLed agent's restart reverts it there.
// Containers, daemons and files are removed also when a check fails.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "agent/targets/namespaces/namespace_handle.h"
#include "agent/targets/runtime/containerd_runtime.h"
#include "agent/targets/runtime/docker_api_runtime.h"
#include "agent/targets/runtime/runtime_container_finder.h"
#include "common/command_runner.h"
#include "common/proc_reader.h"
#include "lab/testbed/agent_harness.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

bool installed(const std::string& tool) {
  for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/bin/", "/sbin/"}) {
    if (::access((dir + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A runtime daemon serving its API in `dir` (the Docker Engine API, or
// containerd's), the containers the test starts through its CLI, and
// everything removed at the end: containers first, then the daemon (TERM,
// then KILL), then mounts the daemon left under `dir`, then `dir`.
class RuntimeUnderTest {
 public:
  RuntimeUnderTest(std::string runtime, std::filesystem::path dir)
      : runtime_(std::move(runtime)), dir_(std::move(dir)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "rootfs" / "bin");
    std::filesystem::copy_file("/bin/busybox", dir_ / "rootfs" / "bin" / "busybox");
    socket_ = (dir_ / "api.sock").string();
  }
  ~RuntimeUnderTest() {
    for (const auto& name : containers_) {
      if (runtime_ == "containerd") {
        // --force kills the task; the shim exits with it.
        (void)commands_.run(cli({"task", "delete", "--force", name}), long_command());
      }
      // -t 0: no grace period (podman waits 10 s by default; docker's -f kills).
      auto removed = commands_.run(runtime_ == "podman"       ? cli({"rm", "-f", "-t", "0", name})
                                   : runtime_ == "containerd" ? cli({"container", "delete", name})
                                                              : cli({"rm", "-f", name}),
                                   long_command());
      if (!removed.ok() || removed->exit_code != 0) std::cerr << "could not remove container " << name << "\n";
    }
    if (daemon_ > 0) {
      safe_kill(daemon_, SIGTERM);
      if (!eventually([&] { return reap_if_exited(daemon_); }, 20s)) {
        safe_kill(daemon_, SIGKILL);
        ::waitpid(daemon_, nullptr, 0);
      }
    }
    if (runtime_ == "containerd") kill_leftover_shims();
    unmount_under_dir();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    // Only directories this test's daemon created, and only when empty:
    // remove() refuses a directory with anything in it.
    for (const auto& created : created_host_dirs_) std::filesystem::remove(created, ignored);
  }
  RuntimeUnderTest(const RuntimeUnderTest&) = delete;
  RuntimeUnderTest& operator=(const RuntimeUnderTest&) = delete;

  // Starts the daemon and waits until its API lists containers.
  ::testing::AssertionResult start() {
    std::vector<std::string> argv;
    if (runtime_ == "podman") {
      argv = {resolve("podman"), "system", "service", "--time=0", "unix://" + socket_};
    } else if (runtime_ == "containerd") {
      // No CRI (it wants CNI) and no /opt/containerd; the shims' sockets and
      // fifos and runc's state go to fixed directories under
      // /run/containerd, and the containers' cgroups under one named for the
      // namespace: removed after it if it made them.
      std::ofstream(dir_ / "containerd.toml")
          << "version = 2\nroot = \"" << (dir_ / "root").string() << "\"\nstate = \"" << (dir_ / "state").string()
          << "\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.internal.v1.opt\"]\n"
          << "[grpc]\naddress = \"" << socket_ << "\"\n[ttrpc]\naddress = \"" << socket_ << ".ttrpc\"\n";
      for (const std::string& host_dir :
           std::vector<std::string>{"/run/containerd/fifo", "/run/containerd/runc/" + containerd_namespace(),
                                    "/run/containerd/runc", "/run/containerd/s", "/run/containerd"}) {
        if (!std::filesystem::exists(host_dir)) created_host_dirs_.push_back(host_dir);
      }
      for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup")) {
        const auto parent = hierarchy.path() / containerd_namespace();
        if (hierarchy.is_directory() && !std::filesystem::exists(parent)) created_host_dirs_.push_back(parent);
      }
      argv = {resolve("containerd"), "--config", (dir_ / "containerd.toml").string()};
    } else {
      // dockerd's fixed paths outside its roots: its key goes to /etc/docker
      // unless daemon.json says otherwise; the plugin and shim socket
      // directories cannot be moved, so they are removed after it if it made
      // them.
      std::ofstream(dir_ / "daemon.json") << "{\"deprecated-key-path\": \"" << (dir_ / "key.json").string() << "\"}\n";
      for (const char* host_dir : {"/run/docker/plugins", "/run/docker", "/run/containerd/s", "/run/containerd"}) {
        if (!std::filesystem::exists(host_dir)) created_host_dirs_.push_back(host_dir);
      }
      argv = {resolve("dockerd"),    "--config-file", (dir_ / "daemon.json").string(), "--iptables=false",
              "--ip6tables=false",   "--bridge=none", "--storage-driver=vfs",          "-H",
              "unix://" + socket_,   "--data-root",   (dir_ / "data").string(),        "--exec-root",
              (dir_ / "x").string(), "--pidfile",     (dir_ / "dockerd.pid").string()};
    }
    daemon_ = spawn(argv, (dir_ / "daemon.log").string());
    if (daemon_ <= 0) return ::testing::AssertionFailure() << "could not start " << argv[0];
    std::unique_ptr<ContainerRuntime> api;
    if (runtime_ == "containerd") {
      api = std::make_unique<ContainerdRuntime>(runtime_, socket_);
    } else {
      api = std::make_unique<DockerApiRuntime>(runtime_, socket_);
    }
    if (!eventually([&] { return api->list_running().ok(); }, 60s)) {
      return ::testing::AssertionFailure() << runtime_ << " API never answered on " << socket_ << "; log " << log();
    }
    if (runtime_ == "docker") {
      // No registry here: the image is the busybox rootfs, imported.
      const std::string tar = (dir_ / "rootfs.tar").string();
      auto packed = commands_.run({"tar", "-C", (dir_ / "rootfs").string(), "-cf", tar, "."}, long_command());
      if (!packed.ok() || packed->exit_code != 0) return ::testing::AssertionFailure() << "tar failed";
      auto imported = commands_.run(cli({"import", tar, image()}), long_command());
      if (!imported.ok() || imported->exit_code != 0) {
        return ::testing::AssertionFailure() << "docker import: " << (imported.ok() ? imported->stderr_text : "");
      }
    }
    return ::testing::AssertionSuccess();
  }

  // Runs `busybox sleep` in a container of its own network namespace;
  // returns its full id (empty on failure, with the reason on stderr).
  // containerd's containers have no name: `name` is their id.
  std::string run(const std::string& name, const std::map<std::string, std::string>& labels) {
    containers_.push_back(name);
    if (runtime_ == "containerd") return run_in_containerd(name, labels);
    std::vector<std::string> argv = {"run",  "-d",       "--name",           name,       "--network",
                                     "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"};
    for (const auto& [key, value] : labels) {
      argv.push_back("--label");
      argv.push_back(key + "=" + value);
    }
    if (runtime_ == "podman") {
      argv.push_back("--rootfs");
      argv.push_back((dir_ / "rootfs").string());
    } else {
      argv.push_back(image());
    }
    argv.insert(argv.end(), {"/bin/busybox", "sleep", "600"});
    auto started = commands_.run(cli(argv), long_command());
    if (!started.ok() || started->exit_code != 0) {
      std::cerr << "run " << name << ": " << (started.ok() ? started->stderr_text : started.status().message()) << "\n";
      return "";
    }
    return trimmed(started->stdout_text);
  }

  int pid_of(const std::string& name) {
    if (runtime_ == "containerd") {
      // "TASK PID STATUS" lines.
      auto listed = commands_.run(cli({"task", "ls"}), long_command());
      if (!listed.ok() || listed->exit_code != 0) return -1;
      std::istringstream lines(listed->stdout_text);
      for (std::string task, pid, status; lines >> task >> pid >> status;) {
        if (task == name && status == "RUNNING") return std::stoi(pid);
      }
      return -1;
    }
    auto inspected = commands_.run(cli({"inspect", "-f", "{{.State.Pid}}", name}), long_command());
    if (!inspected.ok() || inspected->exit_code != 0) return -1;
    return std::stoi(inspected->stdout_text);
  }

  const std::string& socket() const { return socket_; }

 private:
  std::string run_in_containerd(const std::string& name, const std::map<std::string, std::string>& labels) {
    // ctr gives the task a network namespace of its own (only lo).
    std::vector<std::string> argv = {"run", "-d", "--rootfs"};
    for (const auto& [key, value] : labels) {
      argv.push_back("--label");
      argv.push_back(key + "=" + value);
    }
    argv.insert(argv.end(), {(dir_ / "rootfs").string(), name, "/bin/busybox", "sleep", "600"});
    auto started = commands_.run(cli(argv), long_command());
    if (!started.ok() || started->exit_code != 0) {
      std::cerr << "ctr run " << name << ": " << (started.ok() ? started->stderr_text : started.status().message())
                << "\n";
      return "";
    }
    return name;
  }
  // Unique per test process, so the cgroup directory named for it is ours.
  static std::string containerd_namespace() { return "chaos-test-" + std::to_string(::getpid()); }
  // A shim outlives a daemon killed hard: end the ones serving our socket.
  void kill_leftover_shims() const {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string pid = entry.path().filename().string();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(entry.path() / "cmdline");
      std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (cmdline.find("containerd-shim") == std::string::npos) continue;
      if (cmdline.find(std::string("-address") + '\0' + socket_ + '\0') == std::string::npos) continue;
      safe_kill(std::stoi(pid), SIGKILL);
    }
  }
  std::vector<std::string> cli(const std::vector<std::string>& argv) const {
    std::vector<std::string> full = {runtime_ == "containerd" ? "ctr" : runtime_};
    if (runtime_ == "docker") full.insert(full.end(), {"-H", "unix://" + socket_});
    if (runtime_ == "containerd") full.insert(full.end(), {"--address", socket_, "-n", containerd_namespace()});
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
  }
  std::string image() const { return "chaos-test-" + std::to_string(::getpid()) + ":busybox"; }
  static std::string resolve(const std::string& tool) {
    for (const char* dir : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/bin/", "/sbin/"}) {
      if (::access((dir + tool).c_str(), X_OK) == 0) return dir + tool;
    }
    return tool;
  }
  static RunOptions long_command() {
    RunOptions options;
    options.timeout = 60s;
    return options;
  }
  std::string log() const {
    std::ifstream in(dir_ / "daemon.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
  }
  // A daemon killed hard may leave its netns or overlay mounts behind.
  void unmount_under_dir() const {
    std::ifstream mounts("/proc/self/mounts");
    std::vector<std::string> targets;
    for (std::string device, target, rest; mounts >> device >> target && std::getline(mounts, rest);) {
      if (target.rfind(dir_.string() + "/", 0) == 0) targets.push_back(target);
    }
    for (auto it = targets.rbegin(); it != targets.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  }

  std::string runtime_;
  std::filesystem::path dir_;
  std::string socket_;
  pid_t daemon_ = -1;
  std::vector<std::string> containers_;
  std::vector<std::filesystem::path> created_host_dirs_;
  ProcessCommandRunner commands_;
};

void finds_pod_labels_name_and_id_prefix(const std::string& runtime) {
  const std::string prefix = "chaos-test-" + std::to_string(::getpid()) + "-" + runtime;
  RuntimeUnderTest under_test(runtime, std::filesystem::temp_directory_path() / prefix);
  ASSERT_TRUE(under_test.start());
  const std::string pod_namespace = prefix;  // unique, so no other test's containers match
  const std::map<std::string, std::string> pod = {{"io.kubernetes.pod.namespace", pod_namespace},
                                                  {"io.kubernetes.pod.name", "nats-0"},
                                                  {"io.kubernetes.pod.uid", prefix + "-uid"}};
  auto sandbox_labels = pod;
  // How dockershim and containerd's CRI plugin each mark a sandbox.
  if (runtime == "containerd") {
    sandbox_labels["io.cri-containerd.kind"] = "sandbox";
  } else {
    sandbox_labels["io.kubernetes.docker.type"] = "podsandbox";
  }
  sandbox_labels["app"] = "nats";
  auto nats_labels = pod;
  nats_labels["io.kubernetes.container.name"] = "nats";
  const std::map<std::string, std::string> web_labels = {{"io.kubernetes.pod.namespace", pod_namespace},
                                                         {"io.kubernetes.pod.name", "web-0"},
                                                         {"io.kubernetes.container.name", "web"}};
  ASSERT_NE(under_test.run(prefix + "-sandbox", sandbox_labels), "");
  ASSERT_NE(under_test.run(prefix + "-nats", nats_labels), "");
  const std::string web_id = under_test.run(prefix + "-web", web_labels);
  // containerd's ids are what ctr run names them.
  if (runtime == "containerd") {
    ASSERT_EQ(web_id, prefix + "-web");
  } else {
    ASSERT_EQ(web_id.size(), 64u) << web_id;
  }

  RuntimeContainerFinder finder(runtime == "podman"   ? make_container_runtimes(under_test.socket(), "")
                                : runtime == "docker" ? make_container_runtimes("", under_test.socket())
                                                      : make_container_runtimes("", "", under_test.socket()));
  const auto host_netns = namespace_of(::getpid(), "net");
  ASSERT_TRUE(host_netns.ok());

  v1::ContainerSelector by_pod_labels;
  by_pod_labels.set_runtime(runtime);
  by_pod_labels.set_pod_namespace(pod_namespace);
  (*by_pod_labels.mutable_pod_labels())["app"] = "nats";
  auto refs = finder.find(by_pod_labels, "target", 1);
  ASSERT_TRUE(refs.ok()) << refs.status().to_string();
  ASSERT_EQ(refs->size(), 1u) << "the nats container only: never the sandbox, never the other pod";
  const v1::ContainerRef nats = refs->front();
  EXPECT_EQ(nats.runtime(), runtime);
  EXPECT_EQ(nats.name(), prefix + "-nats");
  EXPECT_EQ(nats.pod_namespace(), pod_namespace);
  EXPECT_EQ(nats.pod_name(), "nats-0");
  const int nats_pid = under_test.pid_of(prefix + "-nats");
  EXPECT_GT(nats_pid, 0);
  EXPECT_EQ(nats.pid(), nats_pid);
  EXPECT_EQ(nats.pid_start_time(), ProcReader().stat(nats_pid)->start_time);
  EXPECT_EQ(nats.network_namespace(), namespace_of(nats_pid, "net")->to_string("net"));
  EXPECT_NE(nats.network_namespace(), host_netns->to_string("net")) << "--network none: a namespace of its own";

  v1::ContainerSelector by_name;
  by_name.set_name(prefix + "-web");
  refs = finder.find(by_name, "target", 1);
  ASSERT_TRUE(refs.ok()) << refs.status().to_string();
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ(refs->front().id(), web_id);
  EXPECT_EQ(refs->front().pid(), under_test.pid_of(prefix + "-web"));
  EXPECT_NE(refs->front().network_namespace(), nats.network_namespace());

  if (runtime != "containerd") {  // id_prefix is hex; these ids are names
    v1::ContainerSelector by_id;
    by_id.set_id_prefix(web_id.substr(0, 12));
    refs = finder.find(by_id, "target", 1);
    ASSERT_TRUE(refs.ok()) << refs.status().to_string();
    ASSERT_EQ(refs->size(), 1u);
    EXPECT_EQ(refs->front().name(), prefix + "-web");
  }

  v1::ContainerSelector by_labels;
  by_labels.set_runtime(runtime);
  (*by_labels.mutable_labels())["io.kubernetes.container.name"] = "web";
  (*by_labels.mutable_labels())["io.kubernetes.pod.namespace"] = pod_namespace;
  refs = finder.find(by_labels, "target", 1);
  ASSERT_TRUE(refs.ok()) << refs.status().to_string();
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ(refs->front().id(), web_id);

  v1::ContainerSelector nothing;
  nothing.set_pod_namespace(pod_namespace);
  nothing.set_pod_name("nats-9");
  EXPECT_EQ(finder.find(nothing, "target", 1).status().code(), StatusCode::kNotFound);
}

// The listings a network fault changes, read inside the network namespace
// of `pid` (0: the test's own), without comments and counters.
std::string network_state(CommandRunner& commands, int pid) {
  std::string text;
  for (const std::vector<std::string>& tool : std::vector<std::vector<std::string>>{
           {"iptables-save"}, {"ip6tables-save"}, {"nft", "list", "ruleset"}, {"tc", "qdisc", "show"}}) {
    std::vector<std::string> argv = tool;
    if (pid > 0) argv.insert(argv.begin(), {"nsenter", "--net=/proc/" + std::to_string(pid) + "/ns/net", "--"});
    auto listed = commands.run(argv);
    if (!listed.ok()) return "cannot run " + tool[0] + ": " + listed.status().message();
    std::istringstream lines(listed->stdout_text);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      text += tool[0] + ": " + std::regex_replace(line, std::regex("\\[[0-9]+:[0-9]+\\]"), "[]") + "\n";
    }
  }
  return text;
}

// A veth whose one end is in the container's namespace (named `inside`) and
// whose other end is in a namespace the test makes, removed with it.
class VethIntoContainer {
 public:
  VethIntoContainer(CommandRunner& commands, int container_pid, const std::string& tag)
      : commands_(commands), netns_("cte-" + tag), inside_("ctb" + tag) {
    const std::string outside = "cta" + tag;
    ok_ = run({"ip", "netns", "add", netns_}) && run({"ip", "link", "add", outside, "type", "veth", "peer", "name", inside_}) &&
          run({"ip", "link", "set", outside, "netns", netns_}) &&
          run({"ip", "link", "set", inside_, "netns", std::to_string(container_pid)}) &&
          run({"ip", "-n", netns_, "link", "set", outside, "up"}) &&
          run({"nsenter", "--net=/proc/" + std::to_string(container_pid) + "/ns/net", "--", "ip", "link", "set",
               inside_, "up"});
  }
  ~VethIntoContainer() { (void)commands_.run({"ip", "netns", "del", netns_}); }
  VethIntoContainer(const VethIntoContainer&) = delete;
  VethIntoContainer& operator=(const VethIntoContainer&) = delete;
  bool ok() const { return ok_; }
  const std::string& inside() const { return inside_; }

 private:
  bool run(const std::vector<std::string>& argv) {
    auto ran = commands_.run(argv);
    if (ran.ok() && ran->exit_code == 0) return true;
    std::cerr << describe_argv(argv) << ": " << (ran.ok() ? ran->stderr_text : ran.status().message()) << "\n";
    return false;
  }
  CommandRunner& commands_;
  std::string netns_;
  std::string inside_;
  bool ok_ = false;
};

// The agent itself, configured with the runtime's socket: a dry run of a
// selector that matches nothing is NOT_FOUND naming it; network.delay by
// container name is applied in the container's namespace only (the host's
// listings never change), the Fault names the container; the agent is then
// SIGKILLed and restarted on the same state dir, and its journal recovery
// returns the container's namespace to its baseline.
void agent_acts_in_the_container_and_recovers_there(const std::string& runtime) {
  const std::string tag = std::to_string(::getpid() % 100000) + runtime.substr(0, 1);
  const std::string prefix = "chaos-test-" + std::to_string(::getpid()) + "-agent-" + runtime;
  RuntimeUnderTest under_test(runtime, std::filesystem::temp_directory_path() / prefix);
  ASSERT_TRUE(under_test.start());
  const std::string name = prefix + "-nats";
  ASSERT_NE(under_test.run(name, {{"app", prefix}}), "");
  const int pid = under_test.pid_of(name);
  ASSERT_GT(pid, 0);
  ProcessCommandRunner commands;
  VethIntoContainer veth(commands, pid, tag);
  ASSERT_TRUE(veth.ok());
  const std::string container_baseline = network_state(commands, pid);
  const std::string host_baseline = network_state(commands, 0);

  const auto dir = std::filesystem::temp_directory_path() / (prefix + "-agent");
  std::filesystem::create_directories(dir / "state");
  struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_dir{dir};
  std::ofstream(dir / "agent.toml") << "[containers]\n" << runtime << "_socket = \"" << under_test.socket() << "\"\n";
  const std::vector<std::string> flags = {"--config", (dir / "agent.toml").string()};
  auto agent = std::make_unique<AgentProcess>((dir / "state").string(), (dir / "agent.log").string(), flags);
  ASSERT_TRUE(agent->start()) << agent->log();

  v1::InjectRequest request;
  request.set_experiment_id("e2e-containers");
  request.mutable_duration()->set_seconds(120);
  auto* delay = request.mutable_spec()->mutable_network_delay();
  delay->mutable_delay()->set_nanos(20'000'000);
  delay->mutable_scope()->set_interface(veth.inside());
  request.mutable_spec()->mutable_target()->set_runtime(runtime);
  request.mutable_spec()->mutable_target()->set_name(name + "-nope");
  request.set_dry_run(true);
  v1::InjectResponse response;
  {
    grpc::ClientContext context;
    const grpc::Status refused = agent->stub().Inject(&context, request, &response);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::NOT_FOUND) << refused.error_message();
    EXPECT_NE(refused.error_message().find("name=" + name + "-nope"), std::string::npos) << refused.error_message();
  }

  request.set_dry_run(false);
  request.mutable_spec()->mutable_target()->set_name(name);
  {
    grpc::ClientContext context;
    const grpc::Status applied = agent->stub().Inject(&context, request, &response);
    ASSERT_TRUE(applied.ok()) << applied.error_message() << "\n" << agent->log();
  }
  ASSERT_EQ(response.fault().containers_size(), 1);
  EXPECT_EQ(response.fault().containers(0).name(), name);
  EXPECT_EQ(response.fault().containers(0).pid(), pid);
  EXPECT_EQ(response.fault().containers(0).network_namespace(), namespace_of(pid, "net")->to_string("net"));
  EXPECT_NE(network_state(commands, pid), container_baseline) << "the delay's rules are in the container";
  EXPECT_EQ(network_state(commands, 0), host_baseline) << "the host is never touched";

  agent->kill_hard();
  agent = std::make_unique<AgentProcess>((dir / "state").string(), (dir / "agent.log").string(), flags);
  ASSERT_TRUE(agent->start()) << agent->log();  // serving means journal recovery is over
  EXPECT_EQ(network_state(commands, pid), container_baseline) << agent->log();
  EXPECT_EQ(network_state(commands, 0), host_baseline);
  EXPECT_EQ(agent->stop_with(SIGTERM), 0) << agent->log();
}

TEST(ContainerRuntimeFinder, PodmanServiceResolvesPodLabelsNameAndIdPrefixToPidAndNetns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (podman)";
  if (!installed("podman") || !installed("busybox")) GTEST_SKIP() << "needs podman and busybox-static";
  finds_pod_labels_name_and_id_prefix("podman");
}

TEST(ContainerRuntimeFinder, DockerdResolvesPodLabelsNameAndIdPrefixToPidAndNetns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (dockerd)";
  if (!installed("dockerd") || !installed("docker") || !installed("busybox")) {
    GTEST_SKIP() << "needs docker.io and busybox-static";
  }
  finds_pod_labels_name_and_id_prefix("docker");
}

TEST(ContainerRuntimeFinder, ContainerdResolvesPodLabelsNameAndLabelsToPidAndNetns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd)";
  if (!installed("containerd") || !installed("ctr") || !installed("busybox")) {
    GTEST_SKIP() << "needs containerd and busybox-static";
  }
  finds_pod_labels_name_and_id_prefix("containerd");
}

TEST(AgentContainerTargets, PodmanContainerGetsTheFaultAndACrashedAgentRevertsItThere) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (podman)";
  if (!installed("podman") || !installed("busybox")) GTEST_SKIP() << "needs podman and busybox-static";
  agent_acts_in_the_container_and_recovers_there("podman");
}

TEST(AgentContainerTargets, DockerContainerGetsTheFaultAndACrashedAgentRevertsItThere) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (dockerd)";
  if (!installed("dockerd") || !installed("docker") || !installed("busybox")) {
    GTEST_SKIP() << "needs docker.io and busybox-static";
  }
  agent_acts_in_the_container_and_recovers_there("docker");
}

TEST(AgentContainerTargets, ContainerdContainerGetsTheFaultAndACrashedAgentRevertsItThere) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd)";
  if (!installed("containerd") || !installed("ctr") || !installed("busybox")) {
    GTEST_SKIP() << "needs containerd and busybox-static";
  }
  agent_acts_in_the_container_and_recovers_there("containerd");
}

}  // namespace
}  // namespace chaos::agent::integration
