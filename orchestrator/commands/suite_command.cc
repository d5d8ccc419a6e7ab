#include "orchestrator/commands/suite_command.h"

#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "orchestrator/commands/exit_codes.h"
#include "orchestrator/experiment/experiment_loader.h"
#include "orchestrator/run/interrupt_watcher.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/plan_printer.h"
#include "orchestrator/suite/suite_index.h"
#include "orchestrator/suite/suite_junit.h"
#include "orchestrator/suite/suite_run.h"

namespace chaos::orchestrator {

namespace {

// Every experiment, or every load error (each already "file:line:col").
StatusOr<std::vector<SuiteItem>> load_suite_items(const SuiteCommandOptions& options) {
  std::vector<SuiteItem> items;
  std::string errors;
  std::set<std::string> reported;  // one experiment in two entries: its errors once
  for (size_t i = 0; i < options.suite.entries.size(); ++i) {
    const SuiteEntry& entry = options.suite.entries[i];
    LoadOptions load;
    load.inventory_override = options.inventory ? options.inventory : entry.inventory;
    load.prometheus_override = options.prometheus ? options.prometheus : entry.prometheus;
    auto experiment = load_experiment(entry.file, load);
    if (!experiment.ok()) {
      // Which entry of the suite named it: the experiment's own errors point
      // into its file, which may not even exist.
      const std::string entry_name = (options.suite.source_path.empty() ? std::string("suite")
                                                                         : options.suite.source_path) +
                                     ": run[" + std::to_string(i) + "] (" + entry.file + ")";
      if (reported.insert(experiment.status().message()).second) {
        errors += (errors.empty() ? "" : "\n") + entry_name + ":\n" + experiment.status().message();
      } else {
        errors += (errors.empty() ? "" : "\n") + entry_name + ": the same errors as above";
      }
      continue;
    }
    const auto settle = options.settle_timeout.value_or(entry.settle_timeout.value_or(options.suite.settle_timeout));
    items.push_back({std::move(*experiment), settle});
  }
  if (!errors.empty()) return invalid_argument(errors);
  return items;
}

nlohmann::json suite_json(const SuiteOutcome& outcome, const std::string& report_dir) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : outcome.runs) {
    const auto verdict = run.verdict();
    nlohmann::json entry = {{"title", run.title},
                            {"verdict", verdict ? verdict_name(*verdict) : "not run"},
                            {"reason", run.reason}};
    if (run.state == SuiteRunState::kRan) {
      const RunRecord& record = *run.record;
      entry["reason"] = record.outcome.reason;
      entry["experiment_id"] = record.identity.experiment_id;
      entry["report_dir"] = record.report_dir;
      entry["duration_seconds"] = std::chrono::duration<double>(record.times.finished - record.times.started).count();
      entry["time_to_recovery_seconds"] =
          record.outcome.time_to_recovery
              ? nlohmann::json(std::chrono::duration<double>(*record.outcome.time_to_recovery).count())
              : nlohmann::json();
    }
    runs.push_back(entry);
  }
  return {{"suite", outcome.title},       {"verdict", verdict_name(outcome.worst)},
          {"exit_code", exit_code(outcome.worst)}, {"interrupted", outcome.interrupted},
          {"report_dir", report_dir},     {"runs", runs}};
}

Status write_suite_reports(const std::string& report_dir, const SuiteOutcome& outcome) {
  if (report_dir.empty()) return {};
  CHAOS_RETURN_IF_ERROR(write_report_file(report_dir, "junit.xml", render_suite_junit(outcome)));
  return write_report_file(report_dir, kSuiteIndexFileName, render_suite_index(outcome));
}

}  // namespace

int run_suite_command(const SuiteCommandOptions& options) {
  auto items = load_suite_items(options);
  if (!items.ok()) {
    std::cerr << items.status().message() << "\n";
    return kExitError;
  }
  const bool text = options.runner.output == "text";
  if (options.dry_run) {
    for (size_t i = 0; i < items->size(); ++i) {
      std::cout << "experiment " << i + 1 << "/" << items->size() << ":\n";
      print_plan(std::cout, (*items)[i].experiment);
    }
    std::cout << "dry run: nothing injected\n";
    return kExitOk;
  }
  SystemClock clock;
  InterruptWatcher watcher(clock);  // first, before any thread exists
  ExperimentRunner runner(clock, watcher.interrupted(), options.runner);
  SettlePrometheusFactory prometheus = [](const Experiment& experiment) {
    return make_experiment_prometheus_client(experiment);
  };
  // Each experiment is loaded again right before its run, so targets chosen
  // by labels (the lab's stream leader) match the inventory as it is then,
  // not as it was when the suite started; and each run's verdict is printed
  // right after it, as a single run prints it.
  struct FreshRunner final : ExperimentRunnerInterface {
    FreshRunner(ExperimentRunnerInterface& runner, const SuiteCommandOptions& command)
        : inner(runner), options(command) {}
    RunRecord run(const Experiment& loaded, const std::string& report_dir) override {
      LoadOptions load;
      load.inventory_override = loaded.inventory_path.empty() ? std::nullopt
                                                              : std::optional<std::string>(loaded.inventory_path);
      load.prometheus_override = loaded.prometheus_url;
      auto experiment = load_experiment(loaded.source_path, load);
      RunRecord record;
      if (!experiment.ok()) {
        record = RunRecord{loaded, {}, {}, {}, report_dir, experiment.status(), {}};
        record.outcome.verdict = Verdict::kError;
        record.outcome.reason = "reloading the experiment before its run: " + experiment.status().message();
        std::cerr << record.outcome.reason << "\n";
        if (options.runner.output == "text" && options.print_run) options.print_run(record);
      } else {
        // A run that started prints its verdict itself (RunnerOptions::on_verdict).
        record = inner.run(*experiment, report_dir);
        if (!record.started.ok() && options.runner.output == "text" && options.print_run) options.print_run(record);
      }
      return record;
    }
    ExperimentRunnerInterface& inner;
    const SuiteCommandOptions& options;
  } fresh(runner, options);
  SuiteContext context{clock, watcher.interrupted(), fresh, prometheus, std::cout, options.report_dir};
  SuiteRun suite(context, options.suite.title, options.suite.settle_interval,
                 options.fail_fast.value_or(options.suite.fail_fast));
  const SuiteOutcome outcome = suite.run(*items);
  const Status written = write_suite_reports(options.report_dir, outcome);
  if (!written.ok()) std::cerr << "chaosctl: " << written.message() << "\n";
  if (text) {
    print_suite_summary(std::cout, outcome);
    if (!options.report_dir.empty()) {
      std::cout << "  index: " << options.report_dir << "/" << kSuiteIndexFileName << "\n";
    }
  } else {
    std::cout << suite_json(outcome, options.report_dir).dump(2, ' ', false,
                                                               nlohmann::json::error_handler_t::replace)
              << "\n";
  }
  return exit_code(outcome.worst);
}

}  // namespace chaos::orchestrator
