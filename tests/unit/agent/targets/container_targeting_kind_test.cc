// ContainerTargetingKind without a container runtime: "containers" are
// processes of this test (the test's own pid, or a forked child), so their
// network namespace is real and readable without root; the finder and the
// inner kind are fakes that record what they were given.
#include "agent/targets/container_targeting_kind.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "agent/rollback_stack.h"
#include "agent/targets/namespaces/namespace_handle.h"
#include "common/proc_reader.h"
#include "tests/support/fake_command_runner.h"

namespace chaos::agent {
namespace {

using chaos::testing::FakeCommandRunner;

v1::ContainerRef container_for(int pid, const std::string& name) {
  v1::ContainerRef ref;
  ref.set_runtime("podman");
  ref.set_id(name + "0123456789abcdef");
  ref.set_name(name);
  ref.set_pid(pid);
  ref.set_pid_start_time(ProcReader().stat(pid)->start_time);
  return ref;
}

class FakeFinder final : public ContainerFinder {
 public:
  StatusOr<std::vector<v1::ContainerRef>> find(const v1::ContainerSelector& selector, const std::string& field,
                                               std::uint64_t seed) override {
    asked.push_back(selector);
    (void)seed;
    if (!answer.ok()) return answer.status();
    (void)field;
    return *answer;
  }
  StatusOr<std::vector<v1::ContainerRef>> answer = std::vector<v1::ContainerRef>{};
  std::vector<v1::ContainerSelector> asked;
};

// What the inner kind saw of each apply and recover.
struct Seen {
  std::vector<v1::ContainerRef> applied_in;
  std::vector<std::string> reverted_in;
  std::vector<std::pair<std::string, nlohmann::json>> recovered_in;  // container name ("" = host), undo
  std::vector<std::string> commands_run;
  int fail_apply_in_call = -1;  // the Nth apply (0-based) fails
  bool impaired = true;
  std::map<std::string, bool> impaired_in;  // per container name, overrides `impaired`
  bool survives_reboot = false;  // what the kind's effect_survives_reboot says
  // The failing apply leaves a qdisc behind: removing it (through the
  // container's runner) fails this many times first.
  int stuck_qdisc_removals = 0;
  int revert_failures = 0;       // the next N reverts fail
  bool network_objects = false;  // what leaves_objects_in_network_namespace says
};

class RecordingLiveFault final : public LiveFault {
 public:
  RecordingLiveFault(Seen& seen, std::string where) : seen_(seen), where_(std::move(where)) {}
  std::string backend() const override { return "recording"; }
  std::string detail() const override { return "recording fault"; }
  nlohmann::json undo_record() const override { return {{"in", where_}}; }
  Status revert() override {
    if (seen_.revert_failures > 0) {
      --seen_.revert_failures;
      return internal_error("chain busy in " + where_);
    }
    seen_.reverted_in.push_back(where_);
    return {};
  }
  StatusOr<FaultEffect> verify_live() override {
    FaultEffect effect;
    effect.impaired = seen_.impaired_in.count(where_) ? seen_.impaired_in[where_] : seen_.impaired;
    effect.evidence = "rule in place";
    effect.counters = {{"packets_delayed", 2}};
    return effect;
  }
  StatusOr<std::string> verify_gone() override { return std::string("rule absent"); }

