// nats.delay and nats.drop: a StreamFilter that parses both directions of
// a NATS client connection and delays or drops the messages whose subject
// matches, forwarding every other byte unchanged.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/faults/proxy/protocols/nats_protocol.h"
#include "agent/faults/proxy/protocols/nats_subject_pattern.h"
#include "agent/faults/proxy/protocols/protocol_filter_support.h"
#include "agent/faults/proxy/stream_filter.h"
#include "chaos/v1/agent.pb.h"
#include "common/status.h"

namespace chaos::agent::proxy {

inline constexpr std::size_t kNatsFaultMaxSubjects = 16;
inline constexpr std::size_t kNatsFaultMaxErrorText = 256;
inline constexpr Duration kNatsFaultMaxDelay = std::chrono::minutes(10);

enum class NatsFaultAction { kDelay, kDrop };

enum class NatsFlow {
  kPublish,  // client to server: PUB, HPUB
  kDeliver,  // server to client: MSG, HMSG (a JetStream ack is a MSG to _INBOX.>)
  kBoth,
};

struct NatsFaultConfig {
  std::vector<NatsSubjectPattern> subjects;  // any of them
  bool match_reply = false;                  // the reply subject may match too
  NatsFlow flow = NatsFlow::kBoth;
  NatsFaultAction action = NatsFaultAction::kDrop;
  Duration delay{0};                         // kDelay
  std::optional<std::string> error;          // kDrop: "-ERR '<error>'" to the client instead
  NatsLimits limits;
};

// The fault's proof; read by the fault while the proxy's thread counts.
struct NatsFaultCounters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> faulted_connections{0};   // the percentage's pick
  std::atomic<std::uint64_t> pass_through_connections{0};  // the parser gave up (TLS included)
  std::atomic<std::uint64_t> tls_connections{0};
  std::atomic<std::uint64_t> messages_seen{0};  // PUB/HPUB/MSG/HMSG in the fault's flow
  std::atomic<std::uint64_t> messages_matched{0};
  std::atomic<std::uint64_t> messages_delayed{0};
  std::atomic<std::uint64_t> messages_dropped{0};
  std::atomic<std::uint64_t> errors_sent{0};

  void note_pass_through(const std::string& reason);
  // Why the last connection was passed through ("TLS: cannot see inside").
  std::string last_pass_through_reason() const;

 private:
  mutable std::mutex mutex_;
  std::string last_reason_;
};

class NatsFaultFilter final : public StreamFilter {
 public:
  NatsFaultFilter(std::shared_ptr<const NatsFaultConfig> config, std::shared_ptr<NatsFaultCounters> counters);

  FilterVerdict on_bytes(Direction from, std::string_view input, SteadyTime now) override;
  FilterVerdict on_end(Direction from, SteadyTime now) override;
  // Once the connection passes through (TLS, a parser limit) and this
  // direction's splitter holds no partial line.
  bool passes_through(Direction from) const noexcept override;
  // Both directions' partial messages.
  std::size_t held_bytes() const noexcept override;
  // Hands out `from`'s partial message and passes the connection through
  // ("the agent's proxy byte budget is used up").
  FilterVerdict stop_holding(Direction from, SteadyTime now) override;

  bool passing_through() const { return passing_through_; }
  const std::string& pass_through_reason() const { return reason_; }

 private:
  NatsSplitter& splitter(Direction from);
  void start_pass_through(std::string reason);
  void handle(Direction from, NatsSplitter::Output& parsed, FilterVerdict& verdict);
  bool matches(Direction from, const NatsMessage& message) const;

  std::shared_ptr<const NatsFaultConfig> config_;
  std::shared_ptr<NatsFaultCounters> counters_;
  NatsSplitter from_client_;
  NatsSplitter from_server_;
  bool seen_client_byte_ = false;
  bool passing_through_ = false;
  std::string reason_;
};

class NatsFilterFactory final : public StreamFilterFactory {
 public:
  // `connection_percent` 0 means every connection.
  NatsFilterFactory(NatsFaultConfig config, double connection_percent, ProtocolPercentSource random);

  std::unique_ptr<StreamFilter> make(const ConnectionInfo& connection) override;
  const NatsFaultCounters& counters() const { return *counters_; }

 private:
  std::shared_ptr<const NatsFaultConfig> config_;
  double connection_percent_;
  ProtocolPercentSource random_;
  std::shared_ptr<NatsFaultCounters> counters_;
};

// From the fault specs; errors name the proto field ("nats_drop.error: ...").
StatusOr<NatsFaultConfig> nats_fault_config(const v1::NatsDelay& spec);
StatusOr<NatsFaultConfig> nats_fault_config(const v1::NatsDrop& spec);
StatusOr<std::unique_ptr<NatsFilterFactory>> make_nats_filter_factory(const v1::NatsDelay& spec,
                                                                       ProtocolPercentSource random);
StatusOr<std::unique_ptr<NatsFilterFactory>> make_nats_filter_factory(const v1::NatsDrop& spec,
                                                                       ProtocolPercentSource random);

}  // namespace chaos::agent::proxy
