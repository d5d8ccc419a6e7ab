#include "orchestrator/run/experiment_run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

#include "orchestrator/experiment/fault_spec_builder.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/junit_writer.h"
#include "orchestrator/run/plan_printer.h"
#include "orchestrator/run/progress_printer.h"
#include "orchestrator/report/html_report.h"
#include "orchestrator/report/report_data.h"
#include "tests/unit/orchestrator/run_fakes.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::FakeAgentFactory;
using testing::FakeFleet;
using testing::FakePrometheus;
using testing::JumpingClock;

Experiment two_agent_experiment() {
  Experiment experiment;
  experiment.title = "Kill both";
  experiment.settings.lease_ttl = 3s;
  experiment.settings.during_interval = 2s;
  experiment.steady_state.push_back({{"ratio", "ratio", Comparator::kGreaterEqual, 0.99}});
  experiment.aborts.push_back({{"stopped", "rate", Comparator::kLess, 1}});
  MethodStep kill;
  kill.name = "kill";
  kill.kind = "process.kill";
  kill.duration = 10s;
  kill.spec.mutable_process_kill()->mutable_target()->set_name("sleep");
  kill.targets = {{"10.0.0.1:9700", "a", {}}, {"10.0.0.2:9700", "b", {}}};
  MethodStep wait;
  wait.name = "pause";
  wait.kind = "wait";
  wait.duration = 5s;
  experiment.method = {kill, wait};
  experiment.agents = kill.targets;
  experiment.recovery_within = 20s;
  return experiment;
}

class RunTest : public ::testing::Test {
 protected:
  // ratio and rate as functions of seconds since the start.
  RunOutcome run(std::function<std::string(double)> ratio, std::function<std::string(double)> rate = {}) {
    prometheus_ = std::make_unique<FakePrometheus>(clock_, [=](const std::string& query, double t) {
      if (query == "ratio") return std::optional<std::string>(ratio(t));
      return std::optional<std::string>(rate ? rate(t) : "10");
    });
    if (no_data_) prometheus_ = std::make_unique<FakePrometheus>(clock_, [](const std::string&, double) {
                    return std::optional<std::string>();
                  });
    prometheus_->range_fails = prometheus_range_fails_;
    prometheus_->on_ingest_query = prometheus_on_ingest_query_;
    RunContext context{experiment_, *prometheus_, factory_, clock_, journal_, interrupted_,
                       RunIdentity{"exp-1", "exp-1-lease", 3s}};
    context.revert_give_up_after = give_up_after_;
    return ExperimentRun(context).run();
  }
  size_t evaluations_in(const std::string& phase) {
    size_t n = 0;
    for (const auto& record : journal_.evaluations()) n += record.phase == phase ? 1 : 0;
    return n;
  }

  Experiment experiment_ = two_agent_experiment();
  JumpingClock clock_;
  FakeFleet fleet_;
  FakeAgentFactory factory_{fleet_};
  RunJournal journal_{clock_};
  std::atomic<bool> interrupted_{false};
  std::unique_ptr<FakePrometheus> prometheus_;
  bool no_data_ = false;
  bool prometheus_range_fails_ = false;
  std::function<void()> prometheus_on_ingest_query_;
  std::chrono::nanoseconds give_up_after_ = 60s;
};

TEST_F(RunTest, HeldWhenEverySloHolds) {
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_EQ(exit_code(outcome.verdict), 0);
  EXPECT_EQ(fleet_.count("Inject"), 2u);
  EXPECT_EQ(fleet_.count("RevertAll exp-1"), 2u);
  EXPECT_GE(fleet_.count("RenewLease exp-1-lease"), 2u);  // every lease_ttl/3 while faults live
  EXPECT_EQ(fleet_.count("Revert f"), 2u);                // each fault reverted when its 10s end
  EXPECT_GE(clock_.elapsed(), 15s);
  EXPECT_TRUE(outcome.recovered);
  // Every after-check held from the last revert on (the kill step ends at
  // 10 s); the 5 s wait step after it is not the recovery's.
  EXPECT_EQ(outcome.time_to_recovery, 0s);
  EXPECT_TRUE(outcome.recovery_from_range_data);
  EXPECT_EQ(outcome.recovery_resolution, 1s);
  EXPECT_FALSE(outcome.time_to_detect.has_value()) << "nothing was violated";
  EXPECT_GT(evaluations_in("during"), 5u);
  EXPECT_EQ(evaluations_in("after"), 1u);
}

