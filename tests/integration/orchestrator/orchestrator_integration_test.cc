// chaosctl against a real chaos-agent and a real Prometheus server: the
// Prometheus client's HTTP API handling, and whole experiment runs checked
// by exit code, journal.json and the paused victim process; the ad-hoc
// commands' exit codes (orchestrator/commands/exit_codes.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

#include "orchestrator/clients/prometheus_client.h"
#include "tests/integration/orchestrator/prometheus_server.h"
#include "lab/testbed/safe_kill.h"
#include "tests/unit/orchestrator/temp_dir.h"

namespace chaos::orchestrator::integration {
namespace {

using namespace std::chrono_literals;
using agent::integration::AgentProcess;
using agent::integration::eventually;
using agent::integration::Victim;
using ::testing::HasSubstr;

std::string chaosctl() {
  const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
  return std::string(build_dir ? build_dir : "build") + "/bin/chaosctl";
}

// Runs chaosctl and returns its exit code (-1 when it had to be killed).
int run_chaosctl(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {chaosctl()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = agent::integration::spawn(argv, log);
  if (pid <= 0) return -1;
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 120s, 50ms)) {
    ::chaos::test_support::safe_kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

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
    return dir_.write("exp.toml", R"([experiment]
title = "Pause the victim"
tags = ["cor", "integration"]

[prometheus]
url = ")" + prometheus_->url() + R"("

[[agents.static]]
address = "127.0.0.1:)" + std::to_string(agent_->grpc_port()) + R"("
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
duration = "3s"
params = { pid = )" + std::to_string(victim) + R"( }
targets = { labels = { role = "victim" } }

[[method]]
kind = "wait"
duration = "1s"

[recovery]
within = "10s"
)");
  }

  testing::TempDir dir_;
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
                          "--duration", "30s", "--output", "json"}, log), 0) << read_text(log);
  EXPECT_TRUE(eventually([&] { return victim.state() == 'T'; }, 5s));
  ASSERT_EQ(run_chaosctl({"faults", "--agent", agent, "--output", "json"}, dir_.path() + "/faults.log"), 0);
  EXPECT_THAT(read_text(dir_.path() + "/faults.log"), HasSubstr("process.pause"));
  ASSERT_EQ(run_chaosctl({"revert", "--agent", agent, "--all"}, dir_.path() + "/revert.log"), 0)
      << read_text(dir_.path() + "/revert.log");
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

}  // namespace
}  // namespace chaos::orchestrator::integration
