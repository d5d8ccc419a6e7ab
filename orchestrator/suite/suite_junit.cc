#include "orchestrator/suite/suite_junit.h"

#include <sstream>

#include "orchestrator/run/junit_writer.h"

namespace chaos::orchestrator {

namespace {

constexpr const char* kSuiteSettleCase = "steady state settled before the run";
constexpr const char* kSuiteStartCase = "the run started";

// A run that never started (not settled, not run, or no run could begin).
std::string unran_testsuite(const SuiteRunResult& run) {
  const bool error = run.state != SuiteRunState::kNotRun;
  const std::string& reason = run.state == SuiteRunState::kRan ? run.record->outcome.reason : run.reason;
  std::ostringstream out;
  out << "  <testsuite name=\"" << xml_escape(run.title) << "\" tests=\"1\" failures=\"0\" errors=\""
      << (error ? 1 : 0) << "\" skipped=\"" << (error ? 0 : 1) << "\" time=\"0\">\n";
  out << "    <properties><property name=\"verdict\" value=\"" << (error ? "error" : "not run")
      << "\"/><property name=\"reason\" value=\"" << xml_escape(reason) << "\"/></properties>\n";
  out << "    <testcase classname=\"" << xml_escape(run.title) << "\" name=\""
      << (run.state == SuiteRunState::kRan ? kSuiteStartCase : kSuiteSettleCase) << "\">"
      << (error ? "<error message=\"" : "<skipped message=\"") << xml_escape(reason) << "\"/></testcase>\n";
  out << "  </testsuite>\n";
  return out.str();
}

}  // namespace

std::string render_suite_junit(const SuiteOutcome& outcome) {
  std::string testsuites;
  for (const auto& run : outcome.runs) {
    const bool has_own = run.state == SuiteRunState::kRan && !run.record->junit_testsuite.empty();
    testsuites += has_own ? run.record->junit_testsuite : unran_testsuite(run);
  }
  return junit_document(testsuites, outcome.title);
}

}  // namespace chaos::orchestrator
