// Tells the outside world about a run: [[notify]] webhooks on start, abort
// and verdict, and [grafana] annotations (one region per fault window, one
// for the verdict). Attach it to the run's journal; it turns the journal's
// first "phase" event into "start" and its first "abort" or "interrupt"
// into "abort". After the run, finish() sends the verdict and the
// annotations and waits a bounded time for every delivery. Nothing here
// blocks the run or changes its verdict: deliveries go through one
// background DeliveryQueue.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/clients/http_endpoint.h"
#include "orchestrator/experiment/notify_config.h"
#include "orchestrator/notify/delivery_queue.h"
#include "orchestrator/notify/notify_payload.h"
#include "orchestrator/run/fault_ledger.h"
#include "orchestrator/run/journal_json.h"
#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

struct NotifyRun {
  std::string experiment;  // title
  std::string file;
  RunIdentity identity;
};

class RunNotifier final : public RunObserver {
 public:
  // The most finish() waits for deliveries, whatever their timeouts say.
  static constexpr std::chrono::milliseconds kDrainCap{30000};

  // Fails when an endpoint cannot be set up (its URL; credentials over
  // plain http). An empty config makes a notifier that sends nothing.
  static StatusOr<std::unique_ptr<RunNotifier>> create(const NotifyConfig& config, NotifyRun run,
                                                       const Clock& clock);
  ~RunNotifier() override;

  void on_event(const EventRecord& event) override;

  // Sends the verdict and the Grafana annotations, waits at most
  // min(kDrainCap, what the pending deliveries may take), and writes a
  // warning per failed or abandoned delivery to `warnings`.
  DeliverySummary finish(const RunOutcome& outcome, const RunJournal& journal, const RunTimes& times,
                         const std::string& report_path, std::ostream& warnings,
                         std::chrono::milliseconds cap = kDrainCap);

 private:
  struct Target {
    std::unique_ptr<HttpEndpoint> endpoint;
    std::string path;  // "" for a webhook's own URL, "/api/annotations" for Grafana
    DeliveryPolicy policy;
    std::chrono::milliseconds timeout{};
  };
  struct Webhook {
    WebhookConfig config;
    Target target;
  };

  RunNotifier(NotifyRun run, const Clock& clock) : run_(std::move(run)), clock_(clock) {}
  NotifyEvent make_event(const std::string& name, WallTime at, const std::string& message) const;
  void notify_webhooks(const NotifyEvent& event);
  void send(Target& target, const std::string& what, std::string body);

  NotifyRun run_;
  const Clock& clock_;
  std::vector<Webhook> webhooks_;
  std::optional<Target> grafana_;
  std::string grafana_dashboard_;
  bool started_ = false;
  bool aborted_ = false;
  // Last member: destroyed (and its sender joined) before the endpoints it uses.
  std::unique_ptr<DeliveryQueue> queue_;
};

}  // namespace chaos::orchestrator
