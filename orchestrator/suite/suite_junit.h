// The suite's junit.xml: one <testsuite> per experiment inside one
// <testsuites>. A run's element is the one its own junit.xml holds; an
// experiment that did not settle is a testsuite with one error testcase
// ("steady state settled before the run"), one that was not run a testsuite
// with that testcase skipped, so CI shows every experiment of the suite.
#pragma once

#include <string>

#include "orchestrator/suite/suite_run.h"

namespace chaos::orchestrator {

std::string render_suite_junit(const SuiteOutcome& outcome);

}  // namespace chaos::orchestrator
