// SIGKILL of the agent at every step of apply and revert, for every fault
// kind, followed by a restart on the same state dir: journal recovery must
// leave the node exactly as it was before the fault (rules, qdiscs, policy
// rules, resolv.conf, victims running and in their own cgroups, containers
// thawed, no fill file, no fault cgroup, no helper process left in the
// node's namespace).
//
// The steps come from the test-only crash hook (common/crash_point.h): one
// run with CHAOS_CRASH_STEP_LOG counts and names them, then for each step N
// the agent runs with CHAOS_CRASH_AFTER_STEPS=N and kills itself there.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <regex>

#include "common/proc_reader.h"
#include "lab/testbed/agent_test_bed.h"
#include "tests/integration/agent/loop_mount.h"
#include "tests/integration/agent/tmpfs_mount.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;
using chaos::testing::kAddressB;
using chaos::testing::NodeStateSnapshot;

struct CrashCase {
  std::string kind;
  // The spec, given the bed and a victim process the fault may touch.
  std::function<v1::FaultSpec(AgentTestBed&, pid_t victim)> spec;
  // process.kill: its victim's death is the fault's effect, not a leftover,
  // so each run gets a fresh victim that the snapshot leaves out.
  bool kills_victim = false;
  // container.pause: each bed gets a podman container (labelled cag.bed=<its
  // namespace>) and the agents reach podman's API socket.
  bool needs_container = false;
  // disk.fill: each bed gets a small tmpfs (crash_fill_dir) to fill, which
  // must hold no fill file after recovery.
  bool needs_tmpfs = false;
  // disk.throttle: the test gets an ext4 on a loop device (crash_disk_dir)
  // whose device is throttled; the machine's own disks never are.
  bool needs_loop_disk = false;
};

std::filesystem::path crash_fill_dir(AgentTestBed& bed) {
  return std::filesystem::temp_directory_path() / ("cag-crash-fill-" + bed.a());
}

std::filesystem::path crash_disk_dir() {
  return std::filesystem::temp_directory_path() / ("cag-crash-disk-" + std::to_string(::getpid()));
}

// gtest names the parameter in listings and failures by this.
void PrintTo(const CrashCase& crash_case, std::ostream* out) { *out << crash_case.kind; }

std::string b_cidr() { return std::string(kAddressB) + "/32"; }

