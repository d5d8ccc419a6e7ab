// `chaosctl run EXPERIMENT.toml`: load and validate, run, report, exit code.
#include <unistd.h>

#include <iostream>
#include <random>

#include "common/duration.h"
#include "orchestrator/commands/command_support.h"
#include "orchestrator/commands/commands.h"
#include "orchestrator/experiment/experiment_loader.h"
#include "orchestrator/notify/run_notifier.h"
#include "orchestrator/run/experiment_run.h"
#include "orchestrator/run/interrupt_watcher.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/junit_writer.h"
#include "orchestrator/run/plan_printer.h"
#include "orchestrator/run/progress_printer.h"
#include "orchestrator/report/report_files.h"
#include "orchestrator/report/timeline_collector.h"

namespace chaos::orchestrator {

namespace {

struct RunFlags {
  std::string file;
  std::string report_dir;
  bool dry_run = false;
  std::string prometheus;
  std::string inventory;
  std::string output = "text";
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
    verdict["time_to_recovery_seconds"] =
        outcome.time_to_recovery ? nlohmann::json(std::chrono::duration<double>(*outcome.time_to_recovery).count())
                                 : nlohmann::json();
    std::cout << verdict.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::string name = verdict_name(outcome.verdict);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::cout << "\nverdict: " << name << " (exit " << exit_code(outcome.verdict) << "): " << outcome.reason << "\n";
  for (const auto& check : outcome.failed_checks) std::cout << "  failed: " << check << "\n";
  if (!outcome.aborted_by.empty()) std::cout << "  aborted by: " << outcome.aborted_by << "\n";
  if (outcome.time_to_recovery) {
    std::cout << "  time to recovery: " << format_duration(*outcome.time_to_recovery) << "\n";
  } else if (outcome.recovery_measured) {
    std::cout << "  time to recovery: did not recover in time\n";
  }
  for (const auto& agent : outcome.unreverted) std::cout << "  NOT REVERTED: " << agent << "\n";
  for (const auto& end : outcome.ended_early) std::cout << "  ENDED EARLY: " << describe(end) << "\n";
  if (!flags.report_dir.empty()) std::cout << "  report: " << flags.report_dir << "\n";
}

// journal.json (with the SLO timeline from Prometheus), junit.xml, report.html.
Status write_reports(const RunFlags& flags, const Experiment& experiment, const RunIdentity& identity,
                     const RunJournal& journal, const RunOutcome& outcome, const RunTimes& times,
                     PrometheusClient& prometheus) {
  if (flags.report_dir.empty()) return {};
  auto journal_json = journal_to_json(experiment, identity, journal, outcome, times);
  if (flags.output == "text") std::cout << "collecting the SLO timeline from Prometheus for the report\n";
  journal_json["timeline"] = report::collect_timeline(
      experiment, prometheus, report::timeline_window(times.started, times.finished));
  // Agents and Prometheus may send invalid UTF-8, which dump() would throw on.
  const std::string text = journal_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  CHAOS_RETURN_IF_ERROR(write_report_file(flags.report_dir, "journal.json", text + "\n"));
  const double seconds = std::chrono::duration<double>(times.finished - times.started).count();
  CHAOS_RETURN_IF_ERROR(
      write_report_file(flags.report_dir, "junit.xml", render_junit(experiment, journal, outcome, seconds)));
  CHAOS_ASSIGN_OR_RETURN(auto html, report::render_journal(journal_json, flags.report_dir + "/journal.json"));
  return write_report_file(flags.report_dir, report::kReportFileName, html);
}

int execute(const RunFlags& flags, const Experiment& experiment) {
  SystemClock clock;
  InterruptWatcher watcher(clock);  // first, before any thread exists
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(experiment.settings.preflight_timeout);
  HttpEndpointConfig prometheus_endpoint = experiment.prometheus_endpoint;
  prometheus_endpoint.timeout = timeout;
  auto prometheus = make_http_prometheus_client(prometheus_endpoint);
  if (!prometheus.ok()) return std::cerr << "chaosctl: " << prometheus.status().message() << "\n", kExitError;
  GrpcAgentClientFactory agents(timeout);
  agents.trust(experiment.agents);
  RunJournal journal(clock);
  ProgressPrinter printer(std::cout, isatty(STDOUT_FILENO) == 1 && flags.output == "text");
  journal.add_observer(&printer);
  std::random_device random;
  RunIdentity identity;
  identity.experiment_id = make_experiment_id(experiment.title, clock.wall_now(), random());
  identity.lease_id = identity.experiment_id + "-lease";
  identity.lease_ttl = experiment.settings.lease_ttl;
  auto notifier = RunNotifier::create(experiment.notify, {experiment.title, experiment.source_path, identity}, clock);
  if (!notifier.ok()) return std::cerr << "chaosctl: " << notifier.status().message() << "\n", kExitError;
  journal.add_observer(notifier->get());
  const RunTimes started{clock.wall_now(), {}};
  RunContext context{experiment, **prometheus, agents, clock, journal, watcher.interrupted(), identity};
  const RunOutcome outcome = ExperimentRun(context).run();
  printer.finish();
  const Status written =
      write_reports(flags, experiment, identity, journal, outcome, {started.started, clock.wall_now()}, **prometheus);
  if (!written.ok()) std::cerr << "chaosctl: " << written.message() << "\n";
  print_verdict(outcome, flags, identity.experiment_id);
  (*notifier)->finish(outcome, journal, {started.started, clock.wall_now()},
                      flags.report_dir.empty() ? "" : flags.report_dir + "/" + report::kReportFileName, std::cerr);
  return exit_code(outcome.verdict);
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

void add_run_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* command = app.add_subcommand(
      "run", "Run an experiment; exit 0 held, 1 violated, 2 aborted/interrupted, 3 error");
  command->add_option("experiment", flags->file, "Experiment TOML file")->required();
  command->add_option("--report-dir", flags->report_dir, "Write journal.json, junit.xml and report.html here");
  command->add_flag("--dry-run", flags->dry_run, "Validate and print the plan without injecting");
  command->add_option("--prometheus", flags->prometheus, "Prometheus URL (overrides the experiment's)");
  command->add_option("--inventory,-i", flags->inventory, "Agent inventory (overrides the experiment's)");
  add_output_option(*command, flags->output);
  command->footer("The experiment's [[notify]] webhooks and [grafana] annotations are sent in the background and "
                  "never change the verdict; after it chaosctl waits at most 30s for them "
                  "(docs/notifications.md, also for Prometheus over HTTPS).");
  command->callback([flags, &exit_code] { exit_code = run_experiment(*flags); });
}

}  // namespace chaos::orchestrator
