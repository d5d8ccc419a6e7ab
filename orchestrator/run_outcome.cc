#include "orchestrator/run_outcome.h"

namespace chaos::orchestrator {

int exit_code(Verdict verdict) {
  switch (verdict) {
    case Verdict::kHeld: return 0;
    case Verdict::kViolated: return 1;
    case Verdict::kAborted: return 2;
    case Verdict::kError: return 3;
  }
  return 3;
}

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kHeld: return "held";
    case Verdict::kViolated: return "violated";
    case Verdict::kAborted: return "aborted";
    case Verdict::kError: return "error";
  }
  return "error";
}

}  // namespace chaos::orchestrator
