// chaos-agent footprint (root): a real agent in namespace A of the test bed,
// RSS (VmRSS, VmHWM), threads and CPU (utime + stime) over a window, idle
// (60 s by default: idle CPU is a few ticks a minute at most, and a 10 ms
// tick needs a long window to show it) and then with 10 live faults of
// mixed kinds, under the same light probe traffic (UDP echoes A->B, 200/s)
// in both windows. Prints one JSON object.
//
// The windows run in order: idle, 10 faults, 20 faults (a second set of 10
// on other ports and victims), all reverted, the first 10 again. The first
// 10 pay one-time costs (code paged back in after the start-up release,
// gRPC and engine warm-up); 10 -> 20 and reverted -> 10 again show what
// each further 10 cost. Every window lists the agent's threads by name.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <iostream>
#include <thread>

#include "bench/network/traffic.h"
#include "bench/support/child_process.h"
#include "bench/support/json_out.h"
#include "common/proc_reader.h"
#include "orchestrator/clients/agent_client.h"
#include "orchestrator/experiment/fault_spec_builder.h"
#include "lab/testbed/network_test_bed.h"

namespace {

using namespace chaos;
using chaos::testing::kAddressB;

constexpr int kEchoPort = 7007;

struct Sample {
  double cpu_seconds = 0;
  double rss_mib = 0;
  double hwm_mib = 0;
  double anon_mib = 0;  // RssAnon: heap, stacks, copied pages: this process's own
  double file_mib = 0;  // RssFile: mapped program and library pages, shared with the page cache
  int threads = 0;
};

// /proc/<pid>/stat fields 14 and 15 (utime, stime) and /proc/<pid>/status.
Sample sample(int pid) {
  Sample result;
  if (const auto stat = ProcReader().stat(pid)) {
    result.cpu_seconds = static_cast<double>(stat->user_ticks + stat->system_ticks) /
                         static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    const auto kib = [&] { return std::stod(line.substr(line.find(':') + 1)) / 1024.0; };
    if (line.rfind("VmRSS:", 0) == 0) result.rss_mib = kib();
    if (line.rfind("VmHWM:", 0) == 0) result.hwm_mib = kib();
    if (line.rfind("RssAnon:", 0) == 0) result.anon_mib = kib();
    if (line.rfind("RssFile:", 0) == 0) result.file_mib = kib();
    if (line.rfind("Threads:", 0) == 0) result.threads = std::stoi(line.substr(line.find(':') + 1));
  }
  return result;
}

// /proc/<pid>/task/*/comm: the agent names its threads, gRPC names its own.
std::map<std::string, int> footprint_thread_names(int pid) {
  std::map<std::string, int> names;
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    ++names[name];
  }
  return names;
}

nlohmann::json window(int pid, double seconds) {
  const Sample before = sample(pid);
  const auto start = std::chrono::steady_clock::now();
  (void)bench::paced_rtts_ms(kAddressB, kEchoPort, static_cast<int>(seconds * 200), 5000);
  const Sample after = sample(pid);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"seconds", elapsed},
          {"cpu_seconds", after.cpu_seconds - before.cpu_seconds},
          {"cpu_percent_of_one_core", 100 * (after.cpu_seconds - before.cpu_seconds) / elapsed},
          {"rss_mib", after.rss_mib},
          {"hwm_mib", after.hwm_mib},
          {"rss_anon_mib", after.anon_mib},
          {"rss_file_mib", after.file_mib},
          {"threads", after.threads},
          {"thread_names", footprint_thread_names(pid)}};
}

v1::NetworkScope scope(const std::string& interface, int port = 0) {
  v1::NetworkScope result;
  result.set_interface(interface);
  if (port > 0) result.add_ports(static_cast<std::uint32_t>(port));
  return result;
}

