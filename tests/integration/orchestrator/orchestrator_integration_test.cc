// chaosctl against a real chaos-agent and a real Prometheus server: the
// Prometheus client's HTTP API handling, and whole experiment runs checked
// by exit code, journal.json and the paused victim process (with the agent's
// proof of each fault's effect, and its leftover check); the ad-hoc
// commands' output and exit codes (orchestrator/commands/exit_codes.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <map>
#include <set>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/faults/network/rules/object_names.h"
#include "common/command_runner.h"
#include "lab/testbed/agent_test_bed.h"
#include "lab/testbed/loopback_bridge.h"
#include "lab/testbed/safe_kill.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/commands/prometheus_discovery.h"
#include "orchestrator/experiment/fault_spec_builder.h"
#include "orchestrator/run/agent_pool.h"
#include "tests/integration/orchestrator/prometheus_server.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator::integration {
namespace {

using namespace std::chrono_literals;
using agent::integration::AgentProcess;
using agent::integration::eventually;
using agent::integration::LoopbackBridge;
using agent::integration::NamespacedAgent;
using agent::integration::Victim;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

std::string chaosctl() {
  const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
  return std::string(build_dir ? build_dir : "build") + "/bin/chaosctl";
}

// One chaosctl process, started at once; killed and reaped when destroyed
// before it ended (a test that fails while a run is going on).
class ChaosctlProcess {
 public:
  ChaosctlProcess(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv = {chaosctl()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = agent::integration::spawn(argv, log);
  }
  ~ChaosctlProcess() {
    if (pid_ <= 0) return;
    ::chaos::test_support::safe_kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ChaosctlProcess(const ChaosctlProcess&) = delete;
  ChaosctlProcess& operator=(const ChaosctlProcess&) = delete;

  // Its exit code (-1 when it had to be killed).
  int wait() {
    if (pid_ <= 0) return -1;
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 120s, 50ms)) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

// Runs chaosctl and returns its exit code (-1 when it had to be killed).
int run_chaosctl(const std::vector<std::string>& args, const std::string& log) {
  return ChaosctlProcess(args, log).wait();
}

// A network namespace of the test's own with lo up. Deleting it removes
// everything planted in it (tables, rules), also when the test fails.
class ScratchNamespace {
 public:
  explicit ScratchNamespace(std::string name) : name_(std::move(name)) {
    created_ = commands_.run_checked({"ip", "netns", "add", name_}).ok();
    ok_ = created_ && run({"ip", "link", "set", "lo", "up"}).ok();
  }
  ~ScratchNamespace() {
    if (created_) (void)commands_.run_checked({"ip", "netns", "delete", name_});
  }
  ScratchNamespace(const ScratchNamespace&) = delete;
  ScratchNamespace& operator=(const ScratchNamespace&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  // `argv` inside the namespace.
  Status run(const std::vector<std::string>& argv) {
    std::vector<std::string> full = {"ip", "netns", "exec", name_};
    full.insert(full.end(), argv.begin(), argv.end());
    return commands_.run_checked(full).status();
  }

 private:
  std::string name_;
  ProcessCommandRunner commands_;
  bool created_ = false;
  bool ok_ = false;
};

// A loopback port bound but not listening, held until destroyed: a connect
// to it is refused at once (an unreachable agent, and nobody else's port).
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in, nullptr, false);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class OrchestratorIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "integration tests run as root";
    // Every chaosctl run here records its history in the test's own file.
    ::setenv("CHAOSCTL_HISTORY", (dir_.path() + "/history.sqlite").c_str(), 1);
    agent_ = std::make_unique<AgentProcess>(dir_.path() + "/agent-state", dir_.path() + "/agent.log");
    std::filesystem::create_directories(dir_.path() + "/agent-state");
    ASSERT_TRUE(agent_->start()) << agent_->log();
    prometheus_ = std::make_unique<PrometheusServer>(
        dir_.path(), std::vector<std::string>{"127.0.0.1:" + std::to_string(agent_->metrics_port())});
    auto client = make_http_prometheus_client({prometheus_->url(), "", 2000ms});
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
    // Ready, and the agent scraped at least once: queries return data.
    ASSERT_TRUE(eventually([&] {
      auto answer = client_->instant_query("up{job=\"cor-agent\"} == 1");
      return answer.ok() && !answer->empty();
    }, 60s, 200ms)) << read_text(dir_.path() + "/prometheus.log").substr(0, 2000);
  }