std::vector<CrashCase> crash_cases() {
  auto link_ab = [](AgentTestBed& bed) { return bed.network().link_a_to_b(); };
  return {
      {"network.delay", [=](AgentTestBed& bed, pid_t) { return delay_spec(network_scope(link_ab(bed), {b_cidr()})); }},
      {"network.loss", [=](AgentTestBed& bed, pid_t) { return loss_spec(network_scope(link_ab(bed), {b_cidr()})); }},
      {"network.partition", [](AgentTestBed&, pid_t) { return partition_spec({b_cidr()}); }},
      {"network.bandwidth",
       [=](AgentTestBed& bed, pid_t) { return bandwidth_spec(network_scope(link_ab(bed), {})); }},
      {"network.duplicate",
       [=](AgentTestBed& bed, pid_t) { return duplicate_spec(network_scope(link_ab(bed), {b_cidr()})); }},
      {"network.reorder",
       [=](AgentTestBed& bed, pid_t) { return reorder_spec(network_scope(link_ab(bed), {b_cidr()})); }},
      {"dns.fail", [](AgentTestBed&, pid_t) { return dns_fail_spec(); }},
      {"process.kill", [](AgentTestBed&, pid_t victim) { return kill_spec(victim); }, true},
      {"process.pause", [](AgentTestBed&, pid_t victim) { return pause_spec(victim); }},
      {"container.pause",
       [](AgentTestBed& bed, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_container_pause();
         (*spec.mutable_target()->mutable_labels())["cag.bed"] = bed.a();
         return spec;
       },
       false, true},
      // The proxy dies with the agent; recovery deletes its redirect table.
      {"tcp.latency",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_latency()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_latency()->mutable_delay()->set_nanos(10'000'000);
         return spec;
       }},
      {"tcp.reset_peer",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_reset_peer()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_reset_peer()->set_after_bytes(1);
         return spec;
       }},
      {"tcp.limit_data",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_limit_data()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_limit_data()->set_bytes(1);
         return spec;
       }},
      {"tcp.bandwidth",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_bandwidth()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_bandwidth()->set_bytes_per_second(1000);
         return spec;
       }},
      {"tcp.slow_close",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_slow_close()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_slow_close()->mutable_delay()->set_seconds(1);
         return spec;
       }},
      // With reset_existing: its ss -K runs after the redirect is installed.
      {"tcp.timeout",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_timeout()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_timeout()->mutable_scope()->set_reset_existing(true);
         return spec;
       }},
      {"tcp.slicer",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_tcp_slicer()->mutable_scope()->set_port(7500);
         spec.mutable_tcp_slicer()->set_average_size(8);
         return spec;
       }},
      // http.* and nats.*: the same proxy and table, another filter.
      {"http.abort",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_http_abort()->mutable_scope()->set_port(7500);
         spec.mutable_http_abort()->set_status(503);
         return spec;
       }},
      {"http.delay",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_http_delay()->mutable_scope()->set_port(7500);
         spec.mutable_http_delay()->mutable_delay()->set_nanos(10'000'000);
         return spec;
       }},
      {"http.headers",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_http_headers()->mutable_scope()->set_port(7500);
         auto* header = spec.mutable_http_headers()->add_response_headers();
         header->set_name("X-Chaos");
         header->set_value("1");
         return spec;
       }},
      {"nats.delay",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_nats_delay()->mutable_scope()->set_port(7500);
         spec.mutable_nats_delay()->mutable_match()->add_subjects("orders.>");
         spec.mutable_nats_delay()->mutable_delay()->set_nanos(10'000'000);
         return spec;
       }},
      {"nats.drop",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_nats_drop()->mutable_scope()->set_port(7500);
         spec.mutable_nats_drop()->mutable_match()->add_subjects("orders.>");
         return spec;
       }},
      // Unplaced, its workers are threads of the agent: the crash ends them,
      // and the snapshot shows that recovery leaves nothing else behind.
      {"stress.cpu",
       [](AgentTestBed&, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_stress_cpu()->set_workers(1);
         spec.mutable_stress_cpu()->set_load_percent(10);
         return spec;
       }},
      // Its workers are children of the agent, placed in the victim's memory
      // cgroup: after recovery no process but the agent may be left in the
      // bed's namespace, and the victim's cgroups are in the snapshot.
      {"stress.memory",
       [](AgentTestBed&, pid_t victim) {
         v1::FaultSpec spec;
         spec.mutable_stress_memory()->set_bytes(8ULL << 20);
         spec.mutable_stress_memory()->set_workers(2);
         spec.mutable_stress_memory()->mutable_target()->set_pid(victim);
         return spec;
       }},
      // Moves the victim into a blkio cgroup of the fault's own: recovery
      // must move it back and remove that cgroup.
      {"disk.throttle",
       [](AgentTestBed&, pid_t victim) {
         v1::FaultSpec spec;
         spec.mutable_disk_throttle()->set_path((crash_disk_dir() / "mnt").string());
         spec.mutable_disk_throttle()->set_write_bytes_per_second(1 << 20);
         spec.mutable_disk_throttle()->set_read_iops(100);
         spec.mutable_disk_throttle()->mutable_target()->set_pid(victim);
         return spec;
       },
       false, false, false, true},
      {"disk.fill",
       [](AgentTestBed& bed, pid_t) {
         v1::FaultSpec spec;
         spec.mutable_disk_fill()->set_path(crash_fill_dir(bed).string());
         spec.mutable_disk_fill()->set_leave_bytes(4 * 1024 * 1024);
         return spec;
       },
       false, false, true},
  };
}

struct Step {
  long number = 0;
  std::string name;  // fault ids and pids blanked: they differ from run to run
};

