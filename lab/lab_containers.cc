#include "lab/lab_containers.h"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chaos::lab {

namespace {

// nats-server's default max_connections plus room for JetStream's files.
constexpr long kBrokerOpenFilesWanted = 65536;
// Room for nats-server's threads; RLIMIT_NPROC does not bind root anyway.
constexpr const char* kBrokerProcessLimit = "nproc=1024:1024";

std::string label(const std::string& key, const std::string& value) { return key + "=" + value; }

std::string volume_bind(const std::string& path) { return path + ":" + path; }

}  // namespace

std::vector<std::string> podman_command() {
  return {"podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"};
}

std::vector<std::string> nats_container_run_argv(const LabLayout& layout, int node, long nofile) {
  const std::string limit = std::to_string(nofile);
  const std::string config = layout.node_dir(node) + "/nats-server.conf";
  const std::string log = layout.logfile("nats-" + layout.node_name(node));
  std::vector<std::string> argv = podman_command();
  const std::vector<std::string> run = {
      "run", "-d",
      // A restart after a chaos kill reuses the name of the exited container.
      "--replace", "--name", layout.container_name(node), "--hostname", layout.node_name(node),
      // The node's namespace: same address, ports and agent as a plain process.
      "--network", "ns:/run/netns/" + layout.netns(node),
      // The lab's DNS, as /etc/netns/<ns>/resolv.conf gives a plain process.
      "--dns", layout.bridge_ip(), "--dns-search", kDomain, "--dns-option", "timeout:1", "--dns-option",
      "attempts:1",
      "--ulimit", "nofile=" + limit + ":" + limit, "--ulimit", kBrokerProcessLimit,
      "--label", "app=nats", "--label", label(kLabContainerLabel, layout.params().prefix),
      "--label", label("io.kubernetes.pod.namespace", kLabPodNamespace),
      "--label", label("io.kubernetes.pod.name", "nats-" + std::to_string(node)),
      "--label", "io.kubernetes.container.name=nats",
      // Config and JetStream store at the same paths as outside, and the log.
      "--volume", volume_bind(layout.node_dir(node)), "--volume", volume_bind(layout.path("logs")),
      // Podman's own log catches what nats-server prints before its log
      // file is open (a config error); it is rewritten on every restart.
      "--log-driver", "k8s-file", "--log-opt",
      "path=" + layout.logfile("nats-" + layout.node_name(node) + "-container"),
      "--rootfs", layout.rootfs_dir(),
      // nats-server is the container's init: a process.kill of nats-server
      // ends the container, as a crash of the broker would.
      kContainerNatsServer, "--config", config, "--log", log};
  argv.insert(argv.end(), run.begin(), run.end());
  return argv;
}

long broker_nofile_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max == RLIM_INFINITY) return kBrokerOpenFilesWanted;
  return std::min(kBrokerOpenFilesWanted, static_cast<long>(limit.rlim_max));
}

std::vector<std::string> container_names_in(const std::string& output) {
  std::vector<std::string> names;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

StatusOr<std::vector<std::string>> existing_lab_containers(const LabLayout& layout, CommandRunner& runner) {
  std::vector<std::string> argv = podman_command();
  const std::vector<std::string> ps = {"ps", "-a", "--filter",
                                       "label=" + label(kLabContainerLabel, layout.params().prefix), "--format",
                                       "{{.Names}}"};
  argv.insert(argv.end(), ps.begin(), ps.end());
  CHAOS_ASSIGN_OR_RETURN(auto result, runner.run_checked(argv, RunOptions{"", kPodmanTimeout}));
  return container_names_in(result.stdout_text);
}

StatusOr<std::size_t> remove_lab_containers(const LabLayout& layout, CommandRunner& runner) {
  CHAOS_ASSIGN_OR_RETURN(auto names, existing_lab_containers(layout, runner));
  if (names.empty()) return std::size_t{0};
  std::vector<std::string> argv = podman_command();
  for (const std::string word : {"rm", "-f", "-t", "0"}) argv.push_back(word);
  argv.insert(argv.end(), names.begin(), names.end());
  CHAOS_RETURN_IF_ERROR(runner.run_checked(argv, RunOptions{"", kPodmanTimeout}).status());
  return names.size();
}

std::string recorded_runtime(const LabLayout& layout) {
  std::ifstream in(layout.runtime_path());
  std::string runtime;
  if (in >> runtime && runtime == kRuntimePodman) return kRuntimePodman;
  return kRuntimeProcess;
}

}  // namespace chaos::lab

namespace chaos::lab {

bool may_have_containers(const LabLayout& layout) {
  if (std::filesystem::exists(layout.runtime_path())) return recorded_runtime(layout) == kRuntimePodman;
  return !find_in_directories("podman", kSystemProgramDirectories).empty();
}

}  // namespace chaos::lab