 private:
  Seen& seen_;
  std::string where_;
};

class RecordingKind final : public FaultKind {
 public:
  RecordingKind(Seen& seen, bool in_containers, bool container_only = false)
      : seen_(seen), in_containers_(in_containers), container_only_(container_only) {}
  std::string name() const override { return "network.delay"; }
  Status validate(const v1::FaultSpec&) const override { return {}; }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec&, const FaultContext& context) override {
    const int call = calls_++;
    if (call == seen_.fail_apply_in_call) {
      RollbackStack undo(context.failed_rollback);
      if (seen_.stuck_qdisc_removals > 0 && context.container != nullptr) {
        // As the network kinds do: the step acts through the container's runner.
        undo.push("qdisc", [commands = context.container->commands, &seen = seen_] {
          (void)commands->run({"tc", "qdisc", "del"});
          if (seen.stuck_qdisc_removals == 0) return Status{};
          --seen.stuck_qdisc_removals;
          return internal_error("qdisc busy");
        });
      }
      return failed_precondition("tc refused");
    }
    std::string where;
    if (context.container != nullptr) {
      seen_.applied_in.push_back(context.container->ref);
      where = context.container->ref.name();
      auto ran = context.container->commands->run({"tc", "qdisc", "show"});
      if (ran.ok()) seen_.commands_run.push_back(where);
    }
    return std::unique_ptr<LiveFault>(std::make_unique<RecordingLiveFault>(seen_, where));
  }
  Status recover(const v1::FaultSpec&, const FaultContext& context, const nlohmann::json& undo) override {
    seen_.recovered_in.emplace_back(context.container ? context.container->ref.name() : "", undo);
    return {};
  }
  StatusOr<std::string> verify_recovered(const FaultContext&, const nlohmann::json&) override {
    return std::string("rule absent");
  }
  bool acts_in_containers() const override { return in_containers_; }
  bool leaves_objects_in_network_namespace() const override { return seen_.network_objects; }
  bool needs_container_target() const override { return container_only_; }
  std::string backend() const override { return "recording"; }
  bool effect_survives_reboot() const override { return seen_.survives_reboot; }

 private:
  Seen& seen_;
  bool in_containers_;
  bool container_only_;
  int calls_ = 0;
};

// A forked child that sleeps until killed: a "container" that can stop.
class ChildProcess {
 public:
  ChildProcess() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that crashes leaves no child behind
      ::pause();
      ::_exit(0);
    }
  }
  ~ChildProcess() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
};

std::uint64_t all_capabilities() { return ~std::uint64_t{0}; }

v1::FaultSpec targeted_spec() {
  v1::FaultSpec spec;
  spec.mutable_network_delay()->mutable_delay()->set_nanos(50000000);
  (*spec.mutable_target()->mutable_labels())["app"] = "nats";
  return spec;
}

class ContainerTargetingKindTest : public ::testing::Test {
 protected:
  ContainerTargetingKind make(bool in_containers = true, bool container_only = false) {
    return ContainerTargetingKind(std::make_unique<RecordingKind>(seen_, in_containers, container_only), &finder_,
                                  host_commands_, all_capabilities);
  }
  FaultContext context_{"f1a2b3c4d5e6", "exp-1", std::chrono::seconds(60)};
  Seen seen_;
  FakeFinder finder_;
  FakeCommandRunner host_commands_;
};