std::vector<Step> read_steps(const std::filesystem::path& file) {
  static const std::regex fault_id("f[0-9a-f]{11}");
  static const std::regex pid("pid [0-9]+");
  std::vector<Step> steps;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string name = std::regex_replace(line.substr(space + 1), fault_id, "<id>");
    steps.push_back({std::stol(line.substr(0, space)), std::regex_replace(name, pid, "pid <pid>")});
  }
  return steps;
}

std::string describe(const std::vector<Step>& steps, std::size_t from) {
  std::string text;
  for (std::size_t i = from; i < steps.size(); ++i) text += "  " + std::to_string(steps[i].number) + " " + steps[i].name + "\n";
  return text;
}

std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) names.push_back(entry.path().filename());
  return names;
}

// "pid comm" of every process in the network namespace `netns` (an `ip
// netns` name) but `except`: a fault's helper (a stress worker, a DNS stub,
// a proxy) left running after recovery.
std::vector<std::string> processes_in_netns(const std::string& netns, pid_t except) {
  struct stat wanted {};
  if (::stat(("/run/netns/" + netns).c_str(), &wanted) != 0) return {"cannot stat /run/netns/" + netns};
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::stoi(name) == except) continue;
    struct stat net {};
    if (::stat((entry.path() / "ns" / "net").c_str(), &net) != 0) continue;
    if (net.st_ino != wanted.st_ino || net.st_dev != wanted.st_dev) continue;
    const auto stat = ProcReader().stat(std::stoi(name));
    if (stat && stat->dead()) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string command;
    std::getline(comm, command);
    found.push_back(name + " " + command);
  }
  return found;
}

// The id of the first fault the agent's step log names, "" when none.
std::string first_fault_id(const std::filesystem::path& step_log) {
  static const std::regex fault_id("f[0-9a-f]{11}");
  std::ifstream in(step_log);
  for (std::string line; std::getline(in, line);) {
    std::smatch match;
    if (std::regex_search(line, match, fault_id)) return match.str();
  }
  return "";
}

// Cgroup directories named after the fault ("chaos-<id>") anywhere in the
// machine's cgroup hierarchies.
std::vector<std::string> fault_cgroups(const std::string& fault_id) {
  std::vector<std::string> found;
  if (fault_id.empty()) return found;
  std::error_code error;
  std::filesystem::recursive_directory_iterator walk(
      "/sys/fs/cgroup", std::filesystem::directory_options::skip_permission_denied, error);
  for (; !error && walk != std::filesystem::recursive_directory_iterator(); walk.increment(error)) {
    if (walk->is_symlink(error)) {
      walk.disable_recursion_pending();
      continue;
    }
    if (!walk->is_directory(error)) continue;
    if (walk->path().filename() == "chaos-" + fault_id) found.push_back(walk->path());
  }
  return found;
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// The crashes of one kind run on kWorkers beds at once (each its own
// namespaces, agent processes and victims): most of a step's time is spent
// waiting for agents to start and tools to run, not computing.
constexpr int kWorkers = 2;

// podman's API on a socket in `dir`, and busybox containers of their own
// network namespace; all removed at the end, also when a check fails.
class PodmanContainers {
 public:
  explicit PodmanContainers(const std::filesystem::path& dir) : dir_(dir), socket_((dir / "podman.sock").string()) {
    std::filesystem::create_directories(dir_ / "rootfs" / "bin");
    std::filesystem::copy_file("/bin/busybox", dir_ / "rootfs" / "bin" / "busybox");
    // spawn() execs without a PATH search.
    service_ = spawn({"/usr/bin/podman", "system", "service", "--time=0", "unix://" + socket_},
                     (dir_ / "podman.log").string());
  }
  ~PodmanContainers() {
    // A container a failed recovery left frozen would never stop: thaw first.
    for (const pid_t pid : pids_) thaw(pid);
    for (const auto& name : names_) (void)commands_.run({"podman", "rm", "-f", "-t", "0", name}, slow());
    if (service_ > 0) {
      safe_kill(service_, SIGTERM);
      if (!eventually([&] { return reap_if_exited(service_); }, 20s)) {
        safe_kill(service_, SIGKILL);
        ::waitpid(service_, nullptr, 0);
      }
    }
  }
  PodmanContainers(const PodmanContainers&) = delete;
  PodmanContainers& operator=(const PodmanContainers&) = delete;

  // The container's init pid, or -1 (the reason on stderr).
  pid_t run(const std::string& name, const std::string& bed) {
    names_.push_back(name);
    auto started = commands_.run({"podman", "run", "-d", "--name", name, "--network", "none", "--label",
                                  "cag.bed=" + bed, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                                  "--rootfs", (dir_ / "rootfs").string(), "/bin/busybox", "sleep", "600"},
                                 slow());
    if (!started.ok() || started->exit_code != 0) {
      std::cerr << "podman run: " << (started.ok() ? started->stderr_text : started.status().message()) << "\n";
      return -1;
    }
    auto inspected = commands_.run({"podman", "inspect", "-f", "{{.State.Pid}}", name}, slow());
    const pid_t pid = inspected.ok() && inspected->exit_code == 0 ? std::stoi(inspected->stdout_text) : -1;
    if (pid > 0) pids_.push_back(pid);
    return pid;
  }
  // Flags for the agents: the socket, once podman's API answers on it, and
  // the cgroups through this process's root (`ip netns exec` gives the
  // agent a /sys without them).
  std::vector<std::string> agent_flags() {
    eventually([&] { return std::filesystem::exists(socket_); }, 30s);
    return {"--podman-socket", socket_, "--cgroup-root", "/proc/" + std::to_string(::getpid()) + "/root/sys/fs/cgroup"};
  }

 private:
  static void thaw(pid_t pid) {
    std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(cgroups, line);) {
      const auto freezer = line.find(":freezer:");
      if (freezer == std::string::npos) continue;
      std::ofstream("/sys/fs/cgroup/freezer" + line.substr(freezer + 9) + "/freezer.state") << "THAWED\n";
    }
  }
  static RunOptions slow() {
    RunOptions options;
    options.timeout = 60s;
    return options;
  }
  std::filesystem::path dir_;
  std::string socket_;
  pid_t service_ = -1;
  std::vector<std::string> names_;
  std::vector<pid_t> pids_;
  ProcessCommandRunner commands_;
};