// Ten faults of mixed kinds that can be live together (disjoint engine scopes).
std::vector<v1::FaultSpec> ten_faults(const std::string& ab, const std::string& ac, int pid1, int pid2) {
  std::vector<v1::FaultSpec> specs(10);
  auto delay = [](v1::FaultSpec& spec, const v1::NetworkScope& where, int ms) {
    spec.mutable_network_delay()->mutable_delay()->set_nanos(ms * 1'000'000);
    *spec.mutable_network_delay()->mutable_scope() = where;
  };
  delay(specs[0], scope(ab, kEchoPort), 5);
  delay(specs[1], scope(ac), 5);
  specs[2].mutable_network_duplicate()->set_percent(1);
  *specs[2].mutable_network_duplicate()->mutable_scope() = scope(ab, 7100);
  specs[3].mutable_network_reorder()->set_percent(25);
  specs[3].mutable_network_reorder()->mutable_delay()->set_nanos(5'000'000);
  *specs[3].mutable_network_reorder()->mutable_scope() = scope(ab, 7101);
  specs[4].mutable_network_loss()->set_percent(1);
  *specs[4].mutable_network_loss()->mutable_scope() = scope(ab, 7102);
  specs[5].mutable_network_loss()->set_percent(1);
  *specs[5].mutable_network_loss()->mutable_scope() = scope(ac);
  specs[6].mutable_network_partition()->add_cidrs("10.201.0.99/32");
  specs[7].mutable_network_bandwidth()->set_rate_bits_per_second(100'000'000);
  *specs[7].mutable_network_bandwidth()->mutable_scope() = scope(ac);
  specs[8].mutable_process_pause()->mutable_target()->set_pid(pid1);
  specs[9].mutable_process_pause()->mutable_target()->set_pid(pid2);
  return specs;
}

// Ten more of the same kinds, live beside the first ten: on A->B only, each
// on its own ports (the first set holds A->C whole and A->B's 7007, 7100-7102).
std::vector<v1::FaultSpec> ten_more_faults(const std::string& ab, int pid1, int pid2) {
  std::vector<v1::FaultSpec> specs = ten_faults(ab, ab, pid1, pid2);
  *specs[0].mutable_network_delay()->mutable_scope() = scope(ab, 7200);
  *specs[1].mutable_network_delay()->mutable_scope() = scope(ab, 7201);
  *specs[2].mutable_network_duplicate()->mutable_scope() = scope(ab, 7202);
  *specs[3].mutable_network_reorder()->mutable_scope() = scope(ab, 7203);
  *specs[4].mutable_network_loss()->mutable_scope() = scope(ab, 7204);
  *specs[5].mutable_network_loss()->mutable_scope() = scope(ab, 7205);
  specs[6].mutable_network_partition()->set_cidrs(0, "10.201.0.98/32");
  *specs[7].mutable_network_bandwidth()->mutable_scope() = scope(ab, 7206);
  return specs;
}

// Injects each spec; returns how many went live.
int footprint_inject(orchestrator::AgentClient& client, const std::vector<v1::FaultSpec>& specs) {
  int live = 0;
  for (const auto& spec : specs) {
    v1::InjectRequest request;
    request.set_experiment_id("bench-footprint");
    request.set_lease_id("bench-footprint");
    orchestrator::set_proto_duration(std::chrono::seconds(300), request.mutable_lease_ttl());
    orchestrator::set_proto_duration(std::chrono::seconds(300), request.mutable_duration());
    *request.mutable_spec() = spec;
    auto fault = client.inject(request);
    if (fault.ok()) {
      ++live;
    } else {
      std::cerr << "footprint_bench: inject: " << fault.status().to_string() << "\n";
    }
  }
  return live;
}

// What a step added: RSS (all, anon, file) and threads between two windows.
nlohmann::json footprint_added(const nlohmann::json& from, const nlohmann::json& to) {
  nlohmann::json added;
  for (const char* key : {"rss_mib", "rss_anon_mib", "rss_file_mib"}) {
    added[key] = to[key].get<double>() - from[key].get<double>();
  }
  added["threads"] = to["threads"].get<int>() - from["threads"].get<int>();
  return added;
}

// With --smaps-dir: the agent's /proc/<pid>/smaps at the end of a window,
// to diff per mapping (what a step paged in, and where).
void footprint_save_smaps(int pid, const std::string& smaps_dir, const std::string& window_name) {
  if (smaps_dir.empty()) return;
  std::filesystem::create_directories(smaps_dir);
  std::ofstream(smaps_dir + "/" + window_name + ".smaps")
      << std::ifstream("/proc/" + std::to_string(pid) + "/smaps").rdbuf();
}

