// Fakes for the run state machine: agents, a Prometheus that answers from a
// script, and a clock that jumps to each deadline (no sleeping, no threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/clients/agent_client.h"
#include "orchestrator/clients/prometheus_client.h"
#include "orchestrator/run/recovery_timing.h"
#include "proto/fault_kinds.h"

namespace chaos::orchestrator::testing {

class JumpingClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return SteadyTime(offset_.load()); }
  WallTime wall_now() const override { return WallTime(std::chrono::hours(24 * 365 * 50)) + offset_.load(); }
  void sleep_until(SteadyTime deadline) override {
    if (deadline.time_since_epoch() > offset_.load()) offset_ = deadline.time_since_epoch();
  }
  void wake_all() override {}
  // Sleeps never block here (time jumps to the deadline), so no wake-up
  // can be missed.
  std::uint64_t wake_ticket() const override { return 0; }
  void sleep_unless_woken(SteadyTime deadline, std::uint64_t) override { sleep_until(deadline); }
  std::chrono::nanoseconds elapsed() const { return offset_.load(); }

 private:
  std::atomic<std::chrono::nanoseconds> offset_{std::chrono::nanoseconds(0)};
};

// Counts the agent calls in flight at once. With hold_until_above > 0 each
// call also waits until more than that many are in flight or `patience`
// passes, so an unbounded fan-out (one thread per call) shows up as more
// concurrent calls than the bound, however fast each call is.
struct ConcurrencyProbe {
  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0;
  int most = 0;
  int hold_until_above = 0;
  std::chrono::milliseconds patience{100};

  void enter() {
    std::unique_lock lock(mutex);
    most = std::max(most, ++in_flight);
    changed.notify_all();
    if (hold_until_above > 0) {
      changed.wait_for(lock, patience, [this] { return in_flight > hold_until_above; });
    }
  }
  void leave() {
    std::lock_guard lock(mutex);
    --in_flight;
  }
  int max_in_flight() {
    std::lock_guard lock(mutex);
    return most;
  }
};

// Shared by all fake agents: what each received, and scripted failures.
// Faults are "f<N>" of kind process.kill; an agent's live faults list as
// ACTIVE, its ended ones (List include_ended) with their revert reason.
struct FakeFleet {
  std::mutex mutex;
  std::vector<std::string> calls;  // "127.0.0.1:1 Inject process.kill"
  std::map<std::string, int> revert_all_failures_left;  // address -> failures before success
  std::set<std::string> unreachable;
  std::function<void(const std::string&)> on_inject;  // e.g. set the interrupt flag
  // Called before each RenewLease answer (without the lock held), e.g. to
  // lose the lease or forget faults.
  std::function<void(FakeFleet&, const std::string&)> on_renew;
  std::map<std::string, std::vector<std::string>> live;  // address -> fault ids
  std::map<std::string, std::vector<v1::Fault>> ended;   // address -> ended faults
  std::set<std::string> leases_lost;                     // RenewLease there: NOT_FOUND
  // address -> reason: Revert there answers already_reverted with it.
  std::map<std::string, std::string> revert_says_ended;
  // fault id -> reverts that fail before one succeeds (Revert: INTERNAL,
  // RevertAll: the fault with state REVERT_FAILED).
  std::map<std::string, int> revert_failures_left;
  std::map<std::string, int> reverts_fail_on;  // address -> revert_failures_left of each fault injected there
  std::set<std::string> revert_failed;  // fault ids whose last revert failed (List: REVERT_FAILED)
  std::map<std::string, v1::LeftoverReport> leftovers;  // address -> what its RevertAll reports
  std::vector<v1::VerifyMode> verify_modes;              // of every (non-dry-run) Inject
  std::vector<v1::ContainerRef> containers;              // every injected fault acts in these
  bool dry_run_supported = false;        // Capabilities.dry_run
  std::map<std::string, std::string> dry_run_refusals;  // address -> PERMISSION_DENIED message
  ConcurrencyProbe probe;
  int next_id = 1;

  void record(const std::string& line) {
    std::lock_guard lock(mutex);
    calls.push_back(line);
  }
  static v1::Fault fault(const std::string& id, v1::FaultState state, const std::string& reason) {
    v1::Fault fault;
    fault.set_id(id);
    fault.set_kind("process.kill");
    fault.set_backend("signal");
    fault.set_state(state);
    fault.set_revert_reason(reason);
    return fault;
  }
  // The agent ends every live fault on `address` by itself.
  void end_all(const std::string& address, const std::string& reason) {
    std::lock_guard lock(mutex);
    for (const auto& id : live[address]) ended[address].push_back(fault(id, v1::FAULT_STATE_REVERTED, reason));
    live[address].clear();
  }
  // The agent's lease expired: it reverted the lease's faults.
  void lose_lease(const std::string& address) {
    end_all(address, "lease");
    std::lock_guard lock(mutex);
    leases_lost.insert(address);
  }
  // The agent restarted without a trace of its faults.
  void forget_all(const std::string& address) {
    std::lock_guard lock(mutex);
    live[address].clear();
    ended[address].clear();
  }
  std::vector<std::string> live_on(const std::string& address) {
    std::lock_guard lock(mutex);
    return live[address];
  }
  size_t count(const std::string& needle) {
    std::lock_guard lock(mutex);
    size_t n = 0;
    for (const auto& call : calls) n += call.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }
};

