// Fan-out to many agents runs on a bounded number of threads: 200 agents
// never mean 200 concurrent calls (or threads), and the fleet commands name
// every fault an agent could not revert, with an exit code per outcome.
#include "orchestrator/run/agent_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "orchestrator/run/bounded_fan_out.h"
#include "orchestrator/commands/exit_codes.h"
#include "orchestrator/commands/fleet_commands.h"
#include "orchestrator/run/fault_ledger.h"
#include "orchestrator/run/run_outcome.h"
#include "tests/unit/orchestrator/run_fakes.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::FakeAgentFactory;
using testing::FakeFleet;
using testing::JumpingClock;

constexpr int kAgents = 200;

std::vector<AgentEndpoint> many_agents() {
  std::vector<AgentEndpoint> agents;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back({"10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":9700",
                      "n" + std::to_string(i), {}});
  }
  return agents;
}

std::vector<std::string> addresses(const std::vector<AgentEndpoint>& agents) {
  std::vector<std::string> result;
  for (const auto& agent : agents) result.push_back(agent.address);
  return result;
}

class AgentPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Each call waits until more calls than the bound are in flight (or a
    // moment passes): one thread per agent would show up as > 16.
    fleet_.probe.hold_until_above = static_cast<int>(BoundedFanOut::kDefaultLimit);
  }

  FakeFleet fleet_;
  FakeAgentFactory factory_{fleet_};
  const std::vector<AgentEndpoint> agents_ = many_agents();
};

TEST_F(AgentPoolTest, FanOutTo200AgentsKeepsAtMostThePoolSizeOfCallsInFlight) {
  AgentPool pool(factory_);
  const std::function<StatusOr<v1::CapabilitiesResponse>(AgentClient&)> ask =
      [](AgentClient& agent) { return agent.capabilities(); };
  const auto answers = pool.fan_out(addresses(agents_), ask);
  ASSERT_EQ(answers.size(), static_cast<size_t>(kAgents));
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok());
    EXPECT_EQ(answers[i]->node_name(), "node-" + agents_[i].address);  // results keep the order
  }
  EXPECT_EQ(fleet_.count("Capabilities"), static_cast<size_t>(kAgents));
  EXPECT_LE(fleet_.probe.max_in_flight(), static_cast<int>(BoundedFanOut::kDefaultLimit));
  EXPECT_GT(fleet_.probe.max_in_flight(), 1);  // still concurrent
}

TEST_F(AgentPoolTest, RunInjectAndRevertTo200AgentsKeepAtMostThePoolSizeOfCallsInFlight) {
  JumpingClock clock;
  RunJournal journal(clock);
  AgentPool pool(factory_);
  FaultLedger ledger(pool, journal, clock, RunIdentity{"exp-1", "exp-1-lease", 3s});
  MethodStep kill;
  kill.name = "kill";
  kill.kind = "process.kill";
  kill.duration = 10s;
  kill.spec.mutable_process_kill()->mutable_target()->set_name("sleep");
  kill.targets = agents_;
  ASSERT_TRUE(ledger.inject_group(StepGroup{{kill}}, 0).ok());
  EXPECT_EQ(fleet_.count("Inject"), static_cast<size_t>(kAgents));
  EXPECT_LE(fleet_.probe.max_in_flight(), static_cast<int>(BoundedFanOut::kDefaultLimit));

  EXPECT_TRUE(ledger.revert_everything(60s, 1s).empty());
  EXPECT_EQ(fleet_.count("RevertAll exp-1"), static_cast<size_t>(kAgents));
  EXPECT_LE(fleet_.probe.max_in_flight(), static_cast<int>(BoundedFanOut::kDefaultLimit));
}

