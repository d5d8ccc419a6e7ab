// Fakes for the run state machine: agents, a Prometheus that answers from a
// script, and a clock that jumps to each deadline (no sleeping, no threads).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "orchestrator/agent_client.h"
#include "orchestrator/prometheus_client.h"

namespace chaos::orchestrator::testing {

class JumpingClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return SteadyTime(offset_.load()); }
  WallTime wall_now() const override { return WallTime(std::chrono::hours(24 * 365 * 50)) + offset_.load(); }
  void sleep_until(SteadyTime deadline) override {
    if (deadline.time_since_epoch() > offset_.load()) offset_ = deadline.time_since_epoch();
  }
  void wake_all() override {}
  std::chrono::nanoseconds elapsed() const { return offset_.load(); }

 private:
  std::atomic<std::chrono::nanoseconds> offset_{std::chrono::nanoseconds(0)};
};

// Shared by all fake agents: what each received, and scripted failures.
struct FakeFleet {
  std::mutex mutex;
  std::vector<std::string> calls;  // "127.0.0.1:1 Inject process.kill"
  std::map<std::string, int> revert_all_failures_left;  // address -> failures before success
  std::set<std::string> unreachable;
  std::function<void(const std::string&)> on_inject;  // e.g. set the interrupt flag
  std::map<std::string, std::vector<std::string>> live;  // address -> fault ids
  int next_id = 1;

  void record(const std::string& line) {
    std::lock_guard lock(mutex);
    calls.push_back(line);
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
    fleet_.record(address_ + " Capabilities");
    if (down()) return unavailable("agent " + address_ + " down");
    v1::CapabilitiesResponse response;
    response.set_node_name("node-" + address_);
    response.set_network_backend("nfqueue");
    for (const char* kind : {"network.delay", "process.kill", "process.pause"}) response.add_fault_kinds(kind);
    return response;
  }
  StatusOr<v1::Fault> inject(const v1::InjectRequest& request) override {
    fleet_.record(address_ + " Inject " + request.request_id());
    if (fleet_.on_inject) fleet_.on_inject(address_);
    v1::Fault fault;
    std::lock_guard lock(fleet_.mutex);
    fault.set_id("f" + std::to_string(fleet_.next_id++));
    fault.set_kind("process.kill");
    fault.set_backend("signal");
    fleet_.live[address_].push_back(fault.id());
    return fault;
  }
  StatusOr<v1::RevertResponse> revert(const std::string& fault_id) override {
    fleet_.record(address_ + " Revert " + fault_id);
    v1::RevertResponse response;
    response.mutable_fault()->set_id(fault_id);
    std::lock_guard lock(fleet_.mutex);
    std::erase(fleet_.live[address_], fault_id);
    return response;
  }
  StatusOr<std::vector<v1::Fault>> revert_all(const std::string& experiment_id) override {
    fleet_.record(address_ + " RevertAll " + experiment_id);
    std::lock_guard lock(fleet_.mutex);
    if (fleet_.revert_all_failures_left[address_] > 0) {
      --fleet_.revert_all_failures_left[address_];
      return unavailable("agent " + address_ + " busy");
    }
    std::vector<v1::Fault> reverted;
    for (const auto& id : fleet_.live[address_]) reverted.emplace_back().set_id(id);
    fleet_.live[address_].clear();
    return reverted;
  }
  StatusOr<std::vector<v1::Fault>> list(bool) override { return std::vector<v1::Fault>{}; }
  StatusOr<v1::RenewLeaseResponse> renew_lease(const std::string& lease_id, std::chrono::nanoseconds) override {
    fleet_.record(address_ + " RenewLease " + lease_id);
    return v1::RenewLeaseResponse{};
  }

 private:
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
    if (auto text = script_(query, seconds)) {
      Series series;
      series.points.push_back({seconds, *text, parse_prometheus_float(*text)});
      result.series.push_back(series);
    }
    return result;
  }
  StatusOr<QueryResult> range_query(const std::string& query, WallTime, WallTime,
                                    std::chrono::milliseconds) override {
    return instant_query(query);
  }
  Status check_ready() override { return ready ? Status{} : unavailable("prometheus down"); }

  bool ready = true;
  int queries = 0;

 private:
  const JumpingClock& clock_;
  Script script_;
};

}  // namespace chaos::orchestrator::testing