TEST_F(ContainerTargetingKindTest, AFaultWithoutATargetActsOnTheHostUnchanged) {
  auto kind = make();
  v1::FaultSpec spec;
  spec.mutable_network_delay()->mutable_delay()->set_nanos(50000000);
  auto live = kind.apply(spec, context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  EXPECT_TRUE((*live)->containers().empty());
  EXPECT_TRUE(seen_.applied_in.empty());
  EXPECT_TRUE(finder_.asked.empty());
  EXPECT_EQ((*live)->undo_record(), (nlohmann::json{{"in", ""}}));
}

TEST_F(ContainerTargetingKindTest, WhetherRecordsAreFlushedIsTheWrappedKindsCall) {
  auto kind = make();
  EXPECT_FALSE(kind.effect_survives_reboot());
  seen_.survives_reboot = true;
  EXPECT_TRUE(kind.effect_survives_reboot());
}

TEST_F(ContainerTargetingKindTest, ValidateRefusesTargetsForHostOnlyKindsAndBadSelectors) {
  auto host_only = make(/*in_containers=*/false);
  auto refused = host_only.validate(targeted_spec());
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("target: network.delay cannot act in a container"), std::string::npos)
      << refused.message();

  auto container_only = make(true, /*container_only=*/true);
  v1::FaultSpec untargeted;
  untargeted.mutable_network_delay();
  EXPECT_EQ(container_only.validate(untargeted).code(), StatusCode::kInvalidArgument);

  auto kind = make();
  auto expect_refused = [&](auto edit, const std::string& field) {
    auto spec = targeted_spec();
    edit(*spec.mutable_target());
    const Status status = kind.validate(spec);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_NE(status.message().find(field), std::string::npos) << status.message();
  };
  expect_refused([](v1::ContainerSelector& s) { s.clear_labels(); }, "target: name, id_prefix, labels");
  expect_refused([](v1::ContainerSelector& s) { s.set_id_prefix("ab"); }, "target.id_prefix");
  expect_refused([](v1::ContainerSelector& s) { s.set_id_prefix("zzzz"); }, "target.id_prefix");
  expect_refused([](v1::ContainerSelector& s) { s.set_runtime("lxc"); }, "target.runtime");
  expect_refused([](v1::ContainerSelector& s) { s.set_pod_name("nats-0"); }, "target.pod_namespace");
  expect_refused([](v1::ContainerSelector& s) { s.set_percent(101); }, "target.percent");
  expect_refused(
      [](v1::ContainerSelector& s) {
        s.set_count(1);
        s.set_percent(50);
      },
      "target: count and percent");
  expect_refused([](v1::ContainerSelector& s) { s.set_name(std::string(300, 'n')); }, "target.name");
  expect_refused([](v1::ContainerSelector& s) { s.set_name("two words"); }, "target.name");
  EXPECT_TRUE(kind.validate(targeted_spec()).ok());
}

TEST_F(ContainerTargetingKindTest, AppliesOnceInEveryContainerWithItsNamespaceAndNamesThem) {
  ChildProcess other;
  finder_.answer = std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1"),
                                                 container_for(other.pid(), "nats-2")};
  auto kind = make();
  auto live = kind.apply(targeted_spec(), context_);
  ASSERT_TRUE(live.ok()) << live.status().to_string();
  ASSERT_EQ(seen_.applied_in.size(), 2u);
  ASSERT_EQ(finder_.asked.size(), 1u);
  EXPECT_EQ(finder_.asked[0].labels().at("app"), "nats");

  const auto containers = (*live)->containers();
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0].name(), "nats-1");
  EXPECT_EQ(containers[0].network_namespace(), namespace_of(::getpid(), "net")->to_string("net"));
  EXPECT_EQ(containers[1].pid(), other.pid());

  // Tools run inside the container's namespace, through nsenter on the held handle.
  const auto lines = host_commands_.call_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("nsenter --net=/proc/" + std::to_string(::getpid()) + "/fd/", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" -- tc qdisc show"), std::string::npos) << lines[0];

  EXPECT_NE((*live)->detail().find("in podman nats-1 (nats-1012345)"), std::string::npos) << (*live)->detail();
  const auto undo = (*live)->undo_record();
  ASSERT_TRUE(is_container_undo_record(undo));
  EXPECT_EQ(undo["containers"][1]["container"]["name"], "nats-2");
  EXPECT_EQ(undo["containers"][1]["undo"], (nlohmann::json{{"in", "nats-2"}}));

  auto effect = (*live)->verify_live();
  ASSERT_TRUE(effect.ok());
  EXPECT_TRUE(effect->impaired);
  ASSERT_EQ(effect->counters.size(), 1u);
  EXPECT_EQ(effect->counters[0].value, 4u) << "counters are summed over the containers";
  EXPECT_NE(effect->evidence.find("in podman nats-2"), std::string::npos);

  ASSERT_TRUE((*live)->revert().ok());
  EXPECT_EQ(seen_.reverted_in, (std::vector<std::string>{"nats-1", "nats-2"}));
}