  std::string experiment(const std::string& abort_threshold, pid_t victim) {
    return experiment_on("127.0.0.1:" + std::to_string(agent_->grpc_port()), abort_threshold, victim, "3s", "1s");
  }

  // Steady state and abort read the fixture's agent (Prometheus scrapes
  // it); the fault goes to the agent at `agent_address`.
  std::string experiment_on(const std::string& agent_address, const std::string& abort_threshold, pid_t victim,
                            const std::string& pause, const std::string& wait) {
    return dir_.write("exp.toml", R"([experiment]
title = "Pause the victim"
tags = ["cor", "integration"]

[prometheus]
url = ")" + prometheus_->url() + R"("

[[agents.static]]
address = ")" + agent_address + R"("
node = "local"
labels = { role = "victim" }

[settings]
lease_ttl = "3s"
during_interval = "1s"

[[steady_state]]
name = "agent is up"
query = 'up{job="cor-agent"}'
comparator = ">="
threshold = 1

[[abort]]
name = "build info missing"
query = 'chaos_agent_build_info'
comparator = "<"
threshold = )" + abort_threshold + R"(

[[method]]
name = "pause victim"
kind = "process.pause"
duration = ")" + pause + R"("
params = { pid = )" + std::to_string(victim) + R"( }
targets = { labels = { role = "victim" } }

[[method]]
kind = "wait"
duration = ")" + wait + R"("

[recovery]
within = "10s"
)");
  }

