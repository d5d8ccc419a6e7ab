#include "orchestrator/run/progress_printer.h"

#include <ctime>

#include "common/duration.h"
#include "common/printable_text.h"

namespace chaos::orchestrator {

namespace {

std::string clock_time(WallTime time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &utc);
  return buffer;
}

// Values and errors come from Prometheus (or a proxy before it), event
// messages from agents: an escape sequence in them must not reach the
// terminal.
std::string describe_record(const EvaluationRecord& record) {
  if (record.kind == "compare") {
    return printable_text(record.evaluation.value_text + (record.evaluation.holds ? " ok" : " failed"));
  }
  return printable_text(record.kind == "abort" ? describe_abort(record.evaluation) : describe(record.evaluation));
}

// Nothing to tell beyond the status line: a check that holds, an abort
// that did not fire.
bool as_expected(const EvaluationRecord& record) {
  if (record.kind == "abort") return !record.evaluation.holds && record.evaluation.error.empty();
  return record.evaluation.holds;
}

}  // namespace

void ProgressPrinter::clear_status_line() {
  if (terminal_ && status_shown_) out_ << "\r\033[K";
  status_shown_ = false;
}

void ProgressPrinter::on_event(const EventRecord& event) {
  clear_status_line();
  out_ << clock_time(event.at) << " " << event.type << ": " << printable_text(event.message) << "\n";
  if (event.type == "phase") {
    phase_ = event.message;
    latest_.clear();
  }
  out_.flush();
}

void ProgressPrinter::on_evaluation(const EvaluationRecord& record) {
  const std::string text = describe_record(record);
  latest_[record.evaluation.name] = text;
  if (terminal_ && record.phase == "during" && as_expected(record)) return redraw();
  clear_status_line();
  out_ << clock_time(record.at) << " " << record.phase << " " << record.kind << " '" << record.evaluation.name
       << "': " << text << "\n";
  out_.flush();
}

void ProgressPrinter::on_progress(const std::string& phase, std::chrono::nanoseconds time_left) {
  phase_ = phase;
  time_left_ = time_left;
  if (terminal_) redraw();
}

void ProgressPrinter::redraw() {
  clear_status_line();
  const auto whole_seconds = std::chrono::duration_cast<std::chrono::seconds>(time_left_);
  std::string line = "[" + phase_ + "] " + format_duration(whole_seconds) + " left";
  for (const auto& [name, text] : latest_) line += " | " + name + ": " + text;
  if (line.size() > 160) line = line.substr(0, 157) + "...";
  out_ << line;
  out_.flush();
  status_shown_ = true;
}

void ProgressPrinter::finish() {
  clear_status_line();
  out_.flush();
}

}  // namespace chaos::orchestrator