class FakeAgent final : public AgentClient {
 public:
  FakeAgent(FakeFleet& fleet, std::string address) : fleet_(fleet), address_(std::move(address)) {}
  const std::string& address() const override { return address_; }

  StatusOr<v1::CapabilitiesResponse> capabilities() override {
    const InFlight counted(fleet_.probe);
    fleet_.record(address_ + " Capabilities");
    if (down()) return unavailable("agent " + address_ + " down");
    v1::CapabilitiesResponse response;
    response.set_node_name("node-" + address_);
    response.set_network_backend("nfqueue");
    for (const char* kind : {"network.delay", "process.kill", "process.pause"}) response.add_fault_kinds(kind);
    response.set_dry_run(fleet_.dry_run_supported);
    return response;
  }
  StatusOr<v1::Fault> inject(const v1::InjectRequest& request) override {
    const InFlight counted(fleet_.probe);
    if (request.dry_run()) {
      fleet_.record(address_ + " DryRun " + fault_kind_name(request.spec()));
      std::lock_guard lock(fleet_.mutex);
      if (auto refusal = fleet_.dry_run_refusals.find(address_); refusal != fleet_.dry_run_refusals.end()) {
        return permission_denied(refusal->second);
      }
      return v1::Fault();
    }
    fleet_.record(address_ + " Inject " + request.request_id());
    if (fleet_.on_inject) fleet_.on_inject(address_);
    std::lock_guard lock(fleet_.mutex);
    v1::Fault fault = FakeFleet::fault("f" + std::to_string(fleet_.next_id++), v1::FAULT_STATE_ACTIVE, "");
    fleet_.verify_modes.push_back(request.verify());
    fault.set_effect(v1::EFFECT_STATE_VERIFIED);
    fault.set_evidence("fake read-back of " + fault.id());
    fault.mutable_time_to_effect()->set_nanos(3'000'000);
    (*fault.mutable_counters())["signals_sent"] = 1;
    for (const auto& container : fleet_.containers) *fault.add_containers() = container;
    fleet_.live[address_].push_back(fault.id());
    if (auto fails = fleet_.reverts_fail_on.find(address_); fails != fleet_.reverts_fail_on.end()) {
      fleet_.revert_failures_left[fault.id()] = fails->second;
    }
    return fault;
  }
  StatusOr<v1::RevertResponse> revert(const std::string& fault_id) override {
    const InFlight counted(fleet_.probe);
    fleet_.record(address_ + " Revert " + fault_id);
    v1::RevertResponse response;
    std::lock_guard lock(fleet_.mutex);
    if (auto says = fleet_.revert_says_ended.find(address_); says != fleet_.revert_says_ended.end()) {
      std::erase(fleet_.live[address_], fault_id);
      *response.mutable_fault() = FakeFleet::fault(fault_id, v1::FAULT_STATE_REVERTED, says->second);
      response.set_already_reverted(true);
      return response;
    }
    if (fleet_.revert_failures_left[fault_id] > 0) {
      --fleet_.revert_failures_left[fault_id];
      fleet_.revert_failed.insert(fault_id);
      return internal_error("fault " + fault_id + ": revert failed: tc busy (the agent keeps retrying)");
    }
    auto& live = fleet_.live[address_];
    if (std::find(live.begin(), live.end(), fault_id) != live.end()) {
      std::erase(live, fault_id);
      *response.mutable_fault() = FakeFleet::fault(fault_id, v1::FAULT_STATE_REVERTED, "request");
      fleet_.ended[address_].push_back(response.fault());
      return response;
    }
    response.set_already_reverted(true);
    *response.mutable_fault() = FakeFleet::fault(fault_id, v1::FAULT_STATE_REVERTED, "");
    for (const auto& fault : fleet_.ended[address_]) {
      if (fault.id() == fault_id) *response.mutable_fault() = fault;
    }
    return response;
  }
  StatusOr<v1::RevertAllResponse> revert_all(const std::string& experiment_id) override {
    const InFlight counted(fleet_.probe);
    fleet_.record(address_ + " RevertAll " + experiment_id);
    std::lock_guard lock(fleet_.mutex);
    if (fleet_.revert_all_failures_left[address_] > 0) {
      --fleet_.revert_all_failures_left[address_];
      return unavailable("agent " + address_ + " busy");
    }
    std::vector<v1::Fault> answer;
    std::vector<std::string> still_live;
    for (const auto& id : fleet_.live[address_]) {
      if (fleet_.revert_failures_left[id] > 0) {
        --fleet_.revert_failures_left[id];
        fleet_.revert_failed.insert(id);
        v1::Fault failed = FakeFleet::fault(id, v1::FAULT_STATE_REVERT_FAILED, "request");
        failed.set_detail("SIGKILL sleep (revert failed: tc busy)");
        answer.push_back(failed);
        still_live.push_back(id);
        continue;
      }
      answer.push_back(FakeFleet::fault(id, v1::FAULT_STATE_REVERTED, "request"));
      fleet_.ended[address_].push_back(answer.back());
    }
    fleet_.live[address_] = still_live;
    v1::RevertAllResponse response;
    for (auto& fault : answer) *response.add_faults() = std::move(fault);
    if (const auto planted = fleet_.leftovers.find(address_); planted != fleet_.leftovers.end()) {
      *response.mutable_leftovers() = planted->second;
    }
    return response;
  }
  StatusOr<std::vector<v1::Fault>> list(const std::string&, bool include_ended) override {
    const InFlight counted(fleet_.probe);
    fleet_.record(address_ + " List");
    std::lock_guard lock(fleet_.mutex);
    std::vector<v1::Fault> faults;
    if (include_ended) faults = fleet_.ended[address_];
    for (const auto& id : fleet_.live[address_]) {
      faults.push_back(fleet_.revert_failed.count(id) != 0
                           ? FakeFleet::fault(id, v1::FAULT_STATE_REVERT_FAILED, "request")
                           : FakeFleet::fault(id, v1::FAULT_STATE_ACTIVE, ""));
    }
    return faults;
  }
  StatusOr<v1::RenewLeaseResponse> renew_lease(const std::string& lease_id, std::chrono::nanoseconds) override {
    const InFlight counted(fleet_.probe);
    fleet_.record(address_ + " RenewLease " + lease_id);
    if (fleet_.on_renew) fleet_.on_renew(fleet_, address_);
    std::lock_guard lock(fleet_.mutex);
    if (fleet_.leases_lost.count(address_) != 0) {
      return not_found("agent " + address_ + ": RenewLease: lease_id: lease '" + lease_id +
                       "' is unknown or expired (its faults were reverted)");
    }
    return v1::RenewLeaseResponse{};
  }

