#include "orchestrator/notify/run_notifier.h"

namespace chaos::orchestrator {

namespace {

bool notify_wanted(const WebhookConfig& webhook, const std::string& event) {
  if (event == "start") return webhook.on_start;
  if (event == "abort") return webhook.on_abort;
  return webhook.on_verdict;
}

}  // namespace

StatusOr<std::unique_ptr<RunNotifier>> RunNotifier::create(const NotifyConfig& config, NotifyRun run,
                                                           const Clock& clock) {
  std::unique_ptr<RunNotifier> notifier(new RunNotifier(std::move(run), clock));
  for (const auto& webhook : config.webhooks) {
    auto endpoint = HttpEndpoint::create(webhook.endpoint);
    if (!endpoint.ok()) return invalid_argument("notify: " + endpoint.status().message());
    notifier->webhooks_.push_back(
        {webhook, Target{std::move(*endpoint), "", webhook.delivery, webhook.endpoint.timeout}});
  }
  if (config.grafana) {
    auto endpoint = HttpEndpoint::create(config.grafana->endpoint);
    if (!endpoint.ok()) return invalid_argument("grafana: " + endpoint.status().message());
    notifier->grafana_ =
        Target{std::move(*endpoint), "/api/annotations", config.grafana->delivery, config.grafana->endpoint.timeout};
    notifier->grafana_dashboard_ = config.grafana->dashboard_uid;
  }
  if (!config.empty()) notifier->queue_ = std::make_unique<DeliveryQueue>();
  return notifier;
}

RunNotifier::~RunNotifier() = default;

NotifyEvent RunNotifier::make_event(const std::string& name, WallTime at, const std::string& message) const {
  NotifyEvent event;
  event.event = name;
  event.experiment = run_.experiment;
  event.experiment_id = run_.identity.experiment_id;
  event.file = run_.file;
  event.at = at;
  event.message = message;
  return event;
}

// Called under the journal's lock: only builds bodies and enqueues.
void RunNotifier::on_event(const EventRecord& record) {
  if (!queue_) return;
  if (record.type == "phase" && !started_) {
    started_ = true;
    notify_webhooks(make_event("start", record.at, record.message));
  } else if ((record.type == "abort" || record.type == "interrupt") && !aborted_) {
    aborted_ = true;
    notify_webhooks(make_event("abort", record.at, record.message));
  }
}

void RunNotifier::notify_webhooks(const NotifyEvent& event) {
  for (auto& webhook : webhooks_) {
    if (!notify_wanted(webhook.config, event.event)) continue;
    const auto body = webhook.config.format == NotifyFormat::kSlack ? slack_json(event) : webhook_json(event);
    send(webhook.target, "webhook " + webhook.target.endpoint->url_of("") + " (" + event.event + ")",
         body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
}

void RunNotifier::send(Target& target, const std::string& what, std::string body) {
  HttpEndpoint* endpoint = target.endpoint.get();
  const std::string path = target.path;
  Delivery delivery;
  delivery.what = what;
  delivery.policy = target.policy;
  delivery.attempt_timeout = target.timeout;
  delivery.attempt = [endpoint, path, body = std::move(body)]() -> Status {
    auto reply = endpoint->post(path, body, "application/json");
    if (!reply.ok()) return reply.status();
    if (!reply->success()) return unavailable(endpoint->url_of(path) + " answered " + describe_reply(*reply));
    return {};
  };
  delivery.abort = [endpoint] { endpoint->abort_in_flight(); };
  queue_->enqueue(std::move(delivery));
}

DeliverySummary RunNotifier::finish(const RunOutcome& outcome, const RunJournal& journal, const RunTimes& times,
                                    const std::string& report_path, std::ostream& warnings,
                                    std::chrono::milliseconds cap) {
  if (!queue_) return {};
  NotifyEvent verdict = make_event("verdict", times.finished, outcome.reason);
  verdict.outcome = &outcome;
  verdict.report = report_path;
  notify_webhooks(verdict);
  if (grafana_) {
    for (const auto& fault : journal.faults()) {
      send(*grafana_, "grafana annotation (fault " + fault.fault_id + " on " + fault.node + ")",
           grafana_fault_annotation(fault, run_.identity.experiment_id, grafana_dashboard_, times.finished)
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    send(*grafana_, "grafana annotation (verdict)",
         grafana_verdict_annotation(verdict, times.started, grafana_dashboard_)
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  const DeliverySummary summary = queue_->drain(cap);
  for (const auto& failure : summary.failed) warnings << "chaosctl: warning: notification failed: " << failure << "\n";
  for (const auto& pending : summary.pending) {
    warnings << "chaosctl: warning: notification given up (still pending at the end of the run): " << pending << "\n";
  }
  return summary;
}

}  // namespace chaos::orchestrator