  test_support::TempDir dir_;
  std::unique_ptr<AgentProcess> agent_;
  std::unique_ptr<PrometheusServer> prometheus_;
  std::unique_ptr<PrometheusClient> client_;
};

TEST_F(OrchestratorIntegration, PrometheusClientAnswersInstantAndRangeQueries) {
  auto instant = client_->instant_query("chaos_agent_build_info");
  ASSERT_TRUE(instant.ok()) << instant.status().message();
  ASSERT_FALSE(instant->empty());
  EXPECT_EQ(instant->result_type, "vector");
  EXPECT_EQ(instant->series[0].points[0].text, "1");
  const auto now = std::chrono::system_clock::now();
  auto range = client_->range_query("up", now - 30s, now, 1000ms);
  ASSERT_TRUE(range.ok()) << range.status().message();
  EXPECT_EQ(range->result_type, "matrix");
  EXPECT_FALSE(range->empty());
  auto nan = client_->instant_query("0/0");
  ASSERT_TRUE(nan.ok());
  EXPECT_EQ(nan->series[0].points[0].text, "NaN");
  auto empty = client_->instant_query("no_such_metric_cor");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_F(OrchestratorIntegration, PrometheusErrorsNameTheQuery) {
  auto bad = client_->instant_query("rate(up[");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("rate(up["));
  auto down = make_http_prometheus_client({"http://127.0.0.1:" + std::to_string(free_loopback_port()), "", 500ms});
  ASSERT_TRUE(down.ok());
  auto unreachable = (*down)->instant_query("up");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_THAT(unreachable.status().message(), HasSubstr("unreachable"));
  EXPECT_THAT(unreachable.status().message(), HasSubstr("query 'up'"));
}

TEST_F(OrchestratorIntegration, RunHoldsPausesTheVictimAndRevertsIt) {
  Victim victim("cor-victim");
  const std::string file = experiment("1", victim.pid());
  std::atomic<bool> saw_paused{false};
  std::atomic<bool> stop{false};
  std::thread observer([&] {
    while (!stop) {
      if (victim.state() == 'T') saw_paused = true;
      std::this_thread::sleep_for(20ms);
    }
  });
  const int code = run_chaosctl({"run", file, "--report-dir", dir_.path() + "/report"}, dir_.path() + "/run.log");
  stop = true;
  observer.join();
  ASSERT_EQ(code, 0) << read_text(dir_.path() + "/run.log") << agent_->log();
  EXPECT_TRUE(saw_paused);
  EXPECT_TRUE(victim.running()) << "not resumed: state " << victim.state();
  const auto journal = read_json(dir_.path() + "/report/journal.json");
  ASSERT_FALSE(journal.is_discarded());
  EXPECT_EQ(journal["verdict"]["result"], "held");
  ASSERT_EQ(journal["faults"].size(), 1u);
  EXPECT_EQ(journal["faults"][0]["kind"], "process.pause");
  EXPECT_FALSE(journal["faults"][0]["backend"].get<std::string>().empty());
  EXPECT_FALSE(journal["faults"][0]["reverted_at"].is_null());
  // The agent's proof, read back from /proc: in effect right after the
  // inject, gone after the revert; and its leftover check ran and found
  // nothing of the run on the node.
  const auto& fault = journal["faults"][0];
  EXPECT_EQ(fault.value("effect", ""), "verified");
  EXPECT_THAT(fault.value("evidence", ""), HasSubstr(std::to_string(victim.pid())));
  ASSERT_TRUE(fault["time_to_effect_seconds"].is_number()) << fault.dump();
  EXPECT_GT(fault["time_to_effect_seconds"].get<double>(), 0.0);
  EXPECT_TRUE(fault["gone_verified_at"].is_string()) << fault.dump();
  EXPECT_FALSE(fault.value("gone_evidence", "").empty());
  ASSERT_EQ(journal["leftover_checks"].size(), 1u) << journal["leftover_checks"].dump();
  EXPECT_EQ(journal["leftover_checks"][0]["checked"], true);
  EXPECT_TRUE(journal["verdict"]["leftovers"].empty()) << journal["verdict"].dump();
  // How long recovery took is bench's business (bench/README.md); here only
  // that it was measured and reached.
  EXPECT_EQ(journal["verdict"]["recovered"], true);
  ASSERT_TRUE(journal["verdict"]["time_to_recovery_seconds"].is_number());
  EXPECT_GE(journal["verdict"]["time_to_recovery_seconds"].get<double>(), 0.0);
  EXPECT_THAT(read_text(dir_.path() + "/report/junit.xml"), HasSubstr("name=\"agent is up [during]\""));
  // The report: range data from the real Prometheus, rendered into report.html.
  ASSERT_FALSE(journal["timeline"]["queries"].empty());
  EXPECT_EQ(journal["timeline"]["queries"][0]["error"], "");
  EXPECT_FALSE(journal["timeline"]["queries"][0]["series"].empty());
  const std::string html = read_text(dir_.path() + "/report/report.html");
  EXPECT_THAT(html, HasSubstr("<svg class=\"slo-chart\""));
  EXPECT_THAT(html, HasSubstr("<rect class=\"fault-window\""));
  EXPECT_THAT(html, HasSubstr("verdict-held"));
  // The run's row in the history ($CHAOSCTL_HISTORY, set by the fixture).
  ASSERT_EQ(run_chaosctl({"history", "--output", "json"}, dir_.path() + "/history.json"), 0)
      << read_text(dir_.path() + "/history.json");
  const auto history = read_json(dir_.path() + "/history.json");
  ASSERT_EQ(history["runs"].size(), 1u) << history.dump();
  const auto& row = history["runs"][0];
  EXPECT_EQ(row["experiment_id"], journal["run"]["experiment_id"]);
  EXPECT_EQ(row["verdict"], "held");
  EXPECT_EQ(row["file"], file);
  EXPECT_EQ(row["file_sha256"].get<std::string>().size(), 64u);
  EXPECT_TRUE(row["time_to_recovery_seconds"].is_number());
  EXPECT_EQ(row["faults"][0]["kind"], "process.pause");
  EXPECT_EQ(row["slo_worst"][0]["name"], "agent is up");
  EXPECT_EQ(row["slo_worst"][0]["worst"], 1.0);
  // The trend page over that history, linking the run's report.
  const std::string page = dir_.path() + "/trends/history.html";
  ASSERT_EQ(run_chaosctl({"report", "--history", "--output", page}, dir_.path() + "/history-report.log"), 0)
      << read_text(dir_.path() + "/history-report.log");
  EXPECT_THAT(read_text(dir_.path() + "/history-report.log"), HasSubstr("(1 runs)"));
  const std::string trends = read_text(page);
  EXPECT_THAT(trends, HasSubstr("<h2>Pause the victim</h2>"));
  EXPECT_THAT(trends, HasSubstr("file://" + row["report_dir"].get<std::string>() + "/report.html"));
}

// The leftover check end to end, with the faulted agent in a namespace of
// the test's own (everything planted goes with it). Once the run's fault is
// reverted, during the wait step, the test plants there an nft table named
// as that fault's own would be (as if its revert had left it behind) and an
// iptables rule in a chain that is not ours (another program's change). The
// run is an error naming the table and its fault; the rule is reported as a
// change by other software, not held against the run.
TEST_F(OrchestratorIntegration, ObjectLeftBehindByAFaultFailsTheRunButForeignChangesDoNot) {
  ScratchNamespace netns("cor-leftovers-" + std::to_string(::getpid()));
  ASSERT_TRUE(netns.ok());
  std::filesystem::create_directories(dir_.path() + "/netns-state");
  NamespacedAgent agent(netns.name(), dir_.path() + "/netns-state", dir_.path() + "/netns-agent.log");
  ASSERT_TRUE(agent.start()) << agent.log();
  const LoopbackBridge bridge(netns.name(), agent.process().grpc_port());  // chaosctl's way in
  ASSERT_EQ(bridge.error(), "");
  Victim victim("cor-victim");
  const std::string file = experiment_on(bridge.address(), "1", victim.pid(), "1s", "2s");
  const std::string run_log = dir_.path() + "/run.log";
  ChaosctlProcess run({"run", file, "--report-dir", dir_.path() + "/report"}, run_log);

  std::string fault_id;
  ASSERT_TRUE(eventually([&] {
    v1::ListResponse listing;
    if (!agent.list(&listing, true).ok()) return false;
    for (const auto& fault : listing.faults()) {
      if (fault.kind() == "process.pause" && fault.state() == v1::FAULT_STATE_REVERTED) fault_id = fault.id();
    }
    return !fault_id.empty();
  }, 60s, 50ms)) << read_text(run_log) << agent.log();
  const std::string table = agent::network::fault_object_names(fault_id).nft_table;
  const std::string foreign_rule = "-A INPUT -s 10.99.0.7/32 -j DROP";
  ASSERT_TRUE(netns.run({"nft", "add", "table", "inet", table}).ok());
  ASSERT_TRUE(netns.run({"nft", "add", "chain", "inet", table, "left"}).ok());
  ASSERT_TRUE(netns.run({"iptables", "-A", "INPUT", "-s", "10.99.0.7/32", "-j", "DROP"}).ok());

  ASSERT_EQ(run.wait(), 3) << read_text(run_log) << agent.log();
  const auto journal = read_json(dir_.path() + "/report/journal.json");
  ASSERT_FALSE(journal.is_discarded());
  const auto& verdict = journal["verdict"];
  EXPECT_EQ(verdict["result"], "error");
  EXPECT_THAT(verdict.value("reason", ""), HasSubstr(table));
  const auto leftovers = verdict["leftovers"].get<std::vector<std::string>>();
  const auto foreign = verdict["foreign_changes"].get<std::vector<std::string>>();
  EXPECT_THAT(leftovers, Contains(AllOf(HasSubstr("added table inet " + table), HasSubstr("(fault " + fault_id + ")"))))
      << verdict.dump(2);
  EXPECT_THAT(leftovers, Not(Contains(HasSubstr("10.99.0.7")))) << "a foreign change counted as ours";
  EXPECT_THAT(foreign, Contains(HasSubstr(foreign_rule))) << verdict.dump(2);
  const std::string html = read_text(dir_.path() + "/report/report.html");
  EXPECT_THAT(html, HasSubstr("LEFT BEHIND: nft list ruleset: added table inet " + table + " (fault " + fault_id + ")"));
  EXPECT_THAT(html, HasSubstr(foreign_rule));
}

TEST_F(OrchestratorIntegration, AbortConditionEndsTheRunWithExitTwo) {
  Victim victim("cor-victim");
  // build_info is 1, so "< 2" is true at once: the run aborts and reverts.
  const std::string file = experiment("2", victim.pid());
  const int code = run_chaosctl({"run", file, "--report-dir", dir_.path() + "/report", "--output", "json"},
                                dir_.path() + "/run.log");
  ASSERT_EQ(code, 2) << read_text(dir_.path() + "/run.log");
  EXPECT_TRUE(victim.running()) << "not resumed: state " << victim.state();
  const auto journal = read_json(dir_.path() + "/report/journal.json");
  EXPECT_EQ(journal["verdict"]["result"], "aborted");
  EXPECT_EQ(journal["verdict"]["aborted_by"], "build info missing");
  EXPECT_FALSE(journal["faults"][0]["reverted_at"].is_null());
}

// `chaosctl run ... | tee run.log` in a terminal that goes away: tee is
// gone before chaosctl writes again, and the hang-up must still end in a
// revert, a journal and exit code 2 (a write to the gone reader raised
// SIGPIPE and killed chaosctl with its fault live).
TEST_F(OrchestratorIntegration, AHangUpWithNobodyReadingItsOutputStillRevertsAndReports) {
  Victim victim("cor-hup-victim");
  const std::string file = experiment_on("127.0.0.1:" + std::to_string(agent_->grpc_port()), "1", victim.pid(),
                                         "60s", "1s");
  int output[2];
  ASSERT_EQ(::pipe2(output, O_CLOEXEC), 0);
  const std::string log = dir_.path() + "/run.log";
  const std::vector<std::string> args = {chaosctl(), "run", file, "--report-dir", dir_.path() + "/report"};
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int errors = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (errors < 0 || ::dup2(output[1], 1) < 0 || ::dup2(errors, 2) < 0) ::_exit(127);
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(output[0]);  // nobody reads: every write to stdout fails from the first
  ::close(output[1]);
  const bool paused = eventually([&] { return victim.state() == 'T'; }, 60s, 20ms);
  ::kill(pid, SIGHUP);
  int status = 0;
  const bool ended = eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 60s, 50ms);
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(paused) << "the fault never took effect: " << read_text(log);
  ASSERT_TRUE(ended && WIFEXITED(status)) << "chaosctl died of signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                          << ": " << read_text(log);
  EXPECT_EQ(WEXITSTATUS(status), 2) << read_text(log);
  EXPECT_TRUE(eventually([&] { return victim.running(); }, 5s, 20ms)) << "not resumed: state " << victim.state();
  const auto journal = read_json(dir_.path() + "/report/journal.json");
  ASSERT_FALSE(journal.is_discarded()) << read_text(log);
  EXPECT_EQ(journal["verdict"]["result"], "aborted");
  EXPECT_EQ(journal["verdict"]["aborted_by"], "interrupted");
  ASSERT_EQ(journal["faults"].size(), 1u);
  EXPECT_FALSE(journal["faults"][0]["reverted_at"].is_null());
}

