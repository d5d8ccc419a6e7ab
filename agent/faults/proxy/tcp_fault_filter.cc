#include "agent/faults/proxy/tcp_fault_filter.h"

#include <algorithm>

namespace chaos::agent::proxy {

FilterVerdict PassThroughFilter::on_bytes(Direction from, std::string_view input, SteadyTime now) {
  (void)from;
  (void)now;
  FilterVerdict verdict;
  verdict.forward.push_back(Emit{std::string(input)});
  return verdict;
}

FilterVerdict PassThroughFilter::on_end(Direction from, SteadyTime now) {
  (void)from;
  (void)now;
  return {};
}

TcpFaultFilter::TcpFaultFilter(const TcpFaultSpec& spec, std::uint64_t seed) : spec_(spec), random_(seed) {}

bool TcpFaultFilter::faulted(Direction from) const {
  return from == Direction::kClientToServer ? spec_.scope.client_to_server : spec_.scope.server_to_client;
}

Duration TcpFaultFilter::latency_sample() {
  if (spec_.jitter <= Duration{0}) return spec_.delay;
  std::uniform_int_distribution<Duration::rep> offset(-spec_.jitter.count(), spec_.jitter.count());
  return std::max(Duration{0}, spec_.delay + Duration{offset(random_)});
}

FilterVerdict TcpFaultFilter::on_open(SteadyTime now) {
  (void)now;
  FilterVerdict verdict;
  if (spec_.mode == TcpFaultMode::kResetPeer && spec_.after > Duration{0}) {
    verdict.close = CloseAction::kReset;
    verdict.close_after = spec_.after;
  }
  return verdict;
}

FilterVerdict TcpFaultFilter::on_bytes(Direction from, std::string_view input, SteadyTime now) {
  (void)now;
  FilterVerdict verdict;
  if (!faulted(from)) {
    verdict.forward.push_back(Emit{std::string(input)});
    return verdict;
  }
  switch (spec_.mode) {
    case TcpFaultMode::kLatency:
      verdict.forward.push_back(Emit{std::string(input), latency_sample(), !spec_.allow_reorder});
      return verdict;
    case TcpFaultMode::kResetPeer:
    case TcpFaultMode::kLimitData: {
      const std::uint64_t budget = spec_.mode == TcpFaultMode::kLimitData ? spec_.limit_bytes : spec_.after_bytes;
      // reset_peer by time alone: bytes pass until on_open's reset fires.
      if (budget == 0) {
        verdict.forward.push_back(Emit{std::string(input)});
        return verdict;
      }
      // After the budget the connection is closing: what still arrives is
      // dropped, never forwarded.
      if (budget_spent_) return verdict;
      const std::uint64_t left = budget - counted_bytes_;
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left, input.size()));
      if (take > 0) verdict.forward.push_back(Emit{std::string(input.substr(0, take))});
      counted_bytes_ += take;
      if (counted_bytes_ >= budget) {
        budget_spent_ = true;
        verdict.close = spec_.mode == TcpFaultMode::kLimitData ? CloseAction::kClose : CloseAction::kReset;
      }
      return verdict;
    }
  }
  return verdict;
}

FilterVerdict TcpFaultFilter::on_end(Direction from, SteadyTime now) {
  (void)from;
  (void)now;
  return {};  // nothing is ever held back inside the filter
}

TcpFilterFactory::TcpFilterFactory(TcpFaultSpec spec, std::uint64_t seed)
    : spec_(std::move(spec)), seed_(seed), random_(seed) {}

std::unique_ptr<StreamFilter> TcpFilterFactory::make(const ConnectionInfo& connection) {
  std::uniform_real_distribution<double> draw(0, 100);
  if (spec_.scope.percent < 100 && draw(random_) >= spec_.scope.percent) {
    return std::make_unique<PassThroughFilter>();
  }
  ++faulted_;
  return std::make_unique<TcpFaultFilter>(spec_, seed_ ^ (connection.id * 0x9e3779b97f4a7c15ULL));
}

}  // namespace chaos::agent::proxy