TEST_F(ContainerTargetingKindTest, TheEffectIsSeenOnlyWhenEveryContainerSawIt) {
  ChildProcess other;
  finder_.answer = std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1"),
                                                 container_for(other.pid(), "nats-2")};
  seen_.impaired_in["nats-2"] = false;
  auto kind = make();
  auto live = kind.apply(targeted_spec(), context_);
  ASSERT_TRUE(live.ok());
  auto effect = (*live)->observe();
  ASSERT_TRUE(effect.ok());
  EXPECT_FALSE(effect->impaired) << "nats-2 is only armed";
}

TEST_F(ContainerTargetingKindTest, AFailureInOneContainerUndoesTheOthers) {
  ChildProcess other;
  finder_.answer = std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1"),
                                                 container_for(other.pid(), "nats-2")};
  seen_.fail_apply_in_call = 1;
  auto kind = make();
  auto live = kind.apply(targeted_spec(), context_);
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(live.status().message().find("in podman nats-2"), std::string::npos) << live.status().message();
  EXPECT_EQ(seen_.reverted_in, (std::vector<std::string>{"nats-1"}));
}

TEST_F(ContainerTargetingKindTest, WhatAFailedApplyCouldNotUndoGoesToTheRegistryWithItsContainerKeptOpen) {
  ChildProcess other;
  finder_.answer =
      std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1"), container_for(other.pid(), "nats-2")};
  seen_.fail_apply_in_call = 1;
  seen_.stuck_qdisc_removals = 2;  // the inner apply's unwind, then this kind's
  seen_.revert_failures = 1;       // nats-1's revert
  RollbackStack unfinished;
  context_.failed_rollback = &unfinished;
  {
    auto kind = make();
    ASSERT_FALSE(kind.apply(targeted_spec(), context_).ok());
  }
  EXPECT_EQ(unfinished.pending(),
            "the fault in podman nats-1 (nats-1012345), what the failed apply left in podman nats-2 (nats-2012345)");
  host_commands_.clear();
  ASSERT_TRUE(unfinished.unwind().ok()) << "retried later, through the runner of a container the apply left";
  EXPECT_EQ(seen_.reverted_in, (std::vector<std::string>{"nats-1"}));
  const auto calls = host_commands_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].front(), "nsenter") << "in nats-2's namespace, held open until now";
  EXPECT_EQ(calls[0].back(), "del");
}

TEST_F(ContainerTargetingKindTest, NothingMatchedOrNoRuntimeIsAnErrorAndNothingIsApplied) {
  finder_.answer = not_found("target: no running container matches podman container labels{app=nats}");
  auto kind = make();
  auto live = kind.apply(targeted_spec(), context_);
  EXPECT_EQ(live.status().code(), StatusCode::kNotFound);
  EXPECT_NE(live.status().message().find("labels{app=nats}"), std::string::npos);

  ContainerTargetingKind without_runtime(std::make_unique<RecordingKind>(seen_, true), nullptr, host_commands_,
                                         all_capabilities);
  auto refused = without_runtime.apply(targeted_spec(), context_);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("[containers]"), std::string::npos);

  finder_.answer = std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1")};
  ContainerTargetingKind without_sys_admin(std::make_unique<RecordingKind>(seen_, true), &finder_, host_commands_,
                                           [] { return std::uint64_t{0}; });
  auto unprivileged = without_sys_admin.apply(targeted_spec(), context_);
  EXPECT_EQ(unprivileged.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unprivileged.status().message().find("CAP_SYS_ADMIN"), std::string::npos);
  EXPECT_EQ(without_sys_admin.check_targets(targeted_spec()).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(seen_.applied_in.empty());
}

TEST_F(ContainerTargetingKindTest, ADryRunResolvesTheTargetAndAppliesNothing) {
  auto kind = make();
  finder_.answer = std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1")};
  EXPECT_TRUE(kind.check_targets(targeted_spec()).ok());
  finder_.answer = not_found("target: no running container matches podman container labels{app=nats}");
  EXPECT_EQ(kind.check_targets(targeted_spec()).code(), StatusCode::kNotFound);
  EXPECT_EQ(finder_.asked.size(), 2u);
  EXPECT_TRUE(seen_.applied_in.empty());
  EXPECT_TRUE(host_commands_.calls().empty());
}

