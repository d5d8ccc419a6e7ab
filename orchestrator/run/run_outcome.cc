#include "orchestrator/run/run_outcome.h"

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

std::string describe(const EarlyEnd& end) {
  std::string text = "fault " + end.fault_id + (end.kind.empty() ? "" : " (" + end.kind + ")") + " on " + end.agent;
  if (!end.node.empty() && end.node != end.agent) text += " [" + end.node + "]";
  text += " ended early: " + end.reason;
  if (!end.detail.empty()) text += " (" + end.detail + ")";
  return text;
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
