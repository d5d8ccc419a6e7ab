// `chaosctl run EXPERIMENT.toml`: load and validate, run, report, exit code.
// Several files, or a suite file, run as a suite (suite_command.h).
#include <iostream>

#include "common/duration.h"
#include "common/printable_text.h"
#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/commands/experiment_runner.h"
#include "orchestrator/commands/suite_command.h"
#include "orchestrator/commands/history_support.h"
#include "orchestrator/experiment/experiment_loader.h"
#include "orchestrator/report/report_dir_guard.h"
#include "orchestrator/run/interrupt_watcher.h"
#include "orchestrator/run/plan_printer.h"
#include "orchestrator/suite/suite_loader.h"
#include "orchestrator/run/recovery_timing.h"

namespace chaos::orchestrator {

namespace {

struct RunFlags {
  std::string file;
  std::string report_dir;
  bool replace_report = false;
  bool dry_run = false;
  std::string prometheus;
  std::string inventory;
  std::string output = "text";
  // Suites (issue 17).
  std::vector<std::string> files;
  std::string suite;
  bool fail_fast = false;
  bool keep_going = false;
  std::string settle_timeout;
  HistoryFlags history;
};

void print_verdict(const RunOutcome& outcome, const RunFlags& flags, const std::string& experiment_id) {
  if (flags.output == "json") {
    nlohmann::json verdict = {{"experiment_id", experiment_id}, {"verdict", verdict_name(outcome.verdict)},
                              {"exit_code", exit_code(outcome.verdict)}, {"reason", outcome.reason},
                              {"failed_checks", outcome.failed_checks}, {"aborted_by", outcome.aborted_by},
                              {"recovered", outcome.recovered}, {"report_dir", flags.report_dir},
                              {"unreverted", outcome.unreverted}};
    verdict["ended_early"] = nlohmann::json::array();
    for (const auto& end : outcome.ended_early) verdict["ended_early"].push_back(describe(end));
    const auto seconds_or_null = [](const std::optional<std::chrono::nanoseconds>& duration) {
      return duration ? nlohmann::json(std::chrono::duration<double>(*duration).count()) : nlohmann::json();
    };
    verdict["time_to_recovery_seconds"] = seconds_or_null(outcome.time_to_recovery);
    verdict["time_to_detect_seconds"] = seconds_or_null(outcome.time_to_detect);
    verdict["detected_by"] = outcome.detected_by.empty() ? nlohmann::json()
                                                         : nlohmann::json{{"name", outcome.detected_by},
                                                                          {"kind", outcome.detected_by_kind}};
    verdict["recovery_resolution_seconds"] =
        seconds_or_null(outcome.recovery_resolution.count() > 0 ? std::optional(outcome.recovery_resolution)
                                                                : std::nullopt);
    // Which data the figures rest on: "prometheus_range", "recovery_checks"
    // (the range data was unavailable), or null (not measured).
    verdict["recovery_source"] = outcome.recovery_from_range_data ? nlohmann::json("prometheus_range")
                                 : outcome.time_to_recovery        ? nlohmann::json("recovery_checks")
                                                                   : nlohmann::json();
    verdict["detect_source"] =
        outcome.detection_from_range_data ? nlohmann::json("prometheus_range") : nlohmann::json();
    std::cout << verdict.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::string name = verdict_name(outcome.verdict);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // The reason and the checks carry agents' and Prometheus's text.
  std::cout << "\nverdict: " << name << " (exit " << exit_code(outcome.verdict)
            << "): " << printable_text(outcome.reason) << "\n";
  for (const auto& check : outcome.failed_checks) std::cout << "  failed: " << printable_text(check) << "\n";
  if (!outcome.aborted_by.empty()) std::cout << "  aborted by: " << printable_text(outcome.aborted_by) << "\n";
  const std::string resolution = recovery_resolution_text(outcome.recovery_resolution) + " resolution";
  if (outcome.time_to_detect) {
    std::cout << "  time to detect: " << recovery_seconds_text(*outcome.time_to_detect)
              << " (first violated sample: " << (outcome.detected_by_kind == "compare" ? "compare '" : "'")
              << outcome.detected_by << "', from Prometheus range data, " << resolution << ")\n";
  }
  if (outcome.time_to_recovery) {
    std::cout << "  time to recovery: " << recovery_seconds_text(*outcome.time_to_recovery) << " ("
              << (outcome.recovery_from_range_data ? "from Prometheus range data, "
                                                   : "from the first recovery check that passed, ")
              << resolution << ")" << (outcome.recovered ? "" : ", later than allowed") << "\n";
  } else if (outcome.recovery_measured) {
    std::cout << "  time to recovery: not recovered ("
              << (outcome.recovery_from_range_data
                      ? "the after-checks never held from an instant after the last revert to the end of the run"
                      : "no recovery check passed in time")
              << ")\n";
  }
  for (const auto& agent : outcome.unreverted) std::cout << "  NOT REVERTED: " << agent << "\n";
  for (const auto& end : outcome.ended_early) std::cout << "  ENDED EARLY: " << printable_text(describe(end)) << "\n";
  if (!flags.report_dir.empty()) std::cout << "  report: " << flags.report_dir << "\n";
}

// What every run gets besides the experiment: the "after each run" hooks
// (history, verdict notifications) and journal observers (live
// notifications) go here, for single runs and suites alike.
RunnerOptions runner_options(const RunFlags& flags) {
  RunnerOptions options;
  options.output = flags.output;
  // The run's own times (not the end of writing its reports) go into the history.
  options.after_run.push_back([history = flags.history](const RunRecord& record, const RunJournal& journal) {
    record_run_in_history(history, record.experiment, record.identity, journal, record.outcome, record.times,
                          record.report_dir, std::cerr);
  });
  return options;
}

int execute(const RunFlags& flags, const Experiment& experiment) {
  SystemClock clock;
  InterruptWatcher watcher(clock);  // first, before any thread exists
  RunnerOptions options = runner_options(flags);
  options.on_verdict = [&flags](const RunRecord& record) {
    print_verdict(record.outcome, flags, record.identity.experiment_id);
  };
  ExperimentRunner runner(clock, watcher.interrupted(), std::move(options));
  const RunRecord record = runner.run(experiment, flags.report_dir);
  if (!record.started.ok()) return std::cerr << "chaosctl: " << record.started.message() << "\n", kExitError;
  return exit_code(record.outcome.verdict);
}

int run_experiment(const RunFlags& flags) {
  LoadOptions options;
  if (!flags.inventory.empty()) options.inventory_override = flags.inventory;
  if (!flags.prometheus.empty()) options.prometheus_override = flags.prometheus;
  auto experiment = load_experiment(flags.file, options);
  if (!experiment.ok()) {
    std::cerr << experiment.status().message() << "\n";
    return kExitError;
  }
  if (flags.dry_run) {
    print_plan(std::cout, *experiment);
    std::cout << "dry run: nothing injected\n";
    return kExitOk;
  }
  return execute(flags, *experiment);
}

}  // namespace

int run_suite(const RunFlags& flags) {
  SuiteCommandOptions options;
  if (!flags.suite.empty()) {
    auto suite = load_suite(flags.suite);
    if (!suite.ok()) return std::cerr << suite.status().message() << "\n", kExitError;
    options.suite = std::move(*suite);
  } else if (flags.files.size() == 1) {
    auto suite = load_suite(flags.files[0]);
    if (!suite.ok()) return std::cerr << suite.status().message() << "\n", kExitError;
    options.suite = std::move(*suite);
  } else {
    options.suite = suite_of_files(flags.files);
  }
  if (!flags.inventory.empty()) options.inventory = flags.inventory;
  if (!flags.prometheus.empty()) options.prometheus = flags.prometheus;
  if (flags.fail_fast) options.fail_fast = true;
  if (flags.keep_going) options.fail_fast = false;
  if (!flags.settle_timeout.empty()) {
    auto timeout = parse_duration(flags.settle_timeout);
    if (!timeout.ok() || timeout->count() <= 0 || *timeout > kSuiteMaxSettleTimeout) {
      std::cerr << "chaosctl run: --settle-timeout '" << flags.settle_timeout
                << "': a positive duration of at most 1h, like 90s\n";
      return kExitUsage;
    }
    options.settle_timeout = *timeout;
  }
  options.report_dir = flags.report_dir;
  options.dry_run = flags.dry_run;
  options.runner = runner_options(flags);
  options.print_run = [flags](const RunRecord& record) {
    RunFlags run_flags = flags;
    run_flags.report_dir = record.report_dir;
    print_verdict(record.outcome, run_flags, record.identity.experiment_id);
  };
  if (flags.output == "text") options.runner.on_verdict = options.print_run;
  return run_suite_command(options);
}

// One experiment file runs as always; several files, --suite FILE or a file
// with a [suite] table run as a suite.
int run_command(RunFlags flags) {
  if (flags.suite.empty() && flags.files.empty()) {
    std::cerr << "chaosctl run: give an experiment file, several, or --suite FILE\n";
    return kExitUsage;
  }
  if (!flags.suite.empty() && !flags.files.empty()) {
    std::cerr << "chaosctl run: give experiment files or --suite FILE, not both\n";
    return kExitUsage;
  }
  if (flags.files.size() > kSuiteMaxExperiments) {
    std::cerr << "chaosctl run: " << flags.files.size() << " experiment files, at most " << kSuiteMaxExperiments
              << " per suite\n";
    return kExitUsage;
  }
  // Before anything is loaded or sent: the earlier report is the evidence
  // of a run that already happened.
  if (!flags.report_dir.empty() && !flags.replace_report) {
    if (const Status unused = report::check_report_dir_unused(flags.report_dir); !unused.ok()) {
      std::cerr << "chaosctl run: " << unused.message() << "\n";
      return kExitUsage;
    }
  }
  if (flags.suite.empty() && flags.files.size() == 1 && !is_suite_file(flags.files[0])) {
    flags.file = flags.files[0];
    return run_experiment(flags);
  }
  return run_suite(flags);
}

constexpr const char* kRunCommandHelp =
    "Run an experiment, or several as a suite; exit 0 held, 1 violated, 2 aborted/interrupted, 3 error.\n"
    "A suite (several files, --suite FILE, or a file with a [suite] table) runs its experiments one after\n"
    "another. Before each one after the first, its before-checks must hold again within the settle\n"
    "timeout; if they never do, it is not run and counts as an error. The exit code is the worst verdict\n"
    "(held 0 < violated 1 < aborted 2 < error 3). Default --keep-going: every experiment runs;\n"
    "--fail-fast stops after the first that did not hold. Ctrl-C reverts the current experiment and\n"
    "reports the rest as not run. --report-dir DIR then holds DIR/01-<title>/ per experiment, one\n"
    "DIR/junit.xml (a testsuite per experiment) and DIR/index.html.";

void add_run_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* command = app.add_subcommand("run", kRunCommandHelp);
  command->add_option("experiment", flags->files, "Experiment TOML file(s), or one suite file");
  command->add_option("--report-dir", flags->report_dir,
                      "Write journal.json, junit.xml and report.html here (suite: one dir per experiment, "
                      "junit.xml and index.html)");
  command->add_flag("--replace-report", flags->replace_report,
                    "Write into a --report-dir that holds an earlier run's report (refused without it)");
  command->add_flag("--dry-run", flags->dry_run, "Validate and print the plan without injecting");
  command->add_option("--prometheus", flags->prometheus, "Prometheus URL (overrides the experiment's)");
  command->add_option("--inventory,-i", flags->inventory, "Agent inventory (overrides the experiment's)");
  command->add_option("--suite", flags->suite, "Suite TOML file (title, [[run]] entries, settle timeout)");
  auto* fail_fast = command->add_flag("--fail-fast", flags->fail_fast,
                                      "Suite: stop after the first experiment that did not hold");
  command->add_flag("--keep-going", flags->keep_going, "Suite: run every experiment (the default)")
      ->excludes(fail_fast);
  // Checked here, so a bad value is refused for one file as for a suite.
  command->add_option("--settle-timeout", flags->settle_timeout,
                      "Suite: how long each experiment's before-checks may take to hold again (default 2m)")
      ->check(CLI::Validator(
          [](std::string& text) {
            const auto timeout = parse_duration(text);
            return !timeout.ok() || timeout->count() <= 0 || *timeout > kSuiteMaxSettleTimeout
                       ? std::string("a positive duration of at most 1h, like 90s")
                       : std::string();
          },
          "DURATION"));
  add_output_option(*command, flags->output);
  add_history_flags(*command, flags->history);
  command->footer("The experiment's [[notify]] webhooks and [grafana] annotations are sent in the background and "
                  "never change the verdict; after it chaosctl waits at most 30s for them "
                  "(docs/notifications.md, also for Prometheus over HTTPS).");
  command->callback([flags, &exit_code] { exit_code = run_command(*flags); });
}

}  // namespace chaos::orchestrator
