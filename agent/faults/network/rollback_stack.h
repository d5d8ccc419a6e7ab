// Undo steps of an apply, run in reverse order (absl::Cleanup in spirit):
// a failed apply unwinds what it already did; a successful one hands the
// stack to its LiveFault, whose revert unwinds it later.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chaos::agent::network {

class RollbackStack {
 public:
  using Undo = std::function<Status()>;

  RollbackStack() = default;
  RollbackStack(RollbackStack&&) = default;
  RollbackStack& operator=(RollbackStack&&) = default;
  // Unwinds whatever was not handed over: no early return can leak.
  ~RollbackStack() { (void)unwind(); }

  void push(std::string what, Undo undo) { steps_.push_back(Step{std::move(what), std::move(undo), false}); }
  // A step that runs only once every step pushed after it is undone, e.g.
  // releasing a scope reservation while a rule of that scope still steers
  // packets would let an overlapping fault in; it waits for a retry instead.
  void push_last_to_undo(std::string what, Undo undo) {
    steps_.push_back(Step{std::move(what), std::move(undo), true});
  }

  // Runs every step even if one fails (so one stuck rule does not keep the
  // others in place), except push_last_to_undo() steps after a failure;
  // failed and skipped steps stay for a later retry. Returns the first error.
  Status unwind() {
    Status first_error;
    std::vector<bool> failed(steps_.size(), false);
    for (std::size_t i = steps_.size(); i-- > 0;) {
      if (steps_[i].after_the_rest && !first_error.ok()) {
        failed[i] = true;
        continue;
      }
      Status status = steps_[i].undo();
      if (!status.ok()) {
        if (first_error.ok()) first_error = status.with_context("undoing " + steps_[i].what);
        failed[i] = true;
      }
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (failed[i]) std::swap(steps_[kept++], steps_[i]);
    }
    steps_.resize(kept);
    return first_error;
  }

  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    std::string what;
    Undo undo;
    bool after_the_rest;
  };
  std::vector<Step> steps_;
};

}  // namespace chaos::agent::network
