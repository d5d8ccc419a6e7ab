// The real chaos-agent against real processes: kill, pause/resume, TTL,
// lease expiry (dead-man switch), SIGTERM, kill -9 of the agent while a
// pause is live followed by a restart that resumes the victim, and hostile
// targets (a FIFO as pidfile, a pathological regex on a huge command line)
// that must neither block nor crash the agent.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "lab/testbed/agent_harness.h"
#include "lab/testbed/loopback_bridge.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

class AgentProcessFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("cag-" + std::string(info->name()) + "-" +
                                                     std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    agent_ = std::make_unique<AgentProcess>((dir_ / "state").string(), (dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->start()) << "agent did not start:\n" << agent_->log();
  }

  void TearDown() override {
    if (HasFailure() && agent_) std::cerr << "--- agent log:\n" << agent_->log();
    agent_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string unique_marker() {
    return "cag-victim-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}() % 1000000);
  }

  grpc::Status inject(const v1::InjectRequest& request, v1::InjectResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    return agent_->stub().Inject(&context, request, response);
  }

  grpc::Status revert(const std::string& id, v1::RevertResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::RevertRequest request;
    request.set_fault_id(id);
    return agent_->stub().Revert(&context, request, response);
  }

  grpc::Status renew(const std::string& lease, int ttl_seconds) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    v1::RenewLeaseRequest request;
    request.set_lease_id(lease);
    request.mutable_ttl()->set_seconds(ttl_seconds);
    v1::RenewLeaseResponse response;
    return agent_->stub().RenewLease(&context, request, &response);
  }

  static v1::InjectRequest pause_pid(pid_t pid, int duration_seconds) {
    v1::InjectRequest request;
    request.set_experiment_id("cag-exp");
    request.mutable_duration()->set_seconds(duration_seconds);
    request.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(pid);
    return request;
  }

  std::string metrics(AgentProcess& agent) {
    httplib::Client client("127.0.0.1", agent.metrics_port());
    auto response = client.Get("/metrics");
    return response ? response->body : "";
  }

  std::filesystem::path dir_;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(AgentProcessFaults, KillsARealProcessByPid) {
  Victim victim;
  v1::InjectRequest request;
  request.mutable_duration()->set_seconds(10);
  request.mutable_spec()->mutable_process_kill()->mutable_target()->set_pid(victim.pid());
  v1::InjectResponse response;
  ASSERT_TRUE(inject(request, &response).ok());
  EXPECT_EQ(response.fault().backend(), "signal");
  EXPECT_EQ(response.fault().detail(), "SIGKILL pids " + std::to_string(victim.pid()));
  EXPECT_EQ(victim.wait_for_death(5s), SIGKILL);
}

TEST_F(AgentProcessFaults, RepeatedKillByCmdlineHitsTheRestartedProcessToo) {
  const std::string marker = unique_marker();
  auto first = std::make_unique<Victim>(marker);
  v1::InjectRequest request;
  request.mutable_duration()->set_seconds(10);
  auto* kill = request.mutable_spec()->mutable_process_kill();
  kill->mutable_target()->set_cmdline_regex("^" + marker + " ");
  kill->set_signal("TERM");
  kill->mutable_interval()->set_nanos(200'000'000);
  v1::InjectResponse response;
  ASSERT_TRUE(inject(request, &response).ok());
  EXPECT_EQ(first->wait_for_death(5s), SIGTERM);
  Victim restarted(marker);  // what a supervisor would do
  EXPECT_EQ(restarted.wait_for_death(5s), SIGTERM);
  v1::RevertResponse reverted;
  ASSERT_TRUE(revert(response.fault().id(), &reverted).ok());
  Victim after_revert(marker);
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(after_revert.running()) << "killed after revert: state " << after_revert.state();
}

TEST_F(AgentProcessFaults, PausesAndResumesOnRevert) {
  Victim victim;
  v1::InjectResponse response;
  ASSERT_TRUE(inject(pause_pid(victim.pid(), 60), &response).ok());
  EXPECT_EQ(response.fault().state(), v1::FAULT_STATE_ACTIVE);
  EXPECT_EQ(victim.state(), 'T');
  // While live, the fault shows on /metrics, and promtool accepts the output.
  const std::string live_metrics = metrics(*agent_);
  EXPECT_NE(live_metrics.find("chaos_agent_fault_live{experiment=\"cag-exp\",kind=\"process.pause\",node=\"cag-node\","
                              "fault_id=\"" + response.fault().id() + "\",backend=\"signal\"} 1"),
            std::string::npos)
      << live_metrics;
  std::ofstream(dir_ / "metrics.txt") << live_metrics;
  EXPECT_EQ(std::system(("promtool check metrics < " + (dir_ / "metrics.txt").string()).c_str()), 0);
  v1::RevertResponse reverted;
  ASSERT_TRUE(revert(response.fault().id(), &reverted).ok());
  EXPECT_EQ(reverted.fault().state(), v1::FAULT_STATE_REVERTED);
  EXPECT_TRUE(victim.running()) << "state " << victim.state();
  EXPECT_EQ(metrics(*agent_).find("chaos_agent_fault_live{"), std::string::npos) << "the series ends with the fault";
  ASSERT_TRUE(revert(response.fault().id(), &reverted).ok());
  EXPECT_TRUE(reverted.already_reverted());
}

TEST_F(AgentProcessFaults, PauseEndsWithItsTtl) {
  Victim victim;
  v1::InjectResponse response;
  ASSERT_TRUE(inject(pause_pid(victim.pid(), 1), &response).ok());
  EXPECT_EQ(victim.state(), 'T');
  EXPECT_TRUE(eventually([&] { return victim.running(); }, 10s)) << "state " << victim.state();
}

// How soon after the TTL the revert comes is measured by bench, not here.
TEST_F(AgentProcessFaults, ExpiredLeaseRevertsTheFaultNoSoonerThanItsTtl) {
  Victim victim;
  auto request = pause_pid(victim.pid(), 60);
  request.set_lease_id("cag-lease");
  request.mutable_lease_ttl()->set_seconds(1);
  v1::InjectResponse response;
  ASSERT_TRUE(inject(request, &response).ok());
  // Renewed: the pause outlives several lease TTLs. The clock is read
  // before each renewal: the agent dates the new expiry while handling it,
  // before its answer gets back here.
  auto last_renewal = std::chrono::steady_clock::now();
  for (int i = 0; i < 12; ++i) {
    std::this_thread::sleep_for(200ms);
    last_renewal = std::chrono::steady_clock::now();
    ASSERT_TRUE(renew("cag-lease", 1).ok());
  }
  EXPECT_EQ(victim.state(), 'T');
  // The orchestrator "dies": no more renewals.
  ASSERT_TRUE(eventually([&] { return victim.running(); }, 10s, 10ms)) << "state " << victim.state();
  EXPECT_GE(std::chrono::steady_clock::now() - last_renewal, 1s) << "lease TTL 1 s";
  EXPECT_EQ(renew("cag-lease", 1).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(metrics(*agent_).find("chaos_agent_lease_expiries_total 1"), std::string::npos);
}

TEST_F(AgentProcessFaults, SigtermRevertsEverythingAndExitsZero) {
  Victim victim;
  v1::InjectResponse response;
  ASSERT_TRUE(inject(pause_pid(victim.pid(), 60), &response).ok());
  ASSERT_EQ(victim.state(), 'T');
  EXPECT_EQ(agent_->stop_with(SIGTERM), 0) << agent_->log();
  EXPECT_TRUE(victim.running()) << "state " << victim.state();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "state" / "journal"));
}