TEST_F(OrchestratorIntegration, AgentPolicyRefusalIsFoundBeforeAnythingIsInjected) {
  // An agent whose policy allows only process.kill still lists
  // process.pause among its kinds: only its dry run can say no.
  const std::string config = dir_.write("policy.toml", "[policy]\nallowed_kinds = [\"process.kill\"]\n");
  agent_ = std::make_unique<AgentProcess>(dir_.path() + "/strict-state", dir_.path() + "/strict.log",
                                          std::vector<std::string>{"--config", config});
  std::filesystem::create_directories(dir_.path() + "/strict-state");
  ASSERT_TRUE(agent_->start()) << agent_->log();
  Victim victim("cor-victim");
  const std::string file = experiment("1", victim.pid());
  const std::string refusal = "Inject: policy: fault kind 'process.pause' is not in allowed_kinds";

  EXPECT_EQ(run_chaosctl({"validate", file}, dir_.path() + "/validate.log"), 0)
      << "without --ask-agents validate does not contact agents: " << read_text(dir_.path() + "/validate.log");
  EXPECT_NE(run_chaosctl({"validate", "--ask-agents", file}, dir_.path() + "/ask.log"), 0);
  EXPECT_THAT(read_text(dir_.path() + "/ask.log"), HasSubstr("step 'pause victim' (process.pause): dry run refused: "));
  EXPECT_THAT(read_text(dir_.path() + "/ask.log"), HasSubstr(refusal));

  std::atomic<bool> stop{false};
  std::atomic<bool> saw_paused{false};
  std::thread observer([&] {
    while (!stop) {
      if (victim.state() == 'T') saw_paused = true;
      std::this_thread::sleep_for(20ms);
    }
  });
  const int code = run_chaosctl({"run", file}, dir_.path() + "/run.log");
  stop = true;
  observer.join();
  EXPECT_EQ(code, 3) << read_text(dir_.path() + "/run.log");
  EXPECT_THAT(read_text(dir_.path() + "/run.log"), HasSubstr(refusal));
  EXPECT_FALSE(saw_paused) << "the preflight refusal must come before any inject";
  EXPECT_TRUE(victim.running());
}

