#include "agent/unfinished_rollback.h"

#include <utility>

namespace chaos::agent {

UnfinishedRollback::UnfinishedRollback(RollbackStack steps, FaultKind& kind, const FaultContext& context)
    : steps_(std::move(steps)), kind_(kind), context_(context) {
  context_.failed_rollback = nullptr;  // the apply it came from is over
}

UnfinishedRollback::~UnfinishedRollback() { steps_.release(); }

std::string UnfinishedRollback::detail() const {
  const std::string pending = steps_.pending();
  return "left by a failed apply, still to undo: " + (pending.empty() ? std::string("nothing") : pending);
}

StatusOr<FaultEffect> UnfinishedRollback::verify_live() {
  return failed_precondition("the remains of a failed apply are not a fault that takes effect");
}

StatusOr<std::string> UnfinishedRollback::verify_gone() { return kind_.verify_recovered(context_, nlohmann::json()); }

}  // namespace chaos::agent