TEST_F(AgentProcessFaults, Kill9WhilePausedThenRestartResumesTheVictim) {
  Victim victim;
  v1::InjectResponse response;
  ASSERT_TRUE(inject(pause_pid(victim.pid(), 60), &response).ok());
  ASSERT_EQ(victim.state(), 'T');
  agent_->kill_hard();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(victim.state(), 'T') << "nothing reverts a SIGKILLed agent's faults but the next agent";
  EXPECT_FALSE(std::filesystem::is_empty(dir_ / "state" / "journal"));

  AgentProcess restarted((dir_ / "state").string(), (dir_ / "agent2.log").string());
  ASSERT_TRUE(restarted.start()) << restarted.log();
  EXPECT_TRUE(victim.running()) << "not resumed before the new agent serves: state " << victim.state() << "\n"
                                << restarted.log();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "state" / "journal"));
  EXPECT_NE(metrics(restarted).find("chaos_agent_journal_recoveries_total 1"), std::string::npos);
  grpc::ClientContext context;
  v1::ListRequest list;
  list.set_include_ended(true);
  v1::ListResponse listed;
  ASSERT_TRUE(restarted.stub().List(&context, list, &listed).ok());
  ASSERT_EQ(listed.faults_size(), 1);
  EXPECT_EQ(listed.faults(0).id(), response.fault().id());
  EXPECT_EQ(listed.faults(0).revert_reason(), "recovery");
}

