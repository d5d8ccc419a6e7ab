// Undo steps of an apply, run in reverse order (absl::Cleanup in spirit),
// shared by the fault families (network, DNS, process): a failed apply
// unwinds what it already did; a successful one either hands the stack to
// its LiveFault, whose revert unwinds it later, or releases it when the
// LiveFault undoes its work by other means.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace chaos::agent {

class RollbackStack {
 public:
  using Undo = std::function<Status()>;

  RollbackStack() = default;
  RollbackStack(RollbackStack&&) = default;
  RollbackStack& operator=(RollbackStack&&) = default;
  // Unwinds whatever was not handed over or released: no early return can
  // leak.
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

  std::vector<Step> steps_;
};

}  // namespace chaos::agent
