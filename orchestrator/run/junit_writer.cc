#include "orchestrator/run/junit_writer.h"

#include <sstream>
#include <vector>

#include "common/utf8_text.h"
#include "orchestrator/run/first_violation.h"

namespace chaos::orchestrator {

namespace {

struct TestCase {
  std::string name;
  bool ran = false;
  std::string failure;  // empty: passed
  std::string error;    // the case could not run as designed
};

// Whether every fault lived as long as the method said: a fault its agent
// ended early (lease lost, shutdown, ...) is an error of the run, not a
// failed hypothesis.
TestCase fault_lifetimes_case(const RunOutcome& outcome) {
  TestCase test{"faults ran as planned", true, "", ""};
  if (outcome.ended_early.empty()) return test;
  test.error = std::to_string(outcome.ended_early.size()) + " fault(s) ended early";
  for (size_t i = 0; i < outcome.ended_early.size(); ++i) {
    test.error += (i == 0 ? ": " : "; ") + describe(outcome.ended_early[i]);
  }
  return test;
}

TestCase check_case(const SteadyStateCheck& check, Phase phase, const std::vector<EvaluationRecord>& records) {
  TestCase test{check.condition.name + " [" + phase_name(phase) + "]", false, "", ""};
  size_t total = 0, failed = 0;
  for (const auto& record : records) {
    if (record.kind != "steady_state" || record.phase != phase_name(phase) ||
        record.evaluation.name != check.condition.name) {
      continue;
    }
    ++total;
    if (record.evaluation.holds) continue;
    if (failed++ == 0) test.failure = describe(record.evaluation);
  }
  test.ran = total > 0;
  if (failed > 0) {
    test.failure = std::to_string(failed) + " of " + std::to_string(total) +
                   " evaluations failed; first: " + test.failure;
  }
  return test;
}

// A [[compare]] check per phase: its failure message is the sentence with
// both values ("faulted 0.31 vs control 0.12 differ by 158% >= 25%").
TestCase compare_case(const CompareCheck& check, Phase phase, const std::vector<EvaluationRecord>& records) {
  TestCase test{check.name + " [" + phase_name(phase) + "]", false, "", ""};
  size_t total = 0, failed = 0;
  for (const auto& record : records) {
    if (record.kind != "compare" || record.phase != phase_name(phase) || record.evaluation.name != check.name) continue;
    ++total;
    if (!record.evaluation.holds && failed++ == 0) test.failure = record.evaluation.value_text;
  }
  test.ran = total > 0;
  if (failed > 0) {
    test.failure = std::to_string(failed) + " of " + std::to_string(total) + " evaluations failed; first: " + test.failure;
  }
  return test;
}

void write_case(std::ostringstream& out, const std::string& suite, const TestCase& test) {
  out << "    <testcase classname=\"" << xml_escape(suite) << "\" name=\"" << xml_escape(test.name) << "\">";
  if (!test.ran) {
    out << "<skipped message=\"phase did not run\"/>";
  } else if (!test.error.empty()) {
    out << "<error message=\"" << xml_escape(test.error) << "\"/>";
  } else if (!test.failure.empty()) {
    out << "<failure message=\"" << xml_escape(test.failure) << "\"/>";
  }
  out << "</testcase>\n";
}

// Bytes that are not UTF-8 (a proxy's Latin-1 error page in a query error,
// a reply cut at 200 bytes inside a character) would make the whole
// document ill-formed, and a strict JUnit reader drops the file: they become
// U+FFFD, as they do in journal.json.
std::string xml_characters(const std::string& text) {
  std::string repaired = valid_utf8(text);
  // U+FFFE and U+FFFF are UTF-8 but not XML characters.
  for (const std::string noncharacter : {"\xEF\xBF\xBE", "\xEF\xBF\xBF"}) {
    for (auto at = repaired.find(noncharacter); at != std::string::npos; at = repaired.find(noncharacter, at)) {
      repaired.replace(at, noncharacter.size(), "\xEF\xBF\xBD");
    }
  }
  return repaired;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string escaped;
  for (char c : xml_characters(text)) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t' || c == '\r') escaped += c;
    }
  }
  return escaped;
}

std::string render_junit_testsuite(const Experiment& experiment, const RunJournal& journal,
                                   const RunOutcome& outcome, double duration_seconds) {
  const auto records = journal.evaluations();
  std::vector<TestCase> cases;
  for (const auto& check : experiment.steady_state) {
    for (auto phase : {Phase::kBefore, Phase::kDuring, Phase::kAfter}) {
      if (check.applies_to(phase)) cases.push_back(check_case(check, phase, records));
    }
  }
  for (const auto& check : experiment.compare) {
    for (auto phase : {Phase::kDuring, Phase::kAfter}) {
      if (check.applies_to(phase)) cases.push_back(compare_case(check, phase, records));
    }
  }
  if (experiment.recovery_within) {
    TestCase recovery{"recovery", outcome.recovery_measured, "", ""};
    if (outcome.recovery_measured && !outcome.recovered) recovery.failure = "did not recover in time";
    cases.push_back(recovery);
  }
  if (!journal.faults().empty()) cases.push_back(fault_lifetimes_case(outcome));
  // Issue 23: every failure of a violated run leads with the check that
  // broke first, so CI shows the cause before the consequences.
  std::string first_violation;
  if (outcome.verdict == Verdict::kViolated) {
    if (auto first = find_first_violation(records, first_inject_time(journal.faults()))) {
      first_violation = "first violation: " + describe(*first);
      for (auto& test : cases) {
        if (!test.failure.empty()) test.failure = first_violation + " -- this check: " + test.failure;
      }
    }
  }
  size_t failures = 0, skipped = 0, errors = 0;
  for (const auto& test : cases) {
    failures += test.ran && test.error.empty() && !test.failure.empty() ? 1 : 0;
    errors += test.ran && !test.error.empty() ? 1 : 0;
    skipped += test.ran ? 0 : 1;
  }
  // An error verdict no test case carries (preflight, revert) still counts.
  if (errors == 0 && outcome.verdict == Verdict::kError) errors = 1;
  std::ostringstream out;
  out << "  <testsuite name=\"" << xml_escape(experiment.title) << "\" tests=\"" << cases.size()
      << "\" failures=\"" << failures << "\" errors=\"" << errors
      << "\" skipped=\"" << skipped << "\" time=\"" << duration_seconds << "\">\n";
  out << "    <properties><property name=\"verdict\" value=\"" << verdict_name(outcome.verdict)
      << "\"/><property name=\"reason\" value=\"" << xml_escape(outcome.reason) << "\"/>";
  if (!first_violation.empty()) {
    out << "<property name=\"first_violation\" value=\"" << xml_escape(first_violation) << "\"/>";
  }
  out << "</properties>\n";
  for (const auto& test : cases) write_case(out, experiment.title, test);
  out << "  </testsuite>\n";
  return out.str();
}

std::string junit_document(const std::string& testsuites, const std::string& name) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" +
         (name.empty() ? std::string() : " name=\"" + xml_escape(name) + "\"") + ">\n" + testsuites +
         "</testsuites>\n";
}

std::string render_junit(const Experiment& experiment, const RunJournal& journal, const RunOutcome& outcome,
                         double duration_seconds) {
  return junit_document(render_junit_testsuite(experiment, journal, outcome, duration_seconds));
}

}  // namespace chaos::orchestrator