TEST_F(RunTest, DuringViolationMakesVerdictViolatedWithoutAborting) {
  const RunOutcome outcome = run([](double t) { return t > 1 && t < 9 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  EXPECT_EQ(exit_code(outcome.verdict), 1);
  ASSERT_EQ(outcome.failed_checks.size(), 1u);
  EXPECT_THAT(outcome.failed_checks[0], HasSubstr("ratio [during]: 0.5 >= 0.99 failed"));
  EXPECT_GE(clock_.elapsed(), 15s);  // the method ran to its end
}

TEST_F(RunTest, AbortConditionRevertsEverythingAtOnce) {
  const RunOutcome outcome = run([](double) { return "1"; }, [](double t) { return t >= 4 ? "0" : "10"; });
  EXPECT_EQ(outcome.verdict, Verdict::kAborted);
  EXPECT_EQ(exit_code(outcome.verdict), 2);
  EXPECT_EQ(outcome.aborted_by, "stopped");
  EXPECT_EQ(fleet_.count("RevertAll exp-1"), 2u);
  EXPECT_EQ(fleet_.count("Revert f"), 0u);  // aborted before the faults' own end
  EXPECT_LT(clock_.elapsed(), 10s);
}

TEST_F(RunTest, FailingSteadyStateBeforeInjectsNothing) {
  const RunOutcome outcome = run([](double) { return "0.5"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  EXPECT_THAT(outcome.reason, HasSubstr("nothing was injected"));
  EXPECT_EQ(fleet_.count("Inject"), 0u);
}

TEST_F(RunTest, NoDataInPreflightIsAnErrorAndInjectsNothing) {
  no_data_ = true;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_EQ(exit_code(outcome.verdict), 3);
  EXPECT_THAT(outcome.reason, HasSubstr("query 'ratio' returns no data"));
  EXPECT_EQ(fleet_.count("Inject"), 0u);
}

TEST_F(RunTest, UnreachableAgentFailsPreflight) {
  fleet_.unreachable.insert("10.0.0.2:9700");
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_THAT(outcome.reason, HasSubstr("agent 10.0.0.2:9700 unreachable"));
  EXPECT_EQ(fleet_.count("Inject"), 0u);
}

TEST_F(RunTest, MissingFaultKindFailsPreflight) {
  experiment_.method[0].kind = "dns.fail";
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_THAT(outcome.reason, HasSubstr("does not offer fault kind dns.fail"));
}

TEST_F(RunTest, AgentThatRefusesADryRunFailsPreflightBeforeAnyInject) {
  fleet_.dry_run_supported = true;
  fleet_.dry_run_refusals["10.0.0.2:9700"] = "policy: fault kind 'process.kill' is not in allowed_kinds";
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_THAT(outcome.reason, HasSubstr("step 'kill' (process.kill): dry run refused: policy: fault kind"));
  EXPECT_EQ(fleet_.count("DryRun"), 2u) << "every target agent is asked";
  EXPECT_EQ(fleet_.count(" Inject"), 0u) << "nothing is injected";
}

TEST_F(RunTest, AgentsWithoutDryRunAreNotAskedToDryRun) {
  // An agent from before dry runs would ignore the flag and apply the fault.
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_EQ(fleet_.count("DryRun"), 0u);
}

TEST_F(RunTest, RevertIsRetriedUntilEveryAgentConfirms) {
  fleet_.revert_all_failures_left["10.0.0.1:9700"] = 3;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_EQ(fleet_.count("10.0.0.1:9700 RevertAll"), 4u);
  EXPECT_EQ(fleet_.count("10.0.0.2:9700 RevertAll"), 1u);
  EXPECT_TRUE(outcome.unreverted.empty());
}

TEST_F(RunTest, RevertNeverConfirmedIsAnError) {
  fleet_.revert_all_failures_left["10.0.0.2:9700"] = 1000;
  give_up_after_ = 5s;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  ASSERT_EQ(outcome.unreverted.size(), 1u);
  EXPECT_THAT(outcome.unreverted[0], HasSubstr("10.0.0.2:9700: agent 10.0.0.2:9700 busy"));
}

TEST_F(RunTest, CtrlCRevertsAndSkipsRecovery) {
  fleet_.on_inject = [this](const std::string&) { interrupted_ = true; };
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kAborted);
  EXPECT_EQ(outcome.aborted_by, "interrupted");
  EXPECT_EQ(fleet_.count("RevertAll exp-1"), 2u);
  EXPECT_EQ(evaluations_in("recovery"), 0u);
  EXPECT_EQ(evaluations_in("after"), 0u);
  EXPECT_LT(clock_.elapsed(), 1s);
}

TEST_F(RunTest, TimeToRecoveryIsMeasuredAfterRevert) {
  const RunOutcome outcome = run([](double t) { return t >= 10 && t < 21 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  ASSERT_TRUE(outcome.time_to_recovery.has_value());
  // Faults reverted at 10 s; recovery checks at 15, 17, 19 fail, 21 holds.
  EXPECT_EQ(*outcome.time_to_recovery, 11s);
  EXPECT_TRUE(outcome.recovered);
  ASSERT_TRUE(outcome.last_revert_at && outcome.recovered_at);
  EXPECT_EQ(*outcome.recovered_at - *outcome.last_revert_at, 11s);
  const auto journal = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                       {clock_.wall_now(), clock_.wall_now()});
  EXPECT_EQ(journal["verdict"]["time_to_recovery_seconds"], 11.0);
  EXPECT_EQ(journal["verdict"]["last_revert_at"], format_rfc3339(*outcome.last_revert_at));
  EXPECT_EQ(journal["verdict"]["recovered_at"], format_rfc3339(*outcome.recovered_at));
}

// The recovery checks only start after the wait step (at 15 s); the range
// data dates the recovery at 13 s, 3 s after the last revert.
TEST_F(RunTest, RecoveryIsDatedFromRangeDataNotFromTheFirstRecoveryCheck) {
  const RunOutcome outcome = run([](double t) { return t >= 10 && t < 12.5 ? "0.5" : "1"; });
  ASSERT_TRUE(outcome.time_to_recovery.has_value());
  EXPECT_EQ(*outcome.time_to_recovery, 3s);
  EXPECT_TRUE(outcome.recovered);
  EXPECT_EQ(*outcome.recovered_at - *outcome.last_revert_at, 3s);
  bool first_check_noted = false;
  for (const auto& event : journal_.events()) {
    first_check_noted |= event.message.rfind("first recovery check passed", 0) == 0;
  }
  EXPECT_TRUE(first_check_noted);
}

TEST_F(RunTest, TimeToDetectIsTheFirstViolatedDuringSampleAfterTheInjection) {
  const RunOutcome outcome = run([](double t) { return t >= 4.5 && t < 7 ? "0.5" : "1"; });
  ASSERT_TRUE(outcome.time_to_detect.has_value());
  EXPECT_EQ(*outcome.time_to_detect, 5s);  // the first 1 s step at or after 4.5 s
  ASSERT_TRUE(outcome.detected_at.has_value());
  EXPECT_EQ(*outcome.detected_at, JumpingClock().wall_now() + 5s);  // injected at 0 s
  const auto journal = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                       {clock_.wall_now(), clock_.wall_now()});
  EXPECT_EQ(journal["verdict"]["time_to_detect_seconds"], 5.0);
  EXPECT_EQ(journal["verdict"]["detected_at"], format_rfc3339(*outcome.detected_at));
  EXPECT_EQ(journal["verdict"]["recovery_resolution_seconds"], 1.0);
  EXPECT_EQ(journal["verdict"]["recovery_source"], "prometheus_range");
  EXPECT_EQ(journal["experiment"]["settings"]["recovery_step"], "1s");
}

// The recovery check at 16.5 s ends the run on a sample the 1 s grid only
// reaches at 17 s: the grid runs to its first instant at or after the end,
// or the run would be judged on the older sample at 16 s.
TEST_F(RunTest, TheRangeGridReachesTheEndOfTheRunSoTheLastRecoveryCheckCounts) {
  experiment_.settings.during_interval = 1500ms;
  const RunOutcome outcome = run([](double t) { return t >= 10 && t < 16.2 ? "0.5" : "1"; });
  EXPECT_TRUE(outcome.recovery_from_range_data);
  EXPECT_TRUE(outcome.recovered) << outcome.reason;
  EXPECT_EQ(outcome.time_to_recovery, 7s);
}

// Ctrl-C during the last checks of one step: the next step's faults are
// not injected (and then reverted) on every target.
TEST_F(RunTest, CtrlCAtTheEndOfAStepInjectsNoMore) {
  MethodStep second = experiment_.method[0];
  second.name = "kill again";
  second.duration = 5s;
  experiment_.method[1] = second;
  const RunOutcome outcome = run([this](double t) {
    if (t >= 9.5) interrupted_ = true;
    return "1";
  });
  EXPECT_EQ(outcome.verdict, Verdict::kAborted) << outcome.reason;
  EXPECT_EQ(outcome.aborted_by, "interrupted");
  EXPECT_EQ(fleet_.count("Inject"), 2u) << "the second step was injected after the interrupt";
  EXPECT_EQ(fleet_.count("RevertAll exp-1"), 2u);
}

TEST_F(RunTest, CtrlCWhileTheRangeDataIsReadIsAnInterruptNotAVerdict) {
  prometheus_on_ingest_query_ = [this] { interrupted_ = true; };
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kAborted) << outcome.reason;
  EXPECT_EQ(outcome.aborted_by, "interrupted");
}

TEST_F(RunTest, RecoveryStepSetsTheResolution) {
  experiment_.settings.recovery_step = 500ms;
  const RunOutcome outcome = run([](double t) { return t >= 10 && t < 12.2 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.recovery_resolution, 500ms);
  EXPECT_EQ(outcome.time_to_recovery, 2500ms);
}

TEST_F(RunTest, ARecoveryLaterThanWithinIsAFailedCheckEvenWhenTheCheckPassed) {
  experiment_.recovery_within = 8s;
  experiment_.method[1].duration = 16s;  // the recovery phase starts 16 s after the revert
  const RunOutcome outcome = run([](double t) { return t >= 10 && t < 20 ? "0.5" : "1"; },
                                 [](double) { return "10"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  EXPECT_EQ(outcome.time_to_recovery, 10s);
  EXPECT_FALSE(outcome.recovered);
  EXPECT_THAT(outcome.failed_checks,
              ::testing::Contains(HasSubstr("recovery: steady state held again only 10.0 s after the last revert, "
                                            "later than 8s (Prometheus range data, 1 s resolution)")));
}

TEST_F(RunTest, WithoutRangeDataTheFirstRecoveryCheckIsTheFigure) {
  prometheus_range_fails_ = true;
  const RunOutcome outcome = run([](double t) { return t >= 4 && t < 16 ? "0.5" : "1"; });
  EXPECT_FALSE(outcome.recovery_from_range_data);
  EXPECT_EQ(outcome.time_to_recovery, 7s);  // recovery checks at 15 (fails) and 17
  EXPECT_TRUE(outcome.recovered);
  EXPECT_EQ(outcome.recovery_resolution, 2s);
  EXPECT_FALSE(outcome.time_to_detect.has_value());
  bool error_named = false;
  for (const auto& event : journal_.events()) {
    error_named |= event.type == "error" && event.message.find("range query of 'ratio' failed") != std::string::npos;
  }
  EXPECT_TRUE(error_named);
}

TEST_F(RunTest, NoRecoveryWithinTheWindowIsAFailedCheck) {
  const RunOutcome outcome = run([](double t) { return t >= 10 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated);
  EXPECT_FALSE(outcome.recovered);
  EXPECT_THAT(outcome.failed_checks, ::testing::Contains(HasSubstr("recovery: steady state did not hold again within 20s")));
}

TEST_F(RunTest, JournalAndJunitRecordTheRun) {
  const RunOutcome outcome = run([](double t) { return t > 1 && t < 9 ? "NaN" : "1"; });
  const RunIdentity identity{"exp-1", "exp-1-lease", 3s};
  const auto json = journal_to_json(experiment_, identity, journal_, outcome, {clock_.wall_now(), clock_.wall_now()});
  EXPECT_EQ(json["verdict"]["result"], "violated");
  EXPECT_EQ(json["verdict"]["exit_code"], 1);
  EXPECT_EQ(json["faults"].size(), 2u);
  EXPECT_FALSE(json["faults"][0]["reverted_at"].is_null());
  bool saw_nan = false;
  for (const auto& evaluation : json["evaluations"]) {
    if (evaluation["value_text"] == "NaN") saw_nan = evaluation["value"].is_null() && evaluation["pass"] == false;
  }
  EXPECT_TRUE(saw_nan);
  EXPECT_EQ(json["experiment"]["method"][0]["spec"]["process_kill"]["target"]["name"], "sleep");
  const std::string junit = render_junit(experiment_, journal_, outcome, 1.0);
  EXPECT_THAT(junit, HasSubstr("name=\"ratio [before]\"></testcase>"));
  EXPECT_THAT(junit, HasSubstr("name=\"ratio [during]\"><failure"));
  EXPECT_THAT(junit, HasSubstr("tests=\"5\" failures=\"1\" errors=\"0\""));
  EXPECT_THAT(junit, HasSubstr("name=\"faults ran as planned\"></testcase>"));
}

// --- revert confirmation: only a fault the agent reports REVERTED is gone.

TEST_F(RunTest, RevertAllReturningARevertFailedFaultIsUnconfirmedAndNamed) {
  // The fault on 10.0.0.1 cannot be reverted: Revert says INTERNAL, and
  // RevertAll answers OK but returns it with state REVERT_FAILED.
  fleet_.reverts_fail_on["10.0.0.1:9700"] = 1000;
  give_up_after_ = 5s;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_EQ(exit_code(outcome.verdict), 3);
  ASSERT_EQ(outcome.unreverted.size(), 1u);
  const std::string stuck = fleet_.live_on("10.0.0.1:9700").at(0);
  EXPECT_THAT(outcome.unreverted[0], HasSubstr("10.0.0.1:9700: fault " + stuck + " (process.kill) REVERT_FAILED: "
                                               "SIGKILL sleep (revert failed: tc busy)"));
  EXPECT_THAT(outcome.reason, HasSubstr("never confirmed"));
  EXPECT_GT(fleet_.count("10.0.0.1:9700 RevertAll"), 1u);  // retried within the give-up window
  EXPECT_EQ(fleet_.count("10.0.0.2:9700 RevertAll"), 1u);
}

TEST_F(RunTest, RevertFailedFaultIsRetriedUntilTheAgentReportsItReverted) {
  experiment_.method[0].duration = 2s;  // ends at 2 s; Revert retries each second until teardown at 7 s
  fleet_.reverts_fail_on["10.0.0.1:9700"] = 8;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_TRUE(outcome.unreverted.empty());
  EXPECT_GT(fleet_.count("10.0.0.1:9700 RevertAll"), 1u);
  EXPECT_TRUE(fleet_.live_on("10.0.0.1:9700").empty());
}

// --- faults their agent ended before their time: never "held".

const EarlyEnd* early_end_on(const RunOutcome& outcome, const std::string& agent) {
  for (const auto& end : outcome.ended_early) {
    if (end.agent == agent) return &end;
  }
  return nullptr;
}

TEST_F(RunTest, LeaseRenewalNotFoundMakesTheRunAnErrorNamingTheFault) {
  std::ostringstream progress;
  ProgressPrinter printer(progress, false);
  journal_.add_observer(&printer);
  std::string lost;
  fleet_.on_renew = [&lost](FakeFleet& fleet, const std::string& address) {
    if (address != "10.0.0.1:9700" || !lost.empty()) return;
    lost = fleet.live_on(address).at(0);
    fleet.lose_lease(address);  // the agent reverted the lease's faults
  };
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_EQ(exit_code(outcome.verdict), 3);
  ASSERT_EQ(outcome.ended_early.size(), 1u);
  const EarlyEnd& end = outcome.ended_early[0];
  EXPECT_EQ(end.agent, "10.0.0.1:9700");
  EXPECT_EQ(end.fault_id, lost);
  EXPECT_EQ(end.kind, "process.kill");
  EXPECT_EQ(end.reason, "lease");
  EXPECT_THAT(outcome.reason, HasSubstr("fault " + lost + " (process.kill) on 10.0.0.1:9700 [a] ended early: lease"));
  EXPECT_EQ(fleet_.count("10.0.0.1:9700 Revert f"), 0u);  // nothing left to revert there
  EXPECT_EQ(fleet_.count("10.0.0.2:9700 Revert f"), 1u);

  // Progress output, journal.json, JUnit and report.html all name it.
  EXPECT_THAT(progress.str(), HasSubstr("early_end: fault " + lost + " (process.kill) on 10.0.0.1:9700"));
  const auto json = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                    {clock_.wall_now(), clock_.wall_now()});
  EXPECT_EQ(json["verdict"]["result"], "error");
  EXPECT_EQ(json["verdict"]["exit_code"], 3);
  ASSERT_EQ(json["verdict"]["ended_early"].size(), 1u);
  EXPECT_EQ(json["verdict"]["ended_early"][0]["fault_id"], lost);
  EXPECT_EQ(json["verdict"]["ended_early"][0]["reason"], "lease");
  bool fault_marked = false, event_logged = false;
  for (const auto& fault : json["faults"]) {
    if (fault["fault_id"] != lost) continue;
    fault_marked = fault["ended_early"] == true && fault["revert_reason"] == "lease" && !fault["reverted_at"].is_null();
  }
  for (const auto& event : json["events"]) {
    event_logged = event_logged || (event["type"] == "early_end" &&
                                    event["message"].get<std::string>().find(lost) != std::string::npos);
  }
  EXPECT_TRUE(fault_marked) << json["faults"].dump();
  EXPECT_TRUE(event_logged);
  const std::string junit = render_junit(experiment_, journal_, outcome, 1.0);
  EXPECT_THAT(junit, HasSubstr("name=\"faults ran as planned\"><error message=\"1 fault(s) ended early: fault " +
                               lost + " (process.kill) on 10.0.0.1:9700 [a] ended early: lease"));
  EXPECT_THAT(junit, HasSubstr("errors=\"1\""));
  auto report = report::parse_report(json);
  ASSERT_TRUE(report.ok()) << report.status().message();
  const std::string html = report::render_report_html(*report);
  EXPECT_THAT(html, HasSubstr("class=\"verdict verdict-error\""));
  EXPECT_THAT(html, HasSubstr("ENDED EARLY: fault <code>" + lost +
                              "</code> (process.kill) on <code>10.0.0.1:9700</code>"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"fault ended-early\">"));
}

TEST_F(RunTest, AlreadyRevertedByLeaseMakesTheRunAnError) {
  // The agent's List still shows the fault; its Revert answer says it ended
  // already, by lease expiry.
  fleet_.revert_says_ended["10.0.0.2:9700"] = "lease";
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_EQ(exit_code(outcome.verdict), 3);
  ASSERT_EQ(outcome.ended_early.size(), 1u);
  EXPECT_EQ(outcome.ended_early[0].agent, "10.0.0.2:9700");
  EXPECT_EQ(outcome.ended_early[0].reason, "lease");
  EXPECT_THAT(outcome.reason, HasSubstr("on 10.0.0.2:9700 [b] ended early: lease"));
}

TEST_F(RunTest, AlreadyRevertedByTtlIsThePlannedEnd) {
  fleet_.revert_says_ended["10.0.0.2:9700"] = "ttl";
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_TRUE(outcome.ended_early.empty());
}

TEST_F(RunTest, FaultMissingFromTheAgentsListEndedEarly) {
  fleet_.on_renew = [](FakeFleet& fleet, const std::string& address) {
    if (address == "10.0.0.2:9700") fleet.forget_all(address);  // the agent restarted
  };
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  const EarlyEnd* end = early_end_on(outcome, "10.0.0.2:9700");
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->reason, "missing");
}

TEST_F(RunTest, AgentShutdownSeenInTheListEndedEarly) {
  fleet_.on_renew = [](FakeFleet& fleet, const std::string& address) {
    if (address == "10.0.0.1:9700") fleet.end_all(address, "shutdown");
  };
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  const EarlyEnd* end = early_end_on(outcome, "10.0.0.1:9700");
  ASSERT_NE(end, nullptr);
  EXPECT_EQ(end->reason, "shutdown");
}

TEST_F(RunTest, ViolatedRunWithAnEarlyEndStaysViolated) {
  fleet_.on_renew = [](FakeFleet& fleet, const std::string& address) {
    if (address == "10.0.0.1:9700") fleet.lose_lease(address);
  };
  const RunOutcome outcome = run([](double t) { return t > 1 && t < 9 ? "0.5" : "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kViolated) << outcome.reason;
  EXPECT_EQ(exit_code(outcome.verdict), 1);
  ASSERT_EQ(outcome.ended_early.size(), 1u);  // still recorded
  EXPECT_EQ(outcome.ended_early[0].reason, "lease");
}

TEST_F(RunTest, AbortedRunWithAnEarlyEndStaysAborted) {
  fleet_.on_renew = [](FakeFleet& fleet, const std::string& address) {
    if (address == "10.0.0.1:9700") fleet.lose_lease(address);
  };
  const RunOutcome outcome = run([](double) { return "1"; }, [](double t) { return t >= 4 ? "0" : "10"; });
  EXPECT_EQ(outcome.verdict, Verdict::kAborted) << outcome.reason;
  EXPECT_EQ(exit_code(outcome.verdict), 2);
  EXPECT_EQ(outcome.ended_early.size(), 1u);
}

// --- an exception still reverts every fault and ends in "error".

class ThrowingPrometheus final : public PrometheusClient {
 public:
  ThrowingPrometheus(const JumpingClock& clock, double throw_after) : clock_(clock), throw_after_(throw_after) {}
  StatusOr<QueryResult> instant_query(const std::string&) override {
    const double seconds = std::chrono::duration<double>(clock_.elapsed()).count();
    if (seconds >= throw_after_) throw std::runtime_error("decoder blew up");
    QueryResult result;
    result.result_type = "vector";
    Series series;
    series.points.push_back({seconds, "1", 1.0});
    result.series.push_back(series);
    return result;
  }
  StatusOr<QueryResult> range_query(const std::string& query, WallTime, WallTime, std::chrono::milliseconds) override {
    return instant_query(query);
  }
  Status check_ready() override { return {}; }

 private:
  const JumpingClock& clock_;
  double throw_after_;
};

TEST_F(RunTest, ExceptionDuringTheMethodStillRevertsEverything) {
  ThrowingPrometheus prometheus(clock_, 3);
  RunContext context{experiment_, prometheus, factory_, clock_, journal_, interrupted_,
                     RunIdentity{"exp-1", "exp-1-lease", 3s}};
  RunOutcome outcome;
  EXPECT_NO_THROW(outcome = ExperimentRun(context).run());
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_THAT(outcome.reason, HasSubstr("internal error: decoder blew up"));
  EXPECT_EQ(fleet_.count("RevertAll exp-1"), 2u);
  EXPECT_TRUE(fleet_.live_on("10.0.0.1:9700").empty());
  EXPECT_TRUE(fleet_.live_on("10.0.0.2:9700").empty());
}

TEST(ExperimentId, IsASlugWithTimeAndSuffix) {
  const std::string id = make_experiment_id("Kill one broker!", WallTime(std::chrono::seconds(1700000000)), 0xabcd);
  EXPECT_EQ(id, "kill-one-broker-20231114T221320Z-abcd");
}

TEST(Junit, EscapesHostileNames) {
  EXPECT_EQ(xml_escape("a<b>&\"'\x01"), "a&lt;b&gt;&amp;&quot;&apos;");
  // Not UTF-8 (a Latin-1 proxy page, a reply cut inside a character) and
  // U+FFFF would make junit.xml ill-formed: U+FFFD instead; UTF-8 stays.
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(xml_escape("caf\xE9 <b>"), "caf" + replacement + " &lt;b&gt;");
  EXPECT_EQ(xml_escape("cut \xE2\x80"), "cut " + replacement);
  EXPECT_EQ(xml_escape("\xEF\xBF\xBF"), replacement);
  EXPECT_EQ(xml_escape("\xE2\x80\xA6 \xE6\x97\xA5"), "\xE2\x80\xA6 \xE6\x97\xA5");
}

// --- Progress lines: an abort condition that did not fire is the good case.

EvaluationRecord abort_record(const std::string& value, bool fired) {
  Evaluation evaluation;
  evaluation.name = "stopped";
  evaluation.comparator = Comparator::kLess;
  evaluation.threshold = 0.2;
  evaluation.has_data = true;
  evaluation.holds = fired;
  evaluation.value_text = value;
  return {WallTime{}, "during", "abort", evaluation};
}

TEST(ProgressPrinter, AbortConditionThatDidNotFireReadsNotTriggeredNeverFailed) {
  std::ostringstream out;
  ProgressPrinter printer(out, false);
  printer.on_evaluation(abort_record("0.5", false));
  EXPECT_THAT(out.str(), HasSubstr("during abort 'stopped': 0.5 < 0.2 not triggered\n"));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("failed")));
  printer.on_evaluation(abort_record("0.1", true));
  EXPECT_THAT(out.str(), HasSubstr("during abort 'stopped': 0.1 < 0.2 TRIGGERED\n"));
}

TEST(ProgressPrinter, OnATerminalAnAbortThatDidNotFireOnlyUpdatesTheStatusLine) {
  std::ostringstream out;
  ProgressPrinter printer(out, true);
  printer.on_progress("method", 10s);
  printer.on_evaluation(abort_record("0.5", false));
  EXPECT_THAT(out.str(), HasSubstr("stopped: 0.5 < 0.2 not triggered"));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("\n")));  // no line of its own
  printer.on_evaluation(abort_record("0.1", true));
  EXPECT_THAT(out.str(), HasSubstr("during abort 'stopped': 0.1 < 0.2 TRIGGERED\n"));
}

// An agent's error text and a Prometheus error (or a proxy's page) are
// printed as they come: their control characters must not reach a terminal.
TEST(ProgressPrinter, ControlCharactersFromAgentsAndPrometheusAreNotPrinted) {
  std::ostringstream out;
  ProgressPrinter printer(out, false);
  printer.on_event({WallTime{}, "error", "inject failed: \x1b[2J\rFAKE: verdict HELD"});
  Evaluation check;
  check.name = "rate";
  check.error = "bad_data: \x1b]0;pwned\x07";
  printer.on_evaluation({WallTime{}, "during", "steady_state", check});
  EXPECT_THAT(out.str(), HasSubstr("error: inject failed: ?[2J?FAKE: verdict HELD\n"));
  EXPECT_THAT(out.str(), HasSubstr("bad_data: ?]0;pwned?"));
  EXPECT_EQ(out.str().find_first_of("\x1b\r\x07"), std::string::npos) << out.str();
}

TEST(ProgressPrinter, SteadyStateChecksStillSayOkAndFailed) {
  std::ostringstream out;
  ProgressPrinter printer(out, false);
  Evaluation check;
  check.name = "rate";
  check.comparator = Comparator::kGreaterEqual;
  check.threshold = 0.99;
  check.has_data = true;
  check.value_text = "0.5";
  printer.on_evaluation({WallTime{}, "during", "steady_state", check});
  EXPECT_THAT(out.str(), HasSubstr("during steady_state 'rate': 0.5 >= 0.99 failed\n"));
}

}  // namespace
}  // namespace chaos::orchestrator

