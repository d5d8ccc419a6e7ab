#include "agent/faults/proxy/tcp_fault_filter.h"

#include <algorithm>
#include <chrono>

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

bool TcpFaultFilter::passes_through(Direction from) const noexcept {
  if (!faulted(from)) return true;
  return spec_.mode == TcpFaultMode::kSlowClose || (spec_.mode == TcpFaultMode::kResetPeer && spec_.after_bytes == 0);
}

FilterVerdict TcpFaultFilter::on_open(SteadyTime now) {
  (void)now;
  FilterVerdict verdict;
  if (spec_.mode == TcpFaultMode::kResetPeer && spec_.after > Duration{0}) {
    verdict.close = CloseAction::kReset;
    verdict.close_after = spec_.after;
  }
  if (spec_.mode == TcpFaultMode::kTimeout && spec_.timeout > Duration{0}) {
    verdict.close = CloseAction::kClose;
    verdict.close_after = spec_.timeout;
  }
  return verdict;
}

namespace {

int tcp_filter_index(Direction from) { return from == Direction::kClientToServer ? 0 : 1; }

// Pieces of a rate-limited direction: about 50 ms of the rate, so the rate
// holds over short windows; at least 256 bytes so a slow rate does not
// cut the stream into thousands of tiny chunks.
std::size_t tcp_filter_piece_size(std::uint64_t rate) {
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(rate / 20, 256, 64 * 1024));
}

}  // namespace

FilterVerdict TcpFaultFilter::rate_limited(Direction from, std::string_view input, SteadyTime now) {
  FilterVerdict verdict;
  SteadyTime& last_due = last_due_[tcp_filter_index(from)];
  const std::size_t piece = tcp_filter_piece_size(spec_.bytes_per_second);
  for (std::size_t offset = 0; offset < input.size(); offset += piece) {
    const std::string_view bytes = input.substr(offset, piece);
    const std::uint64_t nanos = bytes.size() * std::uint64_t{1'000'000'000} / spec_.bytes_per_second;
    last_due = std::max(now, last_due) + std::chrono::nanoseconds(nanos);
    verdict.forward.push_back(Emit{std::string(bytes), last_due - now});
  }
  return verdict;
}

FilterVerdict TcpFaultFilter::sliced(Direction from, std::string_view input, SteadyTime now) {
  FilterVerdict verdict;
  SteadyTime& last_due = last_due_[tcp_filter_index(from)];
  const auto average = static_cast<std::int64_t>(spec_.slice_average);
  const auto variation = static_cast<std::int64_t>(spec_.slice_variation);
  std::uniform_int_distribution<std::int64_t> size(average - variation, average + variation);
  for (std::size_t offset = 0; offset < input.size();) {
    const auto drawn = static_cast<std::size_t>(std::max<std::int64_t>(1, size(random_)));
    const std::size_t take = std::min(input.size() - offset, drawn);
    // The first segment of a connection goes at once; each later one at
    // least `delay` after the one before.
    last_due = last_due == SteadyTime::min() ? now : std::max(now, last_due + spec_.delay);
    verdict.forward.push_back(Emit{std::string(input.substr(offset, take)), last_due - now, true, true});
    offset += take;
  }
  return verdict;
}

FilterVerdict TcpFaultFilter::budget_bytes(std::string_view input) {
  FilterVerdict verdict;
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

FilterVerdict TcpFaultFilter::on_bytes(Direction from, std::string_view input, SteadyTime now) {
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
    case TcpFaultMode::kLimitData: return budget_bytes(input);
    case TcpFaultMode::kBandwidth: return rate_limited(from, input, now);
    case TcpFaultMode::kSlicer: return sliced(from, input, now);
    case TcpFaultMode::kTimeout: return verdict;  // read and dropped
    case TcpFaultMode::kSlowClose: break;
  }
  verdict.forward.push_back(Emit{std::string(input)});
  return verdict;
}

FilterVerdict TcpFaultFilter::on_end(Direction from, SteadyTime now) {
  (void)now;
  FilterVerdict verdict;  // nothing is ever held back inside the filter
  if (!faulted(from)) return verdict;
  if (spec_.mode == TcpFaultMode::kSlowClose) verdict.end_delay = spec_.delay;
  // A peer that stopped answering does not say goodbye either.
  if (spec_.mode == TcpFaultMode::kTimeout) verdict.end_delay = kHoldEnd;
  return verdict;
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
