#include "orchestrator/suite/suite_junit.h"

#include <sstream>

#include "orchestrator/run/junit_writer.h"

namespace chaos::orchestrator {

namespace {

constexpr const char* kSuiteSettleCase = "steady state settled before the run";

std::string unran_testsuite(const SuiteRunResult& run) {
  const bool error = run.state == SuiteRunState::kNotSettled;
  std::ostringstream out;
  out << "  <testsuite name=\"" << xml_escape(run.title) << "\" tests=\"1\" failures=\"0\" errors=\""
      << (error ? 1 : 0) << "\" skipped=\"" << (error ? 0 : 1) << "\" time=\"0\">\n";
  out << "    <properties><property name=\"verdict\" value=\"" << (error ? "error" : "not run")
      << "\"/><property name=\"reason\" value=\"" << xml_escape(run.reason) << "\"/></properties>\n";
  out << "    <testcase classname=\"" << xml_escape(run.title) << "\" name=\"" << kSuiteSettleCase << "\">"
      << (error ? "<error message=\"" : "<skipped message=\"") << xml_escape(run.reason) << "\"/></testcase>\n";
  out << "  </testsuite>\n";
  return out.str();
}

}  // namespace

std::string render_suite_junit(const SuiteOutcome& outcome) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"" << xml_escape(outcome.title) << "\">\n";
  for (const auto& run : outcome.runs) {
    out << (run.state == SuiteRunState::kRan ? run.record->junit_testsuite : unran_testsuite(run));
  }
  out << "</testsuites>\n";
  return out.str();
}

}  // namespace chaos::orchestrator