namespace chaos::orchestrator {
namespace {

// --- proof: what the agents read back is kept, and leftovers fail the run.

v1::SystemChange system_change(const std::string& source, const std::string& line, const std::string& fault_id) {
  v1::SystemChange change;
  change.set_source(source);
  change.set_change("added");
  change.set_line(line);
  change.set_fault_id(fault_id);
  return change;
}

std::string render(const Experiment& experiment, const RunJournal& journal, const RunOutcome& outcome,
                   const JumpingClock& clock) {
  const auto json = journal_to_json(experiment, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal, outcome,
                                    {clock.wall_now(), clock.wall_now()});
  auto report = report::parse_report(json);
  EXPECT_TRUE(report.ok()) << report.status().to_string();
  return report.ok() ? report::render_report_html(*report) : "";
}

TEST_F(RunTest, EachStepsVerifyModeGoesToTheAgentsAndTheirProofIntoTheJournal) {
  experiment_.method[0].verify = v1::VERIFY_MODE_BEST_EFFORT;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_THAT(fleet_.verify_modes, ::testing::ElementsAre(v1::VERIFY_MODE_BEST_EFFORT, v1::VERIFY_MODE_BEST_EFFORT));
  const auto json = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                    {clock_.wall_now(), clock_.wall_now()});
  ASSERT_EQ(json["faults"].size(), 2u);
  const auto& fault = json["faults"][0];
  EXPECT_EQ(fault["effect"], "verified");
  EXPECT_THAT(fault["evidence"].get<std::string>(), HasSubstr("fake read-back of f"));
  EXPECT_DOUBLE_EQ(fault["time_to_effect_seconds"].get<double>(), 0.003);
  EXPECT_EQ(fault["counters"]["signals_sent"], 1);
  EXPECT_EQ(json["experiment"]["method"][0]["verify"], "best-effort");
  const std::string html = render(experiment_, journal_, outcome, clock_);
  EXPECT_THAT(html, HasSubstr("<td class=\"effect\">verified<br><small>fake read-back of f"));
  EXPECT_THAT(html, HasSubstr("3.0 ms"));
}

TEST_F(RunTest, ContainersAFaultActsInGoToTheJournalAndTheReport) {
  v1::ContainerRef container;
  container.set_runtime("podman");
  container.set_id("3f2a9c1b7e44d0c1aa");
  container.set_name("nats-1");
  container.set_pid(4242);
  container.set_network_namespace("net:[4026532301]");
  container.set_pod_namespace("messaging");
  container.set_pod_name("nats-0");
  fleet_.containers = {container};
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  const auto json = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                    {clock_.wall_now(), clock_.wall_now()});
  ASSERT_EQ(json["faults"].size(), 2u);
  EXPECT_EQ(json["faults"][0]["containers"],
            nlohmann::json::parse(R"([{"runtime": "podman", "id": "3f2a9c1b7e44d0c1aa", "name": "nats-1",
                                       "pid": 4242, "network_namespace": "net:[4026532301]",
                                       "pod_namespace": "messaging", "pod_name": "nats-0"}])"));
  bool event_names_it = false;
  for (const auto& event : journal_.events()) {
    event_names_it |= event.type == "inject" && event.message.find("] in podman nats-1: fault") != std::string::npos;
  }
  EXPECT_TRUE(event_names_it);
  EXPECT_THAT(render(experiment_, journal_, outcome, clock_),
              HasSubstr("<td>process.kill<br><small class=\"container\" title=\"id 3f2a9c1b7e44 pid 4242 "
                        "net:[4026532301]\">in podman nats-1 (pod messaging/nats-0)</small></td>"));
}

