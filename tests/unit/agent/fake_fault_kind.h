// A FaultKind that touches nothing and records what the registry asked of
// it; tests script failures through its shared State.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/fault.h"

namespace chaos::agent::testing {

struct FakeKindState {
  std::mutex mutex;
  std::vector<std::string> applied;
  std::vector<std::string> reverted;
  std::vector<std::pair<std::string, nlohmann::json>> recovered;  // fault id, undo
  int ticks = 0;
  Status apply_error;
  int revert_failures = 0;  // the next N reverts fail
  Status validate_error;
};

class FakeLiveFault final : public LiveFault {
 public:
  FakeLiveFault(std::shared_ptr<FakeKindState> state, std::string id) : state_(std::move(state)), id_(std::move(id)) {}
  std::string backend() const override { return "fake"; }
  std::string detail() const override { return "fake fault " + id_; }
  nlohmann::json undo_record() const override { return {{"token", "undo-" + id_}}; }
  Status revert() override {
    std::lock_guard lock(state_->mutex);
    if (state_->revert_failures > 0) {
      --state_->revert_failures;
      return internal_error("fake revert failure");
    }
    state_->reverted.push_back(id_);
    return {};
  }
  Status on_tick(SteadyTime) override {
    std::lock_guard lock(state_->mutex);
    ++state_->ticks;
    return {};
  }

 private:
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
    std::lock_guard lock(state_->mutex);
    if (!state_->apply_error.ok()) return state_->apply_error;
    state_->applied.push_back(context.fault_id);
    return std::unique_ptr<LiveFault>(std::make_unique<FakeLiveFault>(state_, context.fault_id));
  }
  Status recover(const v1::FaultSpec&, const FaultContext& context, const nlohmann::json& undo) override {
    std::lock_guard lock(state_->mutex);
    state_->recovered.emplace_back(context.fault_id, undo);
    return {};
  }
  std::string backend() const override { return "fake"; }

 private:
  std::shared_ptr<FakeKindState> state_;
  std::string name_;
};

}  // namespace chaos::agent::testing
