// A FaultKind that touches nothing and records what the registry asked of
// it; tests script failures through its shared State.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/fault.h"
#include "agent/rollback_stack.h"

namespace chaos::agent::testing {

struct FakeKindState {
  std::mutex mutex;
  std::vector<std::string> applied;
  std::vector<std::string> reverted;
  std::vector<std::pair<std::string, nlohmann::json>> recovered;  // fault id, undo
  int ticks = 0;
  Status apply_error;
  int revert_failures = 0;  // the next N reverts fail
  int recover_failures = 0;  // the next N recovers fail
  Status validate_error;
  Status tick_status;        // what on_tick returns
  Status verify_error;       // what verify_live returns instead of an effect
  bool impaired = true;      // the effect verify_live and observe report
  std::uint64_t impaired_packets = 0;
  int gone_failures = 0;     // the next N verify_gone calls fail
  int verify_calls = 0;
  int observe_calls = 0;
  bool recovers_by_id = false;
  bool survives_reboot = true;  // what effect_survives_reboot says
  // With apply_error set: the apply "did" a step before failing, and its
  // rollback of that step fails this many times before it succeeds.
  int rollback_failures = 0;
  int rollbacks_run = 0;
  std::vector<std::string> recovered_by_id;
  // Called outside the state lock, so a test can block an apply or a revert
  // on a latch while other faults go on.
  std::function<void(const std::string& fault_id)> before_apply;
  std::function<void(const std::string& fault_id)> before_revert;
};

class FakeLiveFault final : public LiveFault {
 public:
  FakeLiveFault(std::shared_ptr<FakeKindState> state, std::string id) : state_(std::move(state)), id_(std::move(id)) {}
  std::string backend() const override { return "fake"; }
  std::string detail() const override { return "fake fault " + id_; }
  nlohmann::json undo_record() const override { return {{"token", "undo-" + id_}}; }
  Status revert() override {
    if (state_->before_revert) state_->before_revert(id_);
    std::lock_guard lock(state_->mutex);
    if (state_->revert_failures > 0) {
      --state_->revert_failures;
      return internal_error("fake revert failure");
    }
    state_->reverted.push_back(id_);
    return {};
  }
  StatusOr<FaultEffect> verify_live() override {
    std::lock_guard lock(state_->mutex);
    ++state_->verify_calls;
    if (!state_->verify_error.ok()) return state_->verify_error;
    return effect_locked("fake evidence " + id_);
  }
  StatusOr<FaultEffect> observe() override {
    std::lock_guard lock(state_->mutex);
    ++state_->observe_calls;
    return effect_locked("");
  }
  StatusOr<std::string> verify_gone() override {
    std::lock_guard lock(state_->mutex);
    if (state_->gone_failures > 0) {
      --state_->gone_failures;
      return failed_precondition("fake object of " + id_ + " still there");
    }
    return "fake object of " + id_ + " gone";
  }
  Status on_tick(SteadyTime) override {
    std::lock_guard lock(state_->mutex);
    ++state_->ticks;
    return state_->tick_status;
  }

 private:
  FaultEffect effect_locked(std::string evidence) const {
    FaultEffect effect;
    effect.impaired = state_->impaired;
    effect.evidence = std::move(evidence);
    effect.counters = {{"packets_impaired", state_->impaired_packets}};
    return effect;
  }

  std::shared_ptr<FakeKindState> state_;
  std::string id_;
};

class FakeFaultKind final : public FaultKind {
 public:
  explicit FakeFaultKind(std::shared_ptr<FakeKindState> state, std::string name = "network.delay")
      : state_(std::move(state)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Status validate(const v1::FaultSpec&) const override {
    std::lock_guard lock(state_->mutex);
    return state_->validate_error;
  }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec&, const FaultContext& context) override {
    if (state_->before_apply) state_->before_apply(context.fault_id);
    std::unique_lock lock(state_->mutex);
    if (!state_->apply_error.ok() && state_->rollback_failures > 0) {
      RollbackStack undo(context.failed_rollback);
      undo.push("fake rule", [state = state_] {
        std::lock_guard rollback_lock(state->mutex);
        ++state->rollbacks_run;
        if (state->rollback_failures == 0) return Status{};
        --state->rollback_failures;
        return internal_error("fake rule still in use");
      });
      const Status failed = state_->apply_error;
      lock.unlock();  // the rollback below takes the lock
      return failed;
    }
    if (!state_->apply_error.ok()) return state_->apply_error;
    state_->applied.push_back(context.fault_id);
    return std::unique_ptr<LiveFault>(std::make_unique<FakeLiveFault>(state_, context.fault_id));
  }
  Status recover(const v1::FaultSpec&, const FaultContext& context, const nlohmann::json& undo) override {
    std::lock_guard lock(state_->mutex);
    if (state_->recover_failures > 0) {
      --state_->recover_failures;
      return internal_error("fake recover failure");
    }
    state_->recovered.emplace_back(context.fault_id, undo);
    return {};
  }
  Status recover_by_id(const FaultContext& context) override {
    std::lock_guard lock(state_->mutex);
    if (!state_->recovers_by_id) return unimplemented("fake kind: no recovery by id");
    state_->recovered_by_id.push_back(context.fault_id);
    return {};
  }
  std::string backend() const override { return "fake"; }
  bool effect_survives_reboot() const override {
    std::lock_guard lock(state_->mutex);
    return state_->survives_reboot;
  }

 private:
  std::shared_ptr<FakeKindState> state_;
  std::string name_;
};

}  // namespace chaos::agent::testing
