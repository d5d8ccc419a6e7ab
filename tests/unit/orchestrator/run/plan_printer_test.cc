// The dry-run plan: a [finding] is shown with what it claims, its remedy
// and the twin that applies it; without one the plan says nothing of it.
#include "orchestrator/run/plan_printer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Experiment plan_experiment() {
  Experiment experiment;
  experiment.title = "Stranded client";
  experiment.source_path = "experiments/stranded-client.toml";
  return experiment;
}

std::string plan_text(const Experiment& experiment) {
  std::ostringstream out;
  print_plan(out, experiment);
  return out.str();
}

TEST(PlanPrinter, DryRunShowsTheFindingItsRemedyAndTheTwin) {
  Experiment experiment = plan_experiment();
  experiment.finding = Finding{"the probe stayed on a dead server for two minutes",
                               "ping_interval 2m\nx max_pings_out 2", "--ping-interval 1s",
                               "stranded-client-remedied.toml"};
  EXPECT_THAT(plan_text(experiment),
              HasSubstr("finding:\n"
                        "  observed: the probe stayed on a dead server for two minutes\n"
                        "  mechanism: ping_interval 2m\n"
                        "    x max_pings_out 2\n"
                        "  remedy: --ping-interval 1s\n"
                        "  remedied by: stranded-client-remedied.toml (experiments/stranded-client-remedied.toml)\n"));
}

TEST(PlanPrinter, AFindingWithOnlyItsRemedyShowsOnlyThat) {
  Experiment experiment = plan_experiment();
  experiment.finding = Finding{"", "", "restart the consumer", ""};
  const std::string text = plan_text(experiment);
  EXPECT_THAT(text, HasSubstr("finding:\n  remedy: restart the consumer\nsteady state:"));
  EXPECT_THAT(text, Not(HasSubstr("remedied by")));
}

// A TOML """ text ends with a newline: no line of spaces after it, and
// an empty line inside stays empty.
TEST(PlanPrinter, TrailingNewlinesOfAFindingTextPrintNoLineOfSpaces) {
  Experiment experiment = plan_experiment();
  experiment.finding = Finding{"stalled\n\nfor two minutes\n\n", "", "", ""};
  EXPECT_THAT(plan_text(experiment), HasSubstr("finding:\n  observed: stalled\n\n    for two minutes\nsteady state:"));
  experiment.finding = Finding{"\n", "", "restart", ""};
  EXPECT_THAT(plan_text(experiment), HasSubstr("finding:\n  remedy: restart\nsteady state:"));
}

TEST(PlanPrinter, NoFindingNoSection) {
  EXPECT_THAT(plan_text(plan_experiment()), Not(HasSubstr("finding")));
}

}  // namespace
}  // namespace chaos::orchestrator
