#include "orchestrator/commands/experiment_runner.h"

#include <unistd.h>

#include <iostream>
#include <random>

#include "orchestrator/clients/agent_client.h"
#include "orchestrator/notify/run_notifier.h"
#include "orchestrator/report/report_files.h"
#include "orchestrator/report/timeline_collector.h"
#include "orchestrator/run/experiment_run.h"
#include "orchestrator/run/junit_writer.h"
#include "orchestrator/run/progress_printer.h"

namespace chaos::orchestrator {

namespace {

// journal.json (with the SLO timeline from Prometheus), junit.xml, report.html.
Status write_run_reports(const std::string& output, const RunRecord& record, const RunJournal& journal,
                         PrometheusClient& prometheus) {
  if (record.report_dir.empty()) return {};
  const Experiment& experiment = record.experiment;
  auto journal_json = journal_to_json(experiment, record.identity, journal, record.outcome, record.times);
  if (output == "text") std::cout << "collecting the SLO timeline from Prometheus for the report\n";
  journal_json["timeline"] = report::collect_timeline(
      experiment, prometheus, report::timeline_window(record.times.started, record.times.finished));
  // Agents and Prometheus may send invalid UTF-8, which dump() would throw on.
  const std::string text = journal_json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  CHAOS_RETURN_IF_ERROR(write_report_file(record.report_dir, "journal.json", text + "\n"));
  CHAOS_RETURN_IF_ERROR(write_report_file(record.report_dir, "junit.xml", junit_document(record.junit_testsuite)));
  CHAOS_ASSIGN_OR_RETURN(auto html, report::render_journal(journal_json, record.report_dir + "/journal.json"));
  return write_report_file(record.report_dir, report::kReportFileName, html);
}

RunRecord not_started(RunRecord record, const Status& why) {
  record.started = why;
  record.outcome.verdict = Verdict::kError;
  record.outcome.reason = why.message();
  return record;
}

}  // namespace

StatusOr<std::unique_ptr<PrometheusClient>> make_experiment_prometheus_client(const Experiment& experiment) {
  HttpEndpointConfig endpoint = experiment.prometheus_endpoint;
  endpoint.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(experiment.settings.preflight_timeout);
  return make_http_prometheus_client(endpoint);
}

RunRecord ExperimentRunner::run(const Experiment& experiment, const std::string& report_dir) {
  RunRecord record{experiment, {}, {}, {}, report_dir, {}, {}};
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(experiment.settings.preflight_timeout);
  auto prometheus = make_experiment_prometheus_client(experiment);
  if (!prometheus.ok()) return not_started(std::move(record), prometheus.status());
  // One factory for every run of this runner: a suite reuses the channels.
  agents_.set_deadline(timeout);
  agents_.trust(experiment.agents);
  RunJournal journal(clock_);
  ProgressPrinter printer(std::cout, isatty(STDOUT_FILENO) == 1 && options_.output == "text");
  journal.add_observer(&printer);
  for (RunObserver* observer : options_.observers) journal.add_observer(observer);
  std::random_device random;
  record.identity.experiment_id = make_experiment_id(experiment.title, clock_.wall_now(), random());
  record.identity.lease_id = record.identity.experiment_id + "-lease";
  record.identity.lease_ttl = experiment.settings.lease_ttl;
  auto notifier = RunNotifier::create(experiment.notify, {experiment.title, experiment.source_path, record.identity},
                                      clock_);
  if (!notifier.ok()) return not_started(std::move(record), notifier.status());
  journal.add_observer(notifier->get());
  record.times.started = clock_.wall_now();
  RunContext context{experiment, **prometheus, agents_, clock_, journal, interrupted_, record.identity};
  record.outcome = ExperimentRun(context).run();
  printer.finish();
  record.times.finished = clock_.wall_now();
  const double seconds = std::chrono::duration<double>(record.times.finished - record.times.started).count();
  record.junit_testsuite = render_junit_testsuite(experiment, journal, record.outcome, seconds);
  const Status written = write_run_reports(options_.output, record, journal, **prometheus);
  if (!written.ok()) std::cerr << "chaosctl: " << written.message() << "\n";
  for (const auto& hook : options_.after_run) hook(record, journal);
  if (options_.on_verdict) options_.on_verdict(record);
  (*notifier)->finish(record.outcome, journal, record.times,
                      report_dir.empty() ? "" : report_dir + "/" + report::kReportFileName, std::cerr);
  return record;
}

}  // namespace chaos::orchestrator