 private:
  class InFlight {
   public:
    explicit InFlight(ConcurrencyProbe& probe) : probe_(probe) { probe_.enter(); }
    ~InFlight() { probe_.leave(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    ConcurrencyProbe& probe_;
  };

  bool down() {
    std::lock_guard lock(fleet_.mutex);
    return fleet_.unreachable.count(address_) != 0;
  }
  FakeFleet& fleet_;
  std::string address_;
};

class FakeAgentFactory final : public AgentClientFactory {
 public:
  explicit FakeAgentFactory(FakeFleet& fleet) : fleet_(fleet) {}
  std::unique_ptr<AgentClient> connect(const std::string& address) override {
    return std::make_unique<FakeAgent>(fleet_, address);
  }

 private:
  FakeFleet& fleet_;
};

// Answers each query from a function of (query, seconds since start).
class FakePrometheus final : public PrometheusClient {
 public:
  using Script = std::function<std::optional<std::string>(const std::string& query, double seconds)>;
  FakePrometheus(const JumpingClock& clock, Script script) : clock_(clock), script_(std::move(script)) {}

  StatusOr<QueryResult> instant_query(const std::string& query) override {
    ++queries;
    QueryResult result;
    result.result_type = "vector";
    const double seconds = std::chrono::duration<double>(clock_.elapsed()).count();
    if (query == kRecoveryTimingIngestedQuery) {  // every scrape is in at once
      if (on_ingest_query) on_ingest_query();
      const double now = std::chrono::duration<double>(clock_.wall_now().time_since_epoch()).count();
      result.series.push_back({{}, {{seconds, std::to_string(now), now}}});
      return result;
    }
    if (auto text = script_(query, seconds)) {
      Series series;
      series.points.push_back({seconds, *text, parse_prometheus_float(*text)});
      result.series.push_back(series);
    }
    return result;
  }
  // One point per step from start to end, each the script's answer at that
  // instant (the run's clock starts at JumpingClock's wall epoch).
  StatusOr<QueryResult> range_query(const std::string& query, WallTime start, WallTime end,
                                    std::chrono::milliseconds step) override {
    ++range_queries;
    if (range_fails || range_fails_for.count(query) > 0) return unavailable("prometheus range query of '" + query + "' failed");
    QueryResult result;
    result.result_type = "matrix";
    Series series;
    const WallTime origin = JumpingClock().wall_now();
    for (WallTime at = start; at <= end; at += step) {
      const double seconds = std::chrono::duration<double>(at - origin).count();
      if (auto text = script_(query, seconds)) {
        const double epoch = std::chrono::duration<double>(at.time_since_epoch()).count();
        series.points.push_back({epoch, *text, parse_prometheus_float(*text)});
      }
    }
    if (!series.points.empty()) result.series.push_back(series);
    return result;
  }
  Status check_ready() override { return ready ? Status{} : unavailable("prometheus down"); }

  bool ready = true;
  bool range_fails = false;
  std::set<std::string> range_fails_for;  // queries whose range query fails
  std::function<void()> on_ingest_query;  // called when the run waits for the last scrapes
  int queries = 0;
  int range_queries = 0;

 private:
  const JumpingClock& clock_;
  Script script_;
};

}  // namespace chaos::orchestrator::testing