TEST_F(OrchestratorIntegration, AdHocInjectFaultsAndRevert) {
  Victim victim("cor-victim");
  const std::string agent = "127.0.0.1:" + std::to_string(agent_->grpc_port());
  const std::string log = dir_.path() + "/adhoc.log";
  ASSERT_EQ(run_chaosctl({"inject", "--agent", agent, "process.pause", "--param", "pid=" + std::to_string(victim.pid()),
                          "--duration", "30s"}, log), 0) << read_text(log);
  EXPECT_TRUE(eventually([&] { return victim.state() == 'T'; }, 5s));
  // The agent's proof as chaosctl prints it: the effect read back at
  // inject, the live counters, the gone check at revert.
  EXPECT_THAT(read_text(log), HasSubstr("effect: verified in "));
  EXPECT_THAT(read_text(log), HasSubstr("pids " + std::to_string(victim.pid()) + " in state T"));
  ASSERT_EQ(run_chaosctl({"faults", "--agent", agent}, dir_.path() + "/faults.log"), 0);
  EXPECT_THAT(read_text(dir_.path() + "/faults.log"), HasSubstr("process.pause"));
  EXPECT_THAT(read_text(dir_.path() + "/faults.log"), HasSubstr("counters: processes_stopped=1"));
  ASSERT_EQ(run_chaosctl({"revert", "--agent", agent, "--all"}, dir_.path() + "/revert.log"), 0)
      << read_text(dir_.path() + "/revert.log");
  EXPECT_THAT(read_text(dir_.path() + "/revert.log"), HasSubstr("gone: verified"));
  EXPECT_TRUE(eventually([&] { return victim.running(); }, 10s)) << "not resumed: state " << victim.state();
}