TEST_F(ContainerTargetingKindTest, AContainerWhoseInitChangedSinceTheLookupIsNeverEntered) {
  auto ref = container_for(::getpid(), "nats-1");
  ref.set_pid_start_time(ref.pid_start_time() + 1);  // the pid now names another process
  finder_.answer = std::vector<v1::ContainerRef>{ref};
  auto kind = make();
  auto live = kind.apply(targeted_spec(), context_);
  EXPECT_EQ(live.status().code(), StatusCode::kNotFound);
  EXPECT_NE(live.status().message().find("target_gone"), std::string::npos);
  EXPECT_TRUE(seen_.applied_in.empty());
  EXPECT_TRUE(host_commands_.calls().empty());
}

TEST_F(ContainerTargetingKindTest, AContainerThatStopsEndsTheFaultAsTargetGone) {
  auto child = std::make_unique<ChildProcess>();
  finder_.answer = std::vector<v1::ContainerRef>{container_for(child->pid(), "nats-1")};
  auto kind = make();
  auto live = kind.apply(targeted_spec(), context_);
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE((*live)->on_tick(SteadyTime{}).ok());
  child->stop();
  const Status ticked = (*live)->on_tick(SteadyTime{});
  EXPECT_EQ(ticked.code(), StatusCode::kAborted);
  EXPECT_EQ(ticked.message().rfind("target_gone: container podman nats-1", 0), 0u) << ticked.message();
  // The held namespace outlives the container: the revert still runs in it.
  EXPECT_TRUE((*live)->revert().ok());
  EXPECT_EQ(seen_.reverted_in, (std::vector<std::string>{"nats-1"}));
}

TEST_F(ContainerTargetingKindTest, RecoveryRevertsInContainersStillThereAndReportsTheGoneOnes) {
  ChildProcess gone;
  const auto gone_ref = container_for(gone.pid(), "nats-2");
  auto here_ref = container_for(::getpid(), "nats-1");
  here_ref.set_network_namespace(namespace_of(::getpid(), "net")->to_string("net"));
  gone.stop();
  const nlohmann::json undo = {
      {"containers",
       {{{"container", {{"runtime", "podman"}, {"id", here_ref.id()}, {"name", "nats-1"}, {"pid", here_ref.pid()},
                        {"pid_start_time", here_ref.pid_start_time()},
                        {"network_namespace", here_ref.network_namespace()}}},
         {"undo", {{"in", "nats-1"}}}},
        {{"container", {{"runtime", "podman"}, {"id", gone_ref.id()}, {"name", "nats-2"}, {"pid", gone_ref.pid()},
                        {"pid_start_time", gone_ref.pid_start_time()}}},
         {"undo", {{"in", "nats-2"}}}}}}};
  auto kind = make();
  ASSERT_TRUE(kind.recover(targeted_spec(), context_, undo).ok());
  ASSERT_EQ(seen_.recovered_in.size(), 1u);
  EXPECT_EQ(seen_.recovered_in[0].first, "nats-1");
  EXPECT_EQ(seen_.recovered_in[0].second, (nlohmann::json{{"in", "nats-1"}}));

  auto evidence = kind.verify_recovered(context_, undo);
  ASSERT_TRUE(evidence.ok()) << evidence.status().to_string();
  EXPECT_NE(evidence->find("nats-1"), std::string::npos);
  EXPECT_NE(evidence->find("nats-2 (nats-2012345): container gone"), std::string::npos) << *evidence;
}

