#include "lab/probe/probe_loops.h"

#include <string>

#include "lab/probe/payload.h"
#include "lab/probe/probe_log.h"

namespace chaos::lab::probe {

namespace {

constexpr int kFetchBatch = 100;
constexpr auto kFetchWait = std::chrono::milliseconds(500);
// A consumer that keeps failing for this long is bound again: its leader
// may have moved to another server.
constexpr auto kResubscribeAfter = std::chrono::seconds(5);

double seconds_between(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

std::int64_t steady_ns(SteadyTime time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

}  // namespace

ProbeLoops::ProbeLoops(BrokerClient& client, ProbeMetrics& metrics, Clock& clock, ProbeSettings settings)
    : client_(client), metrics_(metrics), clock_(clock), settings_(std::move(settings)),
      tracker_(settings_.loss_grace), dedupe_(static_cast<std::size_t>(settings_.dedupe_window)),
      last_ack_(clock.steady_now()) {}

Status ProbeLoops::subscribe() {
  auto subscribed = client_.subscribe();
  if (!subscribed.ok()) {
    metrics_.consume_errors.inc();
    return subscribed.status();
  }
  if (*subscribed == Subscribed::kCreated && subscribed_) {
    // The durable vanished (deleted by hand, or lost with its replicas):
    // the new one starts at the next message, so what was stored meanwhile
    // will count as lost. Say so; it is not a broker losing acked data.
    metrics_.consumer_recreations.inc();
    probe_log("durable consumer was gone and has been re-created; messages stored meanwhile will be counted "
              "as lost");
  }
  subscribed_ = true;
  return {};
}

void ProbeLoops::publish_one(std::uint64_t sequence) {
  const SteadyTime sent = clock_.steady_now();
  const std::string body = encode_payload(Payload{settings_.run_id, sequence, steady_ns(sent)});
  // Only a re-sending client needs an id; without retries the publish is
  // the same as before the option existed.
  const std::string message_id =
      settings_.publish_retries > 0 ? settings_.run_id + "-" + std::to_string(sequence) : std::string();
  metrics_.publish_attempts.inc();
  const Status status = publish_with_retries(body, message_id);
  const SteadyTime finished = clock_.steady_now();
  if (status.ok()) {
    metrics_.publish_success.inc();
    metrics_.publish_ack_latency.observe(seconds_between(sent, finished));
    last_ack_ = finished;
  } else {
    metrics_.publish_errors.inc();
  }
  log_publish_transition(status, sequence);
  note_server(client_.current_server());
  metrics_.publish_stall.set(seconds_between(last_ack_, finished));
  std::lock_guard lock(tracker_mutex_);
  tracker_.published(sequence, status.ok(), finished);
}

// One series at a time: the old server's goes when the publisher moves.
void ProbeLoops::note_server(const std::string& server) {
  if (server == server_) return;
  if (!server_.empty()) metrics_.server_info.remove({server_});
  server_ = server;
  if (!server_.empty()) metrics_.server_info.with({server_}).set(1);
}

Status ProbeLoops::publish_with_retries(std::string_view body, std::string_view message_id) {
  Status status = client_.publish(body, settings_.ack_timeout, message_id);
  note_publish_result(status);
  // Every failed try is re-sent: a timed-out one may have been stored. The
  // same message id lets JetStream drop a second copy within its duplicate
  // window; RabbitMQ stores every copy, which the consumer then counts as
  // duplicated. A refused one ("no responders" from a server that lost
  // its quorum) may succeed on the server a failover just moved to.
  for (int retry = 0; retry < settings_.publish_retries && !status.ok(); ++retry) {
    metrics_.publish_retries.inc();
    status = client_.publish(body, settings_.ack_timeout, message_id);
    note_publish_result(status);
  }
  return status;
}

// The first failure after a success, and the first success after failures,
// go to stderr with the error: what a failing server answered is the
// evidence a finding needs. Once a second at most, so a flapping server
// cannot flood the log.
void ProbeLoops::log_publish_transition(const Status& status, std::uint64_t sequence) {
  if (!status.ok()) last_publish_error_ = status.message();
  if (status.ok() == publishes_ok_) {
    if (!status.ok()) ++failed_publishes_;
    return;
  }
  const SteadyTime now = clock_.steady_now();
  if (logged_transition_ && now - *logged_transition_ < std::chrono::seconds(1)) {
    if (!status.ok()) ++failed_publishes_;
    return;
  }
  logged_transition_ = now;
  publishes_ok_ = status.ok();
  if (status.ok()) {
    probe_log("publishes acknowledged again at message " + std::to_string(sequence) + " after " +
              std::to_string(failed_publishes_) + " failed (the last: " + last_publish_error_ + ")");
    failed_publishes_ = 0;
  } else {
    failed_publishes_ = 1;
    probe_log("publishes failing from message " + std::to_string(sequence) + ": " + status.message());
  }
}

void ProbeLoops::note_publish_result(const Status& status) {
  if (status.ok()) {
    failures_in_a_row_ = 0;
    return;
  }
  // Any failed try counts: a server that lost its quorum refuses writes at
  // once ("no responders") or lets them time out, and stays connected and
  // answering PINGs either way.
  if (settings_.failover_after == 0) return;
  if (++failures_in_a_row_ < settings_.failover_after) return;
  // At most one failover per ack timeout: while the cluster elects a leader
  // every server refuses, and a client that moved on each refusal would
  // cycle through the servers hundreds of times a second.
  const SteadyTime now = clock_.steady_now();
  if (last_failover_ && now - *last_failover_ < settings_.ack_timeout) return;
  last_failover_ = now;
  fail_over();
}

void ProbeLoops::fail_over() {
  const int failures = failures_in_a_row_;
  failures_in_a_row_ = 0;
  auto moved = client_.fail_over();
  if (!moved.ok()) {
    probe_log("failover after " + std::to_string(failures) + " failed publishes in a row failed: " +
              moved.status().message());
    return;
  }
  metrics_.failovers.inc();
  probe_log("failover after " + std::to_string(failures) + " failed publishes in a row: from " +
            (moved->from.empty() ? std::string("(not connected)") : moved->from) + " to " +
            (moved->to.empty() ? std::string("(still connecting)") : moved->to));
  // The consumer thread binds the durable on the new connection at its
  // next fetch instead of waiting for fetches to fail for kResubscribeAfter.
  resubscribe_requested_ = true;
}

void ProbeLoops::publish_until(const std::atomic<bool>& stop) {
  if (!subscribed_) return;
  const auto period = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / settings_.rate));
  SteadyTime next = clock_.steady_now();
  last_ack_ = next;
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

void ProbeLoops::handle_delivery(const Delivered& delivered) {
  const auto payload = decode_payload(delivered.body);
  if (!payload || payload->run_id != settings_.run_id) return;  // an earlier run's message
  // An idempotent consumer skips what it processed already, keyed on the
  // message's own id (the publisher's sequence within this run), not on the
  // stream sequence: a message the stream stored twice (a publish retried
  // inside the client during a leader change) has two stream sequences and
  // would be processed twice by a consumer keyed on them (seen in the lab).
  const bool skipped = dedupe_.seen_before(payload->sequence);
  Delivery delivery;
  {
    std::lock_guard lock(tracker_mutex_);
    delivery = tracker_.received(payload->sequence);
  }
  if (delivery == Delivery::kDuplicate) {
    metrics_.messages_duplicated.inc();
    if (delivered.redelivered) metrics_.messages_redelivered.inc();
    if (!skipped) metrics_.messages_processed_twice.inc();
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
  metrics_.messages_missing.set(static_cast<double>(tracker_.missing()));
}

bool ProbeLoops::consume_once() {
  // A failed bind falls through to the fetch, which then fails like any
  // other, and consume_until() binds again after kResubscribeAfter.
  if (resubscribe_requested_.exchange(false)) (void)subscribe();
  auto bodies = client_.fetch(kFetchBatch, kFetchWait);
  if (bodies.ok()) {
    for (const auto& delivered : *bodies) handle_delivery(delivered);
  } else {
    metrics_.consume_errors.inc();
    last_fetch_error_ = bodies.status().message();
  }
  settle_expired();
  return bodies.ok();
}

bool ProbeLoops::resubscribe_until(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const Status status = subscribe();
    if (status.ok()) return true;
    probe_log(status.message() + "; retrying");
    clock_.sleep_until(clock_.steady_now() + std::chrono::seconds(1));
  }
  return false;
}

void ProbeLoops::consume_until(const std::atomic<bool>& stop) {
  if (!subscribed_) return;
  SteadyTime last_success = clock_.steady_now();
  while (!stop.load()) {
    if (consume_once()) {
      last_success = clock_.steady_now();
      continue;
    }
    if (clock_.steady_now() - last_success > kResubscribeAfter) {
      probe_log("fetch keeps failing (" + last_fetch_error_ + "); subscribing again");
      if (!resubscribe_until(stop)) return;
      last_success = clock_.steady_now();
    } else {
      clock_.sleep_until(clock_.steady_now() + std::chrono::milliseconds(200));
    }
  }
}

}  // namespace chaos::lab::probe