// 4 usage, 5 unreachable, 6 refused, 7 partial (exit_codes.h).
TEST_F(OrchestratorIntegration, AdHocCommandsExitWithUsageUnreachableRefusedAndPartial) {
  const std::string agent = "127.0.0.1:" + std::to_string(agent_->grpc_port());
  const RefusingPort dead_port;
  ASSERT_NE(dead_port.port(), 0);
  const std::string dead = "127.0.0.1:" + std::to_string(dead_port.port());
  // One log per call (spawn appends), so each message check sees its own call.
  int calls = 0;
  std::string log;
  const auto chaosctl_exit = [&](const std::vector<std::string>& args) {
    log = dir_.path() + "/codes-" + std::to_string(++calls) + ".log";
    return run_chaosctl(args, log);
  };

  EXPECT_EQ(chaosctl_exit({"inject", "--agent", agent, "process.pause", "--duration", "5s", "--bogus"}), 4)
      << read_text(log);
  EXPECT_EQ(chaosctl_exit({"inject", "--agent", agent, "process.pause", "--param", "pid", "--duration", "5s"}), 4)
      << read_text(log);
  EXPECT_EQ(chaosctl_exit({"revert", "--agent", agent}), 4) << read_text(log);  // neither FAULT_ID nor --all
  // Checked before the agent is asked: pid 1 would otherwise be refused (6).
  EXPECT_EQ(chaosctl_exit({"inject", "--agent", agent, "process.pause", "--param", "pid=1", "--duration", "5s",
                           "--verify", "bogus"}), 4) << read_text(log);
  EXPECT_THAT(read_text(log), HasSubstr("--verify: 'bogus'"));

  EXPECT_EQ(chaosctl_exit({"faults", "--agent", dead, "--timeout", "3s"}), 5) << read_text(log);
  EXPECT_THAT(read_text(log), HasSubstr("agent unreachable"));

  // The agent never signals pid 1 (PERMISSION_DENIED) and caps durations at
  // its max_duration, 1h by default (INVALID_ARGUMENT): both are refusals.
  EXPECT_EQ(chaosctl_exit({"inject", "--agent", agent, "process.pause", "--param", "pid=1", "--duration", "5s"}),
            6) << read_text(log);
  EXPECT_THAT(read_text(log), HasSubstr("refused by the agent"));
  Victim victim("cor-victim");
  EXPECT_EQ(chaosctl_exit({"inject", "--agent", agent, "process.pause", "--param", "pid=" + std::to_string(victim.pid()),
                          "--duration", "2h"}), 6) << read_text(log);
  EXPECT_THAT(read_text(log), HasSubstr("exceeds this agent's limit"));

  const std::string both = dir_.write("both.toml", "[[agents]]\naddress = \"" + agent + "\"\nnode = \"live\"\n\n"
                                      "[[agents]]\naddress = \"" + dead + "\"\nnode = \"dead\"\n");
  const std::string only_dead = dir_.write("dead.toml", "[[agents]]\naddress = \"" + dead + "\"\nnode = \"dead\"\n");
  EXPECT_EQ(chaosctl_exit({"agents", "--inventory", both, "--timeout", "3s"}), 7) << read_text(log);
  EXPECT_EQ(chaosctl_exit({"halt", "--inventory", both, "--timeout", "3s"}), 7) << read_text(log);
  EXPECT_EQ(chaosctl_exit({"halt", "--inventory", only_dead, "--timeout", "3s"}), 5) << read_text(log);
  const std::string broken = dir_.write("broken.toml", "[[agents]\naddress = 1\n");
  EXPECT_EQ(chaosctl_exit({"agents", "--inventory", broken}), 4) << read_text(log);
}

