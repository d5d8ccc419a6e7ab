// junit.xml: one testcase per steady-state check per phase it applies to
// (plus "recovery" when [recovery] is set), so CI systems show which SLO
// broke in which phase. A phase that never ran is a skipped testcase. When
// the run injected faults, "faults ran as planned" is an error testcase
// naming each fault its agent ended early.
#pragma once

#include <string>

#include "orchestrator/experiment/experiment.h"
#include "orchestrator/run/run_journal.h"
#include "orchestrator/run/run_outcome.h"

namespace chaos::orchestrator {

std::string render_junit(const Experiment& experiment, const RunJournal& journal, const RunOutcome& outcome,
                         double duration_seconds);

// A junit.xml document around <testsuite> elements; `name` (when not
// empty) names the <testsuites> element (a suite's title).
std::string junit_document(const std::string& testsuites, const std::string& name = "");

// The same run as one <testsuite> element (indented for <testsuites>), so a
// suite's junit.xml holds one per experiment (orchestrator/suite/).
std::string render_junit_testsuite(const Experiment& experiment, const RunJournal& journal,
                                   const RunOutcome& outcome, double duration_seconds);

std::string xml_escape(const std::string& text);

}  // namespace chaos::orchestrator