TEST_F(ContainerTargetingKindTest, AGoneHostNetworkContainersRulesAreRecoveredOnTheHost) {
  ChildProcess gone;
  auto gone_ref = container_for(gone.pid(), "nats-2");
  gone_ref.set_network_namespace(namespace_of(::getpid(), "net")->to_string("net"));  // the agent's own
  gone.stop();
  const nlohmann::json undo = {{"containers",
                                {{{"container",
                                   {{"runtime", "podman"},
                                    {"id", gone_ref.id()},
                                    {"name", "nats-2"},
                                    {"pid", gone_ref.pid()},
                                    {"pid_start_time", gone_ref.pid_start_time()},
                                    {"network_namespace", gone_ref.network_namespace()}}},
                                  {"undo", {{"in", "nats-2"}}}}}}};
  auto kind = make();
  ASSERT_TRUE(kind.recover(targeted_spec(), context_, undo).ok());
  EXPECT_TRUE(seen_.recovered_in.empty()) << "a process kind's objects went with the container";
  seen_.network_objects = true;
  ASSERT_TRUE(kind.recover(targeted_spec(), context_, undo).ok());
  ASSERT_EQ(seen_.recovered_in.size(), 1u) << "its rules are in the agent's namespace, which is still there";
  EXPECT_EQ(seen_.recovered_in[0].first, "") << "recovered as the host's";
  EXPECT_EQ(seen_.recovered_in[0].second, (nlohmann::json{{"in", "nats-2"}}));
  auto evidence = kind.verify_recovered(context_, undo);
  ASSERT_TRUE(evidence.ok()) << evidence.status().to_string();
  EXPECT_NE(evidence->find("container gone, its namespace the agent's: rule absent"), std::string::npos) << *evidence;

  for (const std::string other : {"net:[4026532999]", ""}) {  // its own namespace, or an older record's none
    auto in_other = undo;
    in_other["containers"][0]["container"]["network_namespace"] = other;
    seen_.recovered_in.clear();
    ASSERT_TRUE(kind.recover(targeted_spec(), context_, in_other).ok());
    EXPECT_TRUE(seen_.recovered_in.empty()) << "'" << other << "' went with the container";
    auto checked = kind.verify_recovered(context_, in_other);
    ASSERT_TRUE(checked.ok());
    EXPECT_NE(checked->find("container gone, with its network namespace"), std::string::npos) << *checked;
  }
}

TEST_F(ContainerTargetingKindTest, RecoveryAfterACrashMidApplyLooksInEveryMatchingContainer) {
  auto spec = targeted_spec();
  spec.mutable_target()->set_count(1);
  finder_.answer = std::vector<v1::ContainerRef>{container_for(::getpid(), "nats-1")};
  auto kind = make();
  ASSERT_TRUE(kind.recover(spec, context_, nullptr).ok());
  ASSERT_EQ(finder_.asked.size(), 1u);
  EXPECT_EQ(finder_.asked[0].count(), 0u) << "every match, not a new sample";
  ASSERT_EQ(seen_.recovered_in.size(), 1u);
  EXPECT_EQ(seen_.recovered_in[0].first, "nats-1");
  EXPECT_TRUE(seen_.recovered_in[0].second.is_null());

  // The gone check has no spec of its own: the context carries it.
  FaultContext with_spec = context_;
  with_spec.spec = &spec;
  auto evidence = kind.verify_recovered(with_spec, nullptr);
  ASSERT_TRUE(evidence.ok()) << evidence.status().to_string();
  EXPECT_EQ(*evidence, "in podman nats-1 (nats-1012345): rule absent");
  EXPECT_EQ(finder_.asked.back().count(), 0u);

  finder_.answer = not_found("target: nothing");
  EXPECT_TRUE(kind.recover(spec, context_, nullptr).ok()) << "containers gone: nothing left to undo";
  EXPECT_EQ(*kind.verify_recovered(with_spec, nullptr), "no container matches now: none to check");
}

TEST_F(ContainerTargetingKindTest, ACorruptUndoRecordIsAnErrorNotACrash) {
  auto kind = make();
  const nlohmann::json undo = {{"containers", {{{"container", {{"pid", "not a number"}}}}}}};
  const Status status = kind.recover(targeted_spec(), context_, undo);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("wrong type"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace chaos::agent