struct Worker {
  std::unique_ptr<AgentTestBed> bed;
  std::unique_ptr<Victim> bystander;
  pid_t container = -1;  // container.pause: the bed's container's init
  std::unique_ptr<TmpfsMount> tmpfs;  // disk.fill
  NodeStateSnapshot baseline;
  std::vector<pid_t> watched() const {
    if (container > 0) return {bystander->pid(), container};
    return {bystander->pid()};
  }
};

class AgentCrashRecovery : public ::testing::TestWithParam<CrashCase> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    std::string name = GetParam().kind;
    std::replace(name.begin(), name.end(), '.', '-');
    temp_ = std::make_unique<TempDir>("cag-crash-" + name + "-" + std::to_string(::getpid()));
    dir_ = temp_->path();
    if (GetParam().needs_container) {
      podman_ = std::make_unique<PodmanContainers>(dir_ / "podman");
      agent_flags_ = podman_->agent_flags();
    } else {
      // As the lab runs its agents: `ip netns exec` gives them a /sys
      // without the cgroup file systems placed kinds need.
      agent_flags_ = {"--cgroup-root", "/proc/" + std::to_string(::getpid()) + "/root/sys/fs/cgroup"};
    }
    if (GetParam().needs_loop_disk) {
      disk_ = std::make_unique<LoopMount>(crash_disk_dir(), 64 << 20);
      ASSERT_EQ(disk_->error(), "");
    }
    for (int w = 0; w < kWorkers; ++w) {
      Worker worker;
      worker.bed = std::make_unique<AgentTestBed>(std::to_string(w));
      ASSERT_EQ(worker.bed->error(), "");
      worker.bystander = std::make_unique<Victim>("cag-bystander-" + std::to_string(::getpid()));
      if (GetParam().needs_tmpfs) {
        worker.tmpfs = std::make_unique<TmpfsMount>(crash_fill_dir(*worker.bed), 16 * 1024 * 1024);
        ASSERT_TRUE(worker.tmpfs->mounted());
      }
      if (podman_) {
        worker.container = podman_->run("cag-crash-" + std::to_string(::getpid()) + "-" + std::to_string(w),
                                        worker.bed->a());
        ASSERT_GT(worker.container, 0);
      }
      auto baseline = worker.bed->snapshot(worker.watched());
      ASSERT_TRUE(baseline.ok()) << baseline.status().to_string();
      worker.baseline = *baseline;
      // Capturing must not change what it captures (iptables-nft, for one,
      // could create tables when asked to list them).
      ASSERT_EQ(worker.bed->diff_from(worker.baseline, worker.watched()), "")
          << "two snapshots of an untouched node differ";
      workers_.push_back(std::move(worker));
    }
  }

  void TearDown() override {
    workers_.clear();
    disk_.reset();
    podman_.reset();
    temp_.reset();
  }

  // The victim of this run: the bystander for process.pause (it must be
  // running again afterwards), a fresh process for process.kill.
  static pid_t victim_for_run(Worker& worker, std::unique_ptr<Victim>& sacrificial) {
    if (!GetParam().kills_victim) return worker.bystander->pid();
    sacrificial = std::make_unique<Victim>("cag-sacrificial-" + std::to_string(::getpid()));
    return sacrificial->pid();
  }

  // Inject, then revert; "" when both worked. With a crash planted, either
  // call fails when the agent dies under it.
  static std::string run_scenario(Worker& worker, NamespacedAgent& agent, pid_t victim) {
    const auto request = inject_request(GetParam().spec(*worker.bed, victim));
    v1::InjectResponse injected;
    const auto status = agent.inject(request, &injected);
    if (!status.ok()) return "inject: " + status.error_message();
    const auto reverted = agent.revert(injected.fault().id());
    if (!reverted.ok()) return "revert: " + reverted.error_message();
    return "";
  }

  // SIGKILL at `step`, restart on the same state dir, compare: "" when the
  // node is back to its baseline, else what is wrong.
  std::string crash_and_recover(Worker& worker, const Step& step) {
    const std::string number = std::to_string(step.number);
    const auto state_dir = dir_ / ("state-" + number);
    const auto crash_log = dir_ / ("crash-" + number + ".steps");
    {
      NamespacedAgent crashing(worker.bed->a(), state_dir.string(), (dir_ / ("crash-" + number + ".log")).string(),
                               {"CHAOS_CRASH_AFTER_STEPS=" + number, "CHAOS_CRASH_STEP_LOG=" + crash_log.string()},
                               agent_flags_);
      if (!crashing.start()) return "the agent did not start:\n" + crashing.log();
      std::unique_ptr<Victim> sacrificial;
      (void)run_scenario(worker, crashing, victim_for_run(worker, sacrificial));
      if (!eventually([&] { return crashing.process().exited(); }, 20s)) {
        return "the agent did not kill itself\n" + crashing.log();
      }
      const auto crashed = read_steps(crash_log);
      // The same step as in the counting run, or the numbering is not
      // deterministic and the steps covered are not the ones named.
      if (crashed.empty() || crashed.back().number != step.number || crashed.back().name != step.name) {
        return "the agent died elsewhere; this run's steps were\n" + describe(crashed, 0);
      }
    }
    NamespacedAgent recovering(worker.bed->a(), state_dir.string(), (dir_ / ("recover-" + number + ".log")).string(),
                               {}, agent_flags_);
    if (!recovering.start()) return "the restarted agent did not start\n" + recovering.log();
    const std::string diff = worker.bed->diff_from(worker.baseline, worker.watched());
    const auto journal = files_in(state_dir / "journal");
    const auto fill_files = worker.tmpfs ? files_in(worker.tmpfs->path()) : std::vector<std::string>{};
    // Workers see their control pipe close when the agent dies and exit on
    // their own; give them that moment before calling one a leftover.
    std::vector<std::string> helpers;
    eventually([&] { return (helpers = processes_in_netns(worker.bed->a(), recovering.pid())).empty(); }, 5s);
    const auto cgroups = fault_cgroups(first_fault_id(crash_log));
    const int stopped = recovering.stop();
    if (!diff.empty()) {
      return "after journal recovery the node differs from its baseline (- baseline, + now):\n" + diff +
             "--- restarted agent's log:\n" + recovering.log();
    }
    if (!journal.empty()) return "journal entries left after recovery: " + join(journal) + "\n" + recovering.log();
    if (!fill_files.empty()) return "files left after recovery: " + join(fill_files) + "\n" + recovering.log();
    if (!helpers.empty()) return "processes left in the namespace: " + join(helpers) + "\n" + recovering.log();
    if (!cgroups.empty()) return "cgroups left after recovery: " + join(cgroups) + "\n" + recovering.log();
    if (stopped != 0) return "the restarted agent did not stop cleanly\n" + recovering.log();
    return "";
  }

  std::unique_ptr<TempDir> temp_;
  std::filesystem::path dir_;
  std::unique_ptr<PodmanContainers> podman_;
  std::unique_ptr<LoopMount> disk_;
  std::vector<std::string> agent_flags_;
  std::vector<Worker> workers_;
};