// Discovery at fleet scale, end to end: three real agents on loopback,
// listed to a real Prometheus through file_sd with their gRPC address as a
// target label. The inventory's [discovery] (by label, and by the agents'
// own chaos_agent_info metric) finds all three; the async fan-out pauses
// each agent's own victim and RevertAll resumes them; and
// `chaosctl inventory from-prometheus` writes the same three.
TEST(FleetDiscoveryIntegration, AgentsListedThroughFileSdAreDiscoveredInjectedAndReverted) {
  ASSERT_EQ(::geteuid(), 0u) << "integration tests run as root";
  test_support::TempDir dir;
  std::vector<std::unique_ptr<AgentProcess>> agents;
  std::vector<std::unique_ptr<Victim>> victims;
  std::map<std::string, pid_t> victim_of_node;
  nlohmann::json file_sd = nlohmann::json::array();
  for (int i = 0; i < 3; ++i) {
    const std::string state = dir.path() + "/state-" + std::to_string(i);
    std::filesystem::create_directories(state);
    agents.push_back(std::make_unique<AgentProcess>(state, dir.path() + "/agent-" + std::to_string(i) + ".log"));
    ASSERT_TRUE(agents.back()->start()) << agents.back()->log();
    victims.push_back(std::make_unique<Victim>("fleet-victim"));
    victim_of_node["fleet-" + std::to_string(i)] = victims.back()->pid();
    file_sd.push_back({{"targets", {"127.0.0.1:" + std::to_string(agents.back()->metrics_port())}},
                       {"labels", {{"chaos_agent_address", "127.0.0.1:" + std::to_string(agents.back()->grpc_port())},
                                   {"node", "fleet-" + std::to_string(i)},
                                   {"role", "broker"}}}});
  }
  const std::string sd_file = dir.write("agents.json", file_sd.dump());
  PrometheusServer prometheus(dir.path(), {}, sd_file);
  auto client = make_http_prometheus_client({prometheus.url(), "", 2000ms});
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(eventually([&] {
    auto answer = (*client)->instant_query("count(chaos_agent_info{job=\"chaos-agents\"}) == 3");
    return answer.ok() && !answer->empty();
  }, 60s, 200ms)) << read_text(dir.path() + "/prometheus.log").substr(0, 2000);

  install_prometheus_discovery();
  const std::string by_label =
      dir.write("by-label.toml", "[discovery]\nprometheus = \"" + prometheus.url() + "\"\njob = \"chaos-agents\"\n");
  auto found = load_inventory(by_label);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->size(), 3u);
  std::set<std::string> addresses;
  for (const auto& agent : *found) {
    addresses.insert(agent.address);
    EXPECT_EQ(agent.labels.at("role"), "broker");
    EXPECT_EQ(victim_of_node.count(agent.node), 1u) << agent.node;
  }
  auto by_metric = load_inventory(dir.write(
      "by-metric.toml",
      "[discovery]\nprometheus = \"" + prometheus.url() + "\"\njob = \"chaos-agents\"\naddress_from = \"metric\"\n"));
  ASSERT_TRUE(by_metric.ok()) << by_metric.status().message();
  std::set<std::string> metric_addresses;
  for (const auto& agent : *by_metric) metric_addresses.insert(agent.address);
  EXPECT_EQ(metric_addresses, addresses);

  GrpcAgentClientFactory factory(5000ms);
  factory.trust(*found);
  AgentPool pool(factory);
  std::vector<std::string> targets;
  std::vector<v1::InjectRequest> requests;
  for (const auto& agent : *found) {
    v1::InjectRequest request;
    request.set_experiment_id("fleet-discovery");
    request.set_lease_id("fleet-discovery-lease");
    set_proto_duration(30s, request.mutable_lease_ttl());
    set_proto_duration(30s, request.mutable_duration());
    request.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(victim_of_node.at(agent.node));
    targets.push_back(agent.address);
    requests.push_back(request);
  }
  const auto faults = pool.inject(targets, requests);
  for (std::size_t i = 0; i < faults.size(); ++i) {
    EXPECT_TRUE(faults[i].ok()) << targets[i] << ": " << faults[i].status().message();
  }
  for (const auto& victim : victims) EXPECT_TRUE(eventually([&] { return victim->state() == 'T'; }, 5s));
  const auto reverted = pool.revert_all(targets, "fleet-discovery");
  for (std::size_t i = 0; i < reverted.size(); ++i) {
    EXPECT_TRUE(reverted[i].ok()) << targets[i] << ": " << reverted[i].status().message();
  }
  for (const auto& victim : victims) EXPECT_TRUE(eventually([&] { return victim->running(); }, 5s));

  const std::string log = dir.path() + "/from-prometheus.log";
  ASSERT_EQ(run_chaosctl({"inventory", "from-prometheus", "--prometheus", prometheus.url(), "--job", "chaos-agents"},
                         log),
            0)
      << read_text(log);
  for (const auto& address : addresses) EXPECT_THAT(read_text(log), HasSubstr("address = \"" + address + "\""));
}

}  // namespace
}  // namespace chaos::orchestrator::integration
