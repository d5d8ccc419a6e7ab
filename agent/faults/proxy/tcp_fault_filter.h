// What a tcp.* fault does to the bytes of one connection, as a StreamFilter:
// pure, driven by the times it is handed, so unit tests use fake times.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>

#include "agent/faults/proxy/stream_filter.h"
#include "agent/faults/proxy/tcp_fault_spec.h"

namespace chaos::agent::proxy {

// Forwards every byte at once: the connections a percentage leaves alone.
class PassThroughFilter final : public StreamFilter {
 public:
  FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime now) override;
  FilterVerdict on_end(Direction from, SteadyTime now) override;
  bool passes_through(Direction) const noexcept override { return true; }
};

class TcpFaultFilter final : public StreamFilter {
 public:
  TcpFaultFilter(const TcpFaultSpec& spec, std::uint64_t seed);
  FilterVerdict on_open(SteadyTime now) override;
  FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime now) override;
  FilterVerdict on_end(Direction from, SteadyTime now) override;
  // A direction the spec's scope leaves alone, slow_close (only the FIN
  // waits) and reset_peer by time alone (bytes flow until the reset).
  bool passes_through(Direction from) const noexcept override;

 private:
  bool faulted(Direction from) const;
  Duration latency_sample();
  FilterVerdict budget_bytes(std::string_view input);
  // Pieces due when a link of the spec's rate would have carried them.
  FilterVerdict rate_limited(Direction from, std::string_view input, SteadyTime now);
  FilterVerdict sliced(Direction from, std::string_view input, SteadyTime now);

  const TcpFaultSpec& spec_;
  std::mt19937_64 random_;
  // Bytes forwarded in the faulted direction(s): reset_peer's and
  // limit_data's budget.
  std::uint64_t counted_bytes_ = 0;
  bool budget_spent_ = false;
  // Per direction (client to server first): when the last piece queued by
  // tcp.bandwidth or tcp.slicer is due.
  SteadyTime last_due_[2] = {SteadyTime::min(), SteadyTime::min()};
};

// Per connection: a TcpFaultFilter for `percent` of them (drawn at accept),
// a PassThroughFilter for the rest.
class TcpFilterFactory final : public StreamFilterFactory {
 public:
  TcpFilterFactory(TcpFaultSpec spec, std::uint64_t seed);
  std::unique_ptr<StreamFilter> make(const ConnectionInfo& connection) override;
  std::uint64_t faulted_connections() const { return faulted_.load(); }
  const TcpFaultSpec& spec() const { return spec_; }

 private:
  const TcpFaultSpec spec_;
  const std::uint64_t seed_;
  std::mt19937_64 random_;  // the proxy's event thread only
  std::atomic<std::uint64_t> faulted_{0};
};

}  // namespace chaos::agent::proxy
