// Undo steps of an apply, run in reverse order (absl::Cleanup in spirit),
// shared by the fault families (network, DNS, process): a failed apply
// unwinds what it already did; a successful one either hands the stack to
// its LiveFault, whose revert unwinds it later, or releases it when the
// LiveFault undoes its work by other means. The steps that fail when a
// failed apply unwinds go to the stack its FaultContext names, so the
// registry keeps retrying them instead of forgetting a rule left behind:
// every step must therefore outlive the apply (capture by value, or what
// the kind itself owns).
#pragma once

#include <exception>
#include <functional>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chaos::agent {

class RollbackStack {
 public:
  using Undo = std::function<Status()>;

  RollbackStack() = default;
  // keep_failed_steps_in: where the destructor leaves the steps its unwind
  // could not undo (FaultContext::failed_rollback); null drops them.
  explicit RollbackStack(RollbackStack* keep_failed_steps_in) : keep_failed_steps_in_(keep_failed_steps_in) {}
  // A stack moved into a LiveFault outlives the apply, and with it the
  // place its failed steps would go: that is not carried along.
  RollbackStack(RollbackStack&& other) noexcept : steps_(std::move(other.steps_)) { other.steps_.clear(); }
  RollbackStack& operator=(RollbackStack&&) = delete;
  // Unwinds whatever was not handed over or released: no early return can
  // leak. What fails to unwind goes where the constructor said.
  ~RollbackStack() {
    (void)unwind();
    if (!steps_.empty() && keep_failed_steps_in_ != nullptr) keep_failed_steps_in_->take_over(std::move(steps_));
  }

  void push(std::string what, Undo undo) { steps_.push_back(Step{std::move(what), std::move(undo), false}); }
  // A step that runs only once every step pushed after it is undone, e.g.
  // releasing a scope reservation while a rule of that scope still steers
  // packets would let an overlapping fault in; it waits for a retry instead.
  void push_last_to_undo(std::string what, Undo undo) {
    steps_.push_back(Step{std::move(what), std::move(undo), true});
  }

  // Runs every step even if one fails (so one stuck rule does not keep the
  // others in place), except push_last_to_undo() steps after a failure;
  // failed and skipped steps stay for a later retry. A step that throws
  // counts as failed (an exception must not escape the destructor). Returns
  // OK, or the first failure's code with every failure's message, in the
  // order they ran.
  Status unwind() {
    Status first_error;
    std::string messages;
    std::vector<bool> failed(steps_.size(), false);
    for (std::size_t i = steps_.size(); i-- > 0;) {
      if (steps_[i].after_the_rest && !first_error.ok()) {
        failed[i] = true;
        continue;
      }
      Status status = run(steps_[i]);
      if (!status.ok()) {
        if (first_error.ok()) first_error = status;
        messages += (messages.empty() ? "" : "; ") + status.message();
        failed[i] = true;
      }
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (failed[i]) std::swap(steps_[kept++], steps_[i]);
    }
    steps_.resize(kept);
    return first_error.ok() ? first_error : Status(first_error.code(), messages);
  }

  // Forgets every step without running it: the apply succeeded and what it
  // did is now undone by its LiveFault.
  void release() { steps_.clear(); }

  bool empty() const { return steps_.empty(); }

  // What is left to undo, oldest first: "nft table, scope reservation".
  std::string pending() const {
    std::string names;
    for (const Step& step : steps_) names += (names.empty() ? "" : ", ") + step.what;
    return names;
  }

 private:
  struct Step {
    std::string what;
    Undo undo;
    bool after_the_rest;
  };

  static Status run(Step& step) {
    Status status;
    try {
      status = step.undo();
    } catch (const std::exception& error) {
      status = internal_error(std::string("threw: ") + error.what());
    } catch (...) {
      status = internal_error("threw a non-standard exception");
    }
    return status.ok() ? status : status.with_context("undoing " + step.what);
  }

  void take_over(std::vector<Step> steps) {
    steps_.insert(steps_.end(), std::make_move_iterator(steps.begin()), std::make_move_iterator(steps.end()));
  }

  std::vector<Step> steps_;
  RollbackStack* keep_failed_steps_in_ = nullptr;
};

}  // namespace chaos::agent