nlohmann::json run(const std::string& agent_binary, double idle_seconds, double seconds, const std::string& smaps_dir,
                   chaos::testing::NetworkTestBed& bed) {
  const auto dir = std::filesystem::temp_directory_path() / ("chaos-bench-footprint-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  bench::ChildProcess agent({agent_binary, "--listen", "127.0.0.1:23700", "--metrics-listen", "127.0.0.1:23701",
                             "--state-dir", (dir / "state").string(), "--node-name", "footprint"},
                            (dir / "agent.log").string());
  std::vector<std::unique_ptr<bench::ChildProcess>> sleepers;
  for (int i = 0; i < 4; ++i) {
    sleepers.push_back(std::make_unique<bench::ChildProcess>(
        std::vector<std::string>{"sleep", "3600"}, (dir / ("sleep" + std::to_string(i) + ".log")).string()));
  }
  orchestrator::GrpcAgentClientFactory factory(std::chrono::seconds(10));
  auto client = factory.connect("127.0.0.1:23700");
  for (int attempt = 0; !client->capabilities().ok(); ++attempt) {
    if (attempt > 300) throw std::runtime_error("agent never answered (see " + (dir / "agent.log").string() + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // past start-up work
  const auto first = ten_faults(bed.link_a_to_b(), bed.link_a_to_c(), sleepers[0]->pid(), sleepers[1]->pid());
  const auto second = ten_more_faults(bed.link_a_to_b(), sleepers[2]->pid(), sleepers[3]->pid());
  nlohmann::json result;
  const auto measure = [&](const std::string& name, double length) {
    result[name] = window(agent.pid(), length);
    footprint_save_smaps(agent.pid(), smaps_dir, name);
  };
  const auto settled = [&](const std::string& name) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    measure(name, seconds);
  };
  measure("idle", idle_seconds);
  result["live_faults"] = footprint_inject(*client, first);
  settled("faults");
  result["live_faults_20"] = result["live_faults"].get<int>() + footprint_inject(*client, second);
  settled("faults_20");
  if (!client->revert_all("").ok()) std::cerr << "footprint_bench: revert_all failed\n";
  settled("reverted");
  result["live_faults_again"] = footprint_inject(*client, first);
  settled("faults_again");
  (void)client->revert_all("");
  agent.stop();
  std::filesystem::remove_all(dir);
  for (const char* key : {"cpu_percent_of_one_core", "rss_mib"}) {
    result[std::string(key) + "_ratio"] = bench::optional_number(
        bench::ratio(result["faults"][key].get<double>(), result["idle"][key].get<double>()));
  }
  // The goal is stated per 10 live faults: the difference, not the ratio.
  // The first 10 include one-time costs; the further 10 and the 10 after a
  // full revert show the steady cost.
  result["rss_mib_added_by_faults"] = result["faults"]["rss_mib"].get<double>() - result["idle"]["rss_mib"].get<double>();
  result["threads_added_by_faults"] = result["faults"]["threads"].get<int>() - result["idle"]["threads"].get<int>();
  result["added_by_first_10"] = footprint_added(result["idle"], result["faults"]);
  result["added_by_further_10"] = footprint_added(result["faults"], result["faults_20"]);
  result["left_after_revert"] = footprint_added(result["idle"], result["reverted"]);
  result["added_by_10_after_revert"] = footprint_added(result["reverted"], result["faults_again"]);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string agent_binary = "chaos-agent";
  double idle_seconds = 60;
  double seconds = 10;
  std::string smaps_dir;
  CLI::App app{"chaos-agent RSS, threads and CPU, idle and with 10 live faults, in a namespace (root)"};
  app.add_option("--agent-binary", agent_binary, "chaos-agent to start")->capture_default_str();
  app.add_option("--idle-seconds", idle_seconds, "Length of the idle window")->capture_default_str();
  app.add_option("--seconds", seconds, "Length of the window with 10 live faults")->capture_default_str();
  app.add_option("--smaps-dir", smaps_dir, "Save the agent's /proc/PID/smaps after each window here (NAME.smaps)");
  CLI11_PARSE(app, argc, argv);
  nlohmann::json result = {
      {"benchmark", "footprint"}, {"idle_window_seconds", idle_seconds}, {"window_seconds", seconds}};
  if (geteuid() != 0) {
    result["skipped"] = "needs root (network namespaces)";
    bench::emit(result);
    return 0;
  }
  try {
    if (agent_binary.find('/') != std::string::npos) agent_binary = std::filesystem::absolute(agent_binary).string();
    chaos::testing::NetworkTestBed bed;
    if (!bed.ok()) throw std::runtime_error("could not build the namespaces");
    chaos::testing::UdpEchoServer echo_b(bed.b(), kEchoPort);
    chaos::testing::UdpEchoServer echo_c(bed.c(), kEchoPort);
    // The agent (a child) and the gRPC client live in A from here on.
    chaos::testing::NamespaceEntry in_a(bed.a());
    result.update(run(agent_binary, idle_seconds, seconds, smaps_dir, bed));
  } catch (const std::exception& error) {
    result["skipped"] = std::string("failed: ") + error.what();
  }
  bench::emit(result);
  return result.contains("skipped") ? 1 : 0;
}