TEST_P(AgentCrashRecovery, SigkillAtEveryStepOfApplyAndRevertThenRecoveryRestoresTheNode) {
  // 1. Count and name the steps of one clean inject + revert.
  Worker& first = workers_.front();
  const auto count_log = dir_ / "count.steps";
  std::size_t startup_steps = 0;
  std::vector<Step> steps;
  {
    NamespacedAgent agent(first.bed->a(), (dir_ / "state-count").string(), (dir_ / "count-agent.log").string(),
                          {"CHAOS_CRASH_STEP_LOG=" + count_log.string()}, agent_flags_);
    ASSERT_TRUE(agent.start()) << agent.log();
    startup_steps = read_steps(count_log).size();
    std::unique_ptr<Victim> sacrificial;
    ASSERT_EQ(run_scenario(first, agent, victim_for_run(first, sacrificial)), "") << agent.log();
    steps = read_steps(count_log);
    ASSERT_EQ(agent.stop(), 0) << agent.log();
    ASSERT_EQ(first.bed->diff_from(first.baseline, first.watched()), "")
        << "a clean inject + revert left something behind";
  }
  ASSERT_GT(steps.size(), startup_steps) << "the scenario took no step at all";
  // The registry journals a fault before it changes anything; the steps
  // before that first write only read the system (the leftover detector's
  // snapshot, the backend probe). A SIGKILL there has nothing to recover, so
  // the crashes start at the first journal write.
  const auto first_write = std::find_if(steps.begin() + static_cast<std::ptrdiff_t>(startup_steps), steps.end(),
                                        [](const Step& step) { return step.name.rfind("journal.write", 0) == 0; });
  ASSERT_NE(first_write, steps.end()) << "the scenario never journaled its fault";
  const std::size_t first_crash = static_cast<std::size_t>(first_write - steps.begin());
  std::cerr << GetParam().kind << ": " << startup_steps << " start-up steps, then " << steps.size() - startup_steps
            << " steps of apply and revert:\n"
            << describe(steps, startup_steps);

  // 2. Crash at each of them, recover, compare. Each worker stops at its
  // first failure: its leftovers would show again in every later step.
  std::mutex mutex;
  std::map<long, std::string> failures;
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    threads.emplace_back([&, w] {
      for (std::size_t index = first_crash + w; index < steps.size(); index += workers_.size()) {
        const std::string failure = crash_and_recover(workers_[w], steps[index]);
        if (failure.empty()) continue;
        std::lock_guard lock(mutex);
        failures[steps[index].number] = failure;
        return;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& [number, failure] : failures) {
    const auto& step = steps[static_cast<std::size_t>(number - 1)];
    ADD_FAILURE() << GetParam().kind << ", SIGKILL at step " << number << " (" << step.name << "): " << failure;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, AgentCrashRecovery, ::testing::ValuesIn(crash_cases()),
                         [](const ::testing::TestParamInfo<CrashCase>& param_info) {
                           std::string name = param_info.param.kind;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

// A kind added to the agent must be added to crash_cases() too.
TEST(AgentCrashRecoveryCoverage, EveryKindTheAgentOffersIsCrashTested) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  const TempDir dir("cag-crash-kinds-" + std::to_string(::getpid()));
  AgentTestBed bed;
  ASSERT_EQ(bed.error(), "");
  std::vector<std::string> offered;
  {
    NamespacedAgent agent(bed.a(), (dir / "state").string(), (dir / "agent.log").string());
    ASSERT_TRUE(agent.start()) << agent.log();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::CapabilitiesResponse capabilities;
    ASSERT_TRUE(agent.stub().Capabilities(&context, v1::CapabilitiesRequest(), &capabilities).ok());
    offered.assign(capabilities.fault_kinds().begin(), capabilities.fault_kinds().end());
  }
  std::vector<std::string> covered;
  for (const auto& crash_case : crash_cases()) covered.push_back(crash_case.kind);
  std::sort(offered.begin(), offered.end());
  std::sort(covered.begin(), covered.end());
  EXPECT_EQ(covered, offered);
}

// The snapshot diff is what makes the crash tests able to fail: a leftover
// rule, qdisc or stopped process planted after the baseline must show up in
// the message as itself.
TEST(NodeStateDiff, NamesALeftoverRuleQdiscAndStoppedProcess) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  AgentTestBed bed;
  ASSERT_EQ(bed.error(), "");
  Victim victim("cag-diff-victim-" + std::to_string(::getpid()));
  auto baseline = bed.snapshot({victim.pid()});
  ASSERT_TRUE(baseline.ok()) << baseline.status().to_string();
  ASSERT_EQ(bed.diff_from(*baseline, {victim.pid()}), "");

  ProcessCommandRunner commands;
  const std::string ns = bed.a();
  const std::string link = bed.network().link_a_to_b();
  ASSERT_TRUE(commands.run_checked({"ip", "netns", "exec", ns, "nft", "add", "table", "inet", "cag_planted"}).ok());
  ASSERT_TRUE(commands
                  .run_checked({"ip", "netns", "exec", ns, "nft", "add", "chain", "inet", "cag_planted", "out",
                                "{ type filter hook output priority 0 ; }"})
                  .ok());
  ASSERT_TRUE(commands
                  .run_checked({"ip", "netns", "exec", ns, "nft", "add", "rule", "inet", "cag_planted", "out", "ip",
                                "daddr", "10.201.0.2", "counter", "drop"})
                  .ok());
  ASSERT_TRUE(commands.run_checked({"tc", "-n", ns, "qdisc", "add", "dev", link, "root", "handle", "1:", "htb"}).ok());
  ASSERT_TRUE(commands.run_checked({"ip", "netns", "exec", ns, "iptables", "-t", "mangle", "-N", "CAG-PLANTED"}).ok());
  chaos::test_support::safe_kill(victim.pid(), SIGSTOP);
  ASSERT_TRUE(eventually([&] { return victim.state() == 'T'; }, 5s));

  const std::string diff = bed.diff_from(*baseline, {victim.pid()});
  std::cerr << "the diff of a node with planted leftovers:\n" << diff;
  EXPECT_NE(diff.find("nft list ruleset:\n  + table inet cag_planted {"), std::string::npos) << diff;
  EXPECT_NE(diff.find("ip daddr 10.201.0.2 counter drop"), std::string::npos) << "counters blanked, rule kept\n" << diff;
  EXPECT_NE(diff.find("tc qdisc show:"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+ qdisc htb 1: dev " + link + " root"), std::string::npos) << diff;
  EXPECT_NE(diff.find("iptables-save:"), std::string::npos) << diff;
  EXPECT_NE(diff.find("+ :CAG-PLANTED - [_:_]"), std::string::npos) << diff;
  EXPECT_NE(diff.find("process " + std::to_string(victim.pid()) + ":\n  - running\n  + stopped"), std::string::npos)
      << diff;
  chaos::test_support::safe_kill(victim.pid(), SIGCONT);
}

}  // namespace
}  // namespace chaos::agent::integration