TEST(BoundedFanOut, RunsEveryTaskAndRethrowsTheFirstExceptionOnTheCaller) {
  BoundedFanOut fan_out(4);
  std::atomic<int> ran{0};
  EXPECT_THROW(fan_out.for_each(50,
                                [&](size_t i) {
                                  ++ran;
                                  if (i % 10 == 3) throw std::runtime_error("task " + std::to_string(i));
                                }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 50);
}

TEST(BoundedFanOut, ZeroLimitStillRunsOnTheCallingThread) {
  BoundedFanOut fan_out(0);
  int ran = 0;  // no other thread may touch it
  fan_out.for_each(7, [&](size_t) { ++ran; });
  EXPECT_EQ(ran, 7);
}

// --- chaosctl halt / agents with fake agents.

class FleetCommandTest : public ::testing::Test {
 protected:
  void inject_on(const std::string& address) {
    v1::InjectRequest request;
    ASSERT_TRUE(pool_.client(address).inject(request).ok());
  }

  FakeFleet fleet_;
  FakeAgentFactory factory_{fleet_};
  AgentPool pool_{factory_};
  const std::vector<AgentEndpoint> agents_ = {{"10.0.0.1:9700", "n1", {}}, {"10.0.0.2:9700", "n2", {}}};
};

TEST_F(FleetCommandTest, HaltWithARevertFailedFaultIsNotConfirmedAndNamesIt) {
  fleet_.reverts_fail_on["10.0.0.2:9700"] = 1000;
  inject_on("10.0.0.1:9700");
  inject_on("10.0.0.2:9700");
  std::ostringstream out, err;
  EXPECT_EQ(halt_fleet(pool_, agents_, false, out, err), kExitPartial);  // n1 confirmed
  EXPECT_THAT(out.str(), HasSubstr("n1 (10.0.0.1:9700): reverted 1 fault(s)"));
  EXPECT_THAT(out.str(), HasSubstr("n2 (10.0.0.2:9700): NOT CONFIRMED: fault f2 (process.kill) REVERT_FAILED: "
                                   "SIGKILL sleep (revert failed: tc busy)"));
  EXPECT_THAT(err.str(), HasSubstr("halt not confirmed on 1 agent(s)"));

  std::ostringstream json;
  EXPECT_EQ(halt_fleet(pool_, agents_, true, json, err), kExitPartial);
  const auto report = nlohmann::json::parse(json.str());
  EXPECT_EQ(report[1]["ok"], false);
  ASSERT_EQ(report[1]["unconfirmed"].size(), 1u);
  EXPECT_THAT(report[1]["unconfirmed"][0].get<std::string>(), HasSubstr("fault f2 (process.kill) REVERT_FAILED"));
}

TEST_F(FleetCommandTest, HaltConfirmedWhenEveryFaultIsReverted) {
  inject_on("10.0.0.1:9700");
  std::ostringstream out, err;
  EXPECT_EQ(halt_fleet(pool_, agents_, false, out, err), 0) << out.str();
  EXPECT_TRUE(err.str().empty());
}

TEST_F(FleetCommandTest, AgentsCountsRevertFailedFaultsPerAgent) {
  fleet_.reverts_fail_on["10.0.0.2:9700"] = 1000;
  inject_on("10.0.0.2:9700");
  inject_on("10.0.0.2:9700");
  std::ostringstream halted, err;
  (void)halt_fleet(pool_, agents_, false, halted, err);  // both reverts fail
  std::ostringstream out;
  EXPECT_EQ(show_agents(pool_, agents_, false, out), 0);
  EXPECT_THAT(out.str(), HasSubstr("live faults: 2  !! REVERT_FAILED: 2"));
  EXPECT_THAT(out.str(), HasSubstr("!! f1  process.kill  REVERT_FAILED  signal"));
  std::ostringstream json;
  EXPECT_EQ(show_agents(pool_, agents_, true, json), 0);
  const auto report = nlohmann::json::parse(json.str());
  EXPECT_EQ(report[0]["revert_failed"], 0);
  EXPECT_EQ(report[1]["revert_failed"], 2);
}

TEST_F(FleetCommandTest, HaltExitsUnreachableWhenNoAgentAnswersAndPartialWhenOneDoes) {
  fleet_.revert_all_failures_left["10.0.0.1:9700"] = 2;
  fleet_.revert_all_failures_left["10.0.0.2:9700"] = 1;
  std::ostringstream out, err;
  EXPECT_EQ(halt_fleet(pool_, agents_, false, out, err), kExitUnreachable) << out.str();
  EXPECT_EQ(halt_fleet(pool_, agents_, false, out, err), kExitPartial) << out.str();  // n2 answers now
  EXPECT_THAT(out.str(), HasSubstr("n1 (10.0.0.1:9700): FAILED: agent 10.0.0.1:9700 busy"));
}

TEST_F(FleetCommandTest, AgentsExitsUnreachableOrPartialByHowManyAnswer) {
  std::ostringstream out;
  fleet_.unreachable = {"10.0.0.2:9700"};
  EXPECT_EQ(show_agents(pool_, agents_, false, out), kExitPartial);
  EXPECT_THAT(out.str(), HasSubstr("n2 (10.0.0.2:9700): UNREACHABLE"));
  fleet_.unreachable = {"10.0.0.1:9700", "10.0.0.2:9700"};
  EXPECT_EQ(show_agents(pool_, agents_, false, out), kExitUnreachable);
}

// --- The exit code table (exit_codes.h).

TEST(ExitCodes, AgentStatusesMapToUnreachableRefusedOrFailed) {
  EXPECT_EQ(agent_outcome(Status{}), AgentOutcome::kOk);
  EXPECT_EQ(agent_outcome(unavailable("connection refused")), AgentOutcome::kUnreachable);
  EXPECT_EQ(agent_outcome(deadline_exceeded("5s")), AgentOutcome::kUnreachable);
  EXPECT_EQ(agent_outcome(permission_denied("policy: kind not allowed")), AgentOutcome::kRefused);
  EXPECT_EQ(agent_outcome(invalid_argument("duration: exceeds this agent's limit")), AgentOutcome::kRefused);
  EXPECT_EQ(agent_outcome(failed_precondition("scope overlaps live fault f1")), AgentOutcome::kRefused);
  EXPECT_EQ(agent_outcome(resource_exhausted("live faults: 64")), AgentOutcome::kRefused);
  EXPECT_EQ(agent_outcome(not_found("fault f9")), AgentOutcome::kFailed);
  EXPECT_EQ(agent_outcome(internal_error("revert failed")), AgentOutcome::kFailed);
}

TEST(ExitCodes, OneAgentsOutcomeIsTheCommandsCode) {
  EXPECT_EQ(single_agent_exit_code(AgentOutcome::kOk), kExitOk);
  EXPECT_EQ(single_agent_exit_code(AgentOutcome::kUnreachable), kExitUnreachable);
  EXPECT_EQ(single_agent_exit_code(AgentOutcome::kRefused), kExitRefused);
  EXPECT_EQ(single_agent_exit_code(AgentOutcome::kFailed), kExitError);
}

TEST(ExitCodes, FleetIsPartialWhenSomeAgentsDidWhatWasAsked) {
  using enum AgentOutcome;
  EXPECT_EQ(fleet_exit_code({kOk, kOk}), kExitOk);
  EXPECT_EQ(fleet_exit_code({kOk, kUnreachable}), kExitPartial);
  EXPECT_EQ(fleet_exit_code({kRefused, kOk, kFailed}), kExitPartial);
  EXPECT_EQ(fleet_exit_code({kUnreachable, kUnreachable}), kExitUnreachable);
  EXPECT_EQ(fleet_exit_code({kRefused}), kExitRefused);
  EXPECT_EQ(fleet_exit_code({kFailed, kFailed}), kExitError);
  EXPECT_EQ(fleet_exit_code({kUnreachable, kRefused}), kExitError);  // no one reason
}

TEST(ExitCodes, RunsVerdictCodesAreTheTablesAndTheNewCodesAreDistinct) {
  EXPECT_EQ(exit_code(Verdict::kHeld), kExitOk);
  EXPECT_EQ(exit_code(Verdict::kViolated), kExitViolated);
  EXPECT_EQ(exit_code(Verdict::kAborted), kExitAborted);
  EXPECT_EQ(exit_code(Verdict::kError), kExitError);
  const std::set<int> codes = {kExitOk, kExitViolated, kExitAborted, kExitError,
                               kExitUsage, kExitUnreachable, kExitRefused, kExitPartial};
  EXPECT_EQ(codes.size(), 8u);
}

}  // namespace
}  // namespace chaos::orchestrator
