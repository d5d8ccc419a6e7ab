#include "lab/probe/probe_loops.h"

#include <iostream>

#include "lab/probe/payload.h"

namespace chaos::lab::probe {

namespace {

constexpr int kFetchBatch = 100;
constexpr int64_t kFetchTimeoutMs = 500;
// A consumer that keeps failing for this long is re-created: its leader
// may have moved or the durable may have been lost with a broker.
constexpr auto kResubscribeAfter = std::chrono::seconds(5);

double seconds_between(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

std::int64_t steady_ns(SteadyTime time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

ProbeLoops::ProbeLoops(NatsSession& session, ProbeMetrics& metrics, Clock& clock, ProbeSettings settings)
    : session_(session), metrics_(metrics), clock_(clock), settings_(std::move(settings)),
      tracker_(settings_.loss_grace) {}

void ProbeLoops::publish_one(std::uint64_t sequence) {
  const SteadyTime sent = clock_.steady_now();
  const std::string body = encode_payload(Payload{settings_.run_id, sequence, steady_ns(sent)});
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.ack_timeout).count();
  options.ExpectStream = settings_.stream.name.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  metrics_.publish_attempts.inc();
  const natsStatus status = js_Publish(&ack, session_.jetstream(), settings_.stream.subject.c_str(),
                                       body.data(), static_cast<int>(body.size()), &options, &js_error);
  jsPubAck_Destroy(ack);
  const SteadyTime finished = clock_.steady_now();
  if (status == NATS_OK) {
    metrics_.publish_success.inc();
    metrics_.publish_ack_latency.observe(seconds_between(sent, finished));
  } else {
    metrics_.publish_errors.inc();
  }
  std::lock_guard lock(tracker_mutex_);
  tracker_.published(sequence, status == NATS_OK, finished);
}

void ProbeLoops::publish_until(const std::atomic<bool>& stop) {
  const auto period = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / settings_.rate));
  SteadyTime next = clock_.steady_now();
  for (std::uint64_t sequence = 1; !stop.load(); ++sequence) {
    publish_one(sequence);
    next += period;
    // A publish that blocked past its slots does not burst to catch up:
    // the attempt rate drops, as it would for a real client.
    const SteadyTime now = clock_.steady_now();
    if (next < now) next = now;
    clock_.sleep_until(next);
  }
}

natsSubscription* ProbeLoops::subscribe_until(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = settings_.stream.name.c_str();
    options.Config.DeliverPolicy = js_DeliverNew;
    options.Config.AckPolicy = js_AckExplicit;
    options.Config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::seconds(10)).count();
    natsSubscription* subscription = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = js_PullSubscribe(&subscription, session_.jetstream(), settings_.stream.subject.c_str(),
                                               settings_.consumer.c_str(), nullptr, &options, &js_error);
    if (status == NATS_OK) return subscription;
    std::cerr << "chaos-probe: subscribe: " << describe_nats_error(status, js_error) << "; retrying\n";
    metrics_.consume_errors.inc();
    clock_.sleep_until(clock_.steady_now() + std::chrono::seconds(1));
  }
  return nullptr;
}

void ProbeLoops::handle_delivery(natsMsg* message) {
  const std::string_view body(natsMsg_GetData(message), static_cast<std::size_t>(natsMsg_GetDataLength(message)));
  natsMsg_Ack(message, nullptr);
  const auto payload = decode_payload(body);
  if (!payload || payload->run_id != settings_.run_id) return;  // an earlier run's message
  Delivery delivery;
  {
    std::lock_guard lock(tracker_mutex_);
    delivery = tracker_.received(payload->sequence);
  }
  if (delivery == Delivery::kDuplicate) {
    metrics_.messages_duplicated.inc();
    return;
  }
  if (delivery == Delivery::kLate) metrics_.messages_late.inc();
  metrics_.messages_received.inc();
  const double latency = static_cast<double>(steady_ns(clock_.steady_now()) - payload->published_ns) / 1e9;
  metrics_.end_to_end_latency.observe(std::max(0.0, latency));
}

void ProbeLoops::settle_expired() {
  std::lock_guard lock(tracker_mutex_);
  const std::uint64_t lost = tracker_.expire(clock_.steady_now());
  if (lost > 0) metrics_.messages_lost.inc(static_cast<double>(lost));
  metrics_.messages_awaiting.set(static_cast<double>(tracker_.awaiting()));
}

void ProbeLoops::consume_until(const std::atomic<bool>& stop) {
  natsSubscription* subscription = subscribe_until(stop);
  SteadyTime last_success = clock_.steady_now();
  while (!stop.load() && subscription != nullptr) {
    natsMsgList list{nullptr, 0};
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus status = natsSubscription_Fetch(&list, subscription, kFetchBatch, kFetchTimeoutMs, &js_error);
    for (int i = 0; i < list.Count; ++i) handle_delivery(list.Msgs[i]);
    natsMsgList_Destroy(&list);
    settle_expired();
    if (status == NATS_OK || status == NATS_TIMEOUT) {
      last_success = clock_.steady_now();
      continue;
    }
    metrics_.consume_errors.inc();
    if (clock_.steady_now() - last_success > kResubscribeAfter) {
      std::cerr << "chaos-probe: fetch keeps failing (" << describe_nats_error(status, js_error)
                << "); re-subscribing\n";
      natsSubscription_Destroy(subscription);
      subscription = subscribe_until(stop);
      last_success = clock_.steady_now();
    } else {
      clock_.sleep_until(clock_.steady_now() + std::chrono::milliseconds(200));
    }
  }
  natsSubscription_Destroy(subscription);
}

}  // namespace chaos::lab::probe