TEST_F(AgentProcessFaults, RefusesInitItselfAndItsParent) {
  for (pid_t pid : {pid_t{1}, agent_->pid(), ::getpid()}) {
    v1::InjectRequest request;
    request.mutable_duration()->set_seconds(10);
    request.mutable_spec()->mutable_process_kill()->mutable_target()->set_pid(pid);
    v1::InjectResponse response;
    const auto status = inject(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << pid << ": " << status.error_message();
  }
  v1::InjectRequest nothing;
  nothing.mutable_duration()->set_seconds(10);
  nothing.mutable_spec()->mutable_process_pause()->mutable_target()->set_cmdline_regex("^" + unique_marker());
  v1::InjectResponse response;
  EXPECT_EQ(inject(nothing, &response).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Before the pidfile was opened non-blocking, a FIFO blocked the Inject in
// open() while it held the lock every revert needs: the pause below never
// ended. Now the kill is refused at once and the pause ends by its TTL.
TEST_F(AgentProcessFaults, FifoPidfileIsRefusedAndAPauseStillEndsByItsTtl) {
  Victim victim;
  v1::InjectResponse paused;
  ASSERT_TRUE(inject(pause_pid(victim.pid(), 2), &paused).ok());
  ASSERT_EQ(victim.state(), 'T');

  const std::string fifo = (dir_ / "victim.pid").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  v1::InjectRequest kill;
  kill.mutable_duration()->set_seconds(10);
  kill.mutable_spec()->mutable_process_kill()->mutable_target()->set_pidfile(fifo);
  v1::InjectResponse refused;
  const auto status = inject(kill, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_EQ(status.error_message(),
            "process_kill.target.pidfile: '" + fifo + "' is a FIFO, not a regular file");

  const bool resumed = eventually([&] { return victim.running(); }, 10s);
  EXPECT_TRUE(resumed) << "the 2 s pause did not end by its TTL; state " << victim.state();
}

// Before RE2, std::regex backtracked exponentially on this pattern (or
// overflowed its stack) inside the Inject, under the lock every revert needs.
TEST_F(AgentProcessFaults, PathologicalRegexOnAHugeCmdlineNeitherHangsNorCrashesTheAgent) {
  const std::string marker = unique_marker();
  // ~100 KiB of argv (one argument stays under the kernel's 128 KiB limit).
  Victim victim(marker + "-" + std::string(100 * 1024, 'a') + "b");
  ASSERT_EQ(victim.cmdline().size(), marker.size() + 1 + 100 * 1024 + 1 + std::string(" 300").size());

  v1::InjectRequest kill;
  kill.mutable_duration()->set_seconds(10);
  kill.mutable_spec()->mutable_process_kill()->mutable_target()->set_cmdline_regex(marker + "-(a|aa)*x");
  v1::InjectResponse response;
  const auto none = inject(kill, &response);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::NOT_FOUND) << none.error_message();
  EXPECT_FALSE(agent_->exited()) << "the agent crashed";
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::ListResponse listed;
  EXPECT_TRUE(agent_->stub().List(&context, v1::ListRequest(), &listed).ok()) << "a later RPC is answered";

  // The match is at the very end: the whole command line is searched.
  kill.mutable_spec()->mutable_process_kill()->mutable_target()->set_cmdline_regex(marker + "-(a|aa)*b ");
  const auto hit = inject(kill, &response);
  ASSERT_TRUE(hit.ok()) << hit.error_message();
  EXPECT_EQ(response.fault().detail(), "SIGKILL pids " + std::to_string(victim.pid()));
  EXPECT_EQ(victim.wait_for_death(5s), SIGKILL);
}

TEST_F(AgentProcessFaults, HealthServiceServes) {
  auto health = grpc::health::v1::Health::NewStub(agent_->channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(AgentProcessFaults, SecondAgentOnTheSameStateDirIsRefused) {
  AgentProcess second((dir_ / "state").string(), (dir_ / "agent2.log").string());
  EXPECT_FALSE(second.start());
  EXPECT_NE(second.log().find("in use by another chaos-agent"), std::string::npos) << second.log();
}

// gRPC binds with SO_REUSEPORT unless told not to: a second agent on the
// same address would start, share the port and take some of the new
// connections, so a revert could reach the agent that never injected.
TEST_F(AgentProcessFaults, SecondAgentOnTheSameGrpcAddressIsRefused) {
  const std::string address = "127.0.0.1:" + std::to_string(agent_->grpc_port());
  const std::string log_file = (dir_ / "agent2.log").string();
  pid_t second = spawn({AgentProcess::binary(), "--listen", address, "--metrics-listen", "127.0.0.1:0", "--state-dir",
                        (dir_ / "state2").string(), "--node-name", "cag-second"},
                       log_file);
  ASSERT_GT(second, 0);
  int status = 0;
  const bool exited = eventually([&] { return ::waitpid(second, &status, WNOHANG) == second; }, 20s);
  if (!exited) {
    safe_kill(second, SIGKILL);
    ::waitpid(second, nullptr, 0);
  }
  std::stringstream log;
  log << std::ifstream(log_file).rdbuf();
  ASSERT_TRUE(exited) << "a second agent is serving on " << address << ":\n" << log.str();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << log.str();
  EXPECT_NE(log.str().find("cannot listen for gRPC on " + address), std::string::npos) << log.str();
  // Every new connection still reaches the first agent.
  for (int connection = 0; connection < 8; ++connection) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = v1::Agent::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    v1::CapabilitiesResponse capabilities;
    ASSERT_TRUE(stub->Capabilities(&context, v1::CapabilitiesRequest(), &capabilities).ok());
    EXPECT_EQ(capabilities.node_name(), "cag-node") << "connection " << connection;
  }
}

}  // namespace
}  // namespace chaos::agent::integration

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

// Lab nodes are network namespaces sharing one pid namespace: with
// --process-scope netns an agent only sees the processes of its own node.
TEST(AgentProcessScope, NetnsScopeOnlyTouchesTheAgentsNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ip netns)";
  const std::string netns = "cag-scope-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("ip netns add " + netns).c_str()), 0);
  struct NetnsCleanup {
    std::string name;
    ~NetnsCleanup() { (void)std::system(("ip netns delete " + name + " 2>/dev/null").c_str()); }
  } cleanup{netns};
  const auto dir = std::filesystem::temp_directory_path() / netns;
  std::filesystem::create_directories(dir);
  const std::vector<std::string> in_netns = {"/usr/bin/env", "ip", "netns", "exec", netns};
  (void)std::system(("ip netns exec " + netns + " ip link set lo up").c_str());
  const std::string marker = "cag-scoped-" + std::to_string(::getpid());
  {
    Victim inside(marker, in_netns);
    Victim outside(marker);
    AgentProcess agent((dir / "state").string(), (dir / "agent.log").string(), {"--process-scope", "netns"},
                       in_netns);
    ASSERT_TRUE(agent.start()) << agent.log();
    // The agent listens on the namespace's loopback: reached through a bridge.
    LoopbackBridge bridge(netns, agent.grpc_port());
    ASSERT_EQ(bridge.error(), "");
    auto stub = v1::Agent::NewStub(grpc::CreateChannel(bridge.address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::InjectRequest request;
    request.mutable_duration()->set_seconds(10);
    request.mutable_spec()->mutable_process_kill()->mutable_target()->set_cmdline_regex("^" + marker + " ");
    v1::InjectResponse response;
    const auto status = stub->Inject(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message() << agent.log();
    EXPECT_EQ(response.fault().detail(), "SIGKILL pids " + std::to_string(inside.pid())) << agent.log();
    EXPECT_EQ(inside.wait_for_death(5s), SIGKILL);
    EXPECT_EQ(outside.state(), 'S') << "a process in another network namespace is out of scope";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chaos::agent::integration