TEST(PlanPrinter, NamesTheContainersAStepActsInOnEachAgent) {
  Experiment experiment = two_agent_experiment();
  std::ostringstream host;
  print_plan(host, experiment);
  EXPECT_THAT(host.str(), HasSubstr("kill: process.kill for 10s on a(10.0.0.1:9700) b(10.0.0.2:9700)\n"));
  experiment.method[0].spec.mutable_target()->set_name("nats-1");
  std::ostringstream out;
  print_plan(out, experiment);
  EXPECT_THAT(out.str(), HasSubstr("kill: process.kill for 10s on a(10.0.0.1:9700) b(10.0.0.2:9700), in each: "
                                   "any runtime container name=nats-1\n"));
}

TEST_F(RunTest, HostFaultRecordsCarryNoContainers) {
  const RunOutcome outcome = run([](double) { return "1"; });
  const auto json = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                    {clock_.wall_now(), clock_.wall_now()});
  ASSERT_EQ(json["faults"].size(), 2u);
  EXPECT_FALSE(json["faults"][0].contains("containers")) << json["faults"][0].dump();
  EXPECT_THAT(render(experiment_, journal_, outcome, clock_), ::testing::Not(HasSubstr("class=\"container\"")));
}

TEST_F(RunTest, LeftoversAfterTheLastRevertMakeTheRunAnErrorAndAreNamed) {
  v1::LeftoverReport report;
  report.set_checked(true);
  *report.add_leftovers() = system_change("nft list ruleset", "table inet chaos_1a2b", "f1");
  *report.add_foreign() = system_change("iptables-save (v4)", "-A INPUT -p tcp --dport 22 -j ACCEPT", "");
  fleet_.leftovers["10.0.0.1:9700"] = report;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kError);
  EXPECT_EQ(exit_code(outcome.verdict), 3);
  ASSERT_EQ(outcome.leftovers.size(), 1u);
  EXPECT_EQ(outcome.leftovers[0], "nft list ruleset: added table inet chaos_1a2b (fault f1) on a");
  ASSERT_EQ(outcome.foreign_changes.size(), 1u);
  EXPECT_THAT(outcome.foreign_changes[0], HasSubstr("-A INPUT -p tcp --dport 22 -j ACCEPT"));
  EXPECT_THAT(outcome.reason, HasSubstr("still on the system"));
  const auto json = journal_to_json(experiment_, RunIdentity{"exp-1", "exp-1-lease", 3s}, journal_, outcome,
                                    {clock_.wall_now(), clock_.wall_now()});
  for (const auto& fault : json["faults"]) {  // the fault record names what it left
    if (fault["fault_id"] != "f1") {
      EXPECT_TRUE(fault["leftovers"].empty()) << fault.dump();
      continue;
    }
    ASSERT_EQ(fault["leftovers"].size(), 1u) << fault.dump();
    EXPECT_EQ(fault["leftovers"][0]["line"], "table inet chaos_1a2b");
  }
  const std::string html = render(experiment_, journal_, outcome, clock_);
  EXPECT_THAT(html, HasSubstr("LEFT BEHIND: nft list ruleset: added table inet chaos_1a2b (fault f1) on a"));
  EXPECT_THAT(html, HasSubstr("changed by other software meanwhile (not this run): iptables-save (v4)"));
}

TEST_F(RunTest, ForeignChangesAloneAreReportedButDoNotFailTheRun) {
  v1::LeftoverReport report;
  report.set_checked(true);
  *report.add_foreign() = system_change("ip rule", "100: from all lookup 7", "");
  fleet_.leftovers["10.0.0.2:9700"] = report;
  const RunOutcome outcome = run([](double) { return "1"; });
  EXPECT_EQ(outcome.verdict, Verdict::kHeld) << outcome.reason;
  EXPECT_TRUE(outcome.leftovers.empty());
  ASSERT_EQ(outcome.foreign_changes.size(), 1u);
  EXPECT_EQ(outcome.foreign_changes[0], "ip rule: added 100: from all lookup 7 on b");
}

}  // namespace
}  // namespace chaos::orchestrator
