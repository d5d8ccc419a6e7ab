// Live progress of a run. On a terminal one status line is redrawn in place
// (phase, time left, latest SLO values); otherwise (CI logs, pipes) every
// event and evaluation is one plain, timestamped line.
#pragma once

#include <map>
#include <ostream>
#include <string>

#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

class ProgressPrinter final : public RunObserver {
 public:
  ProgressPrinter(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

  void on_event(const EventRecord& event) override;
  void on_evaluation(const EvaluationRecord& record) override;
  void on_progress(const std::string& phase, std::chrono::nanoseconds time_left) override;
  // Clears the status line before the final verdict is printed.
  void finish();

 private:
  void redraw();
  void clear_status_line();

  std::ostream& out_;
  bool terminal_;
  std::string phase_;
  std::chrono::nanoseconds time_left_{0};
  std::map<std::string, std::string> latest_;  // check name -> "0.995 ok"
  bool status_shown_ = false;
};

}  // namespace chaos::orchestrator
