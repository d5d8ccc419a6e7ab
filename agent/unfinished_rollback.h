// What a failed apply could not undo (a rule its rollback could not
// remove), held as a live fault so the registry reverts it like any other
// stuck fault: retried until it succeeds, REVERT_FAILED meanwhile, its
// "applying" journal entry kept for the next start until then.
#pragma once

#include <memory>
#include <string>

#include "agent/fault.h"
#include "agent/rollback_stack.h"

namespace chaos::agent {

class UnfinishedRollback final : public LiveFault {
 public:
  // context: the apply's, whose spec and fault id the kind's gone check reads.
  UnfinishedRollback(RollbackStack steps, FaultKind& kind, const FaultContext& context);
  // Runs nothing: a step left when the registry lets go of it (shutdown)
  // stays for the next start's recovery from the journal entry.
  ~UnfinishedRollback() override;

  std::string backend() const override { return "rollback"; }
  std::string detail() const override;
  nlohmann::json undo_record() const override { return nullptr; }
  Status revert() override { return steps_.unwind(); }
  StatusOr<FaultEffect> verify_live() override;
  // What the kind reads back for a fault that left no undo record (as
  // after a crash mid-apply), where it can tell.
  StatusOr<std::string> verify_gone() override;

 private:
  RollbackStack steps_;
  FaultKind& kind_;
  FaultContext context_;
};

}  // namespace chaos::agent
