// The effect check's probe: one query for a name the fault targets, sent
// over udp the way a client's query goes (to the resolver from resolv.conf,
// where the redirect catches it), and the test of its answer against the
// fault's mode. The stub recognises the probe by its source address and
// never forwards it, so a probe never leaves the node through the stub.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "agent/faults/dns/dns_fault_spec.h"
#include "agent/faults/dns/dns_message.h"
#include "common/status.h"

namespace chaos::agent::dns {

// A concrete name the fault's patterns match ("*.lab" -> "chaos-probe.lab");
// nullopt when no pattern yields one.
std::optional<std::string> probe_name_for(const DnsFaultSpec& spec);

// The probe query for `name` (dotted, as probe_name_for() returns it).
StatusOr<Bytes> build_probe_query(std::uint16_t id, const std::string& name, std::uint16_t type);

// A for every mode but a spoof that only has IPv6 addresses.
std::uint16_t probe_type_for(const DnsFaultSpec& spec);

struct ProbeOutcome {
  std::optional<Bytes> reply;  // the reply with the probe's id, if one came in time
  std::string refused;         // why nothing could arrive: "connection refused", ...
};

// Sends `query` from a fresh udp socket connected to `target` and waits up
// to `wait` for the reply with the query's id. `on_bound` learns the
// socket's source address before the query leaves.
StatusOr<ProbeOutcome> exchange_probe(const sockaddr_storage& target, socklen_t target_length,
                                      std::span<const std::uint8_t> query, std::chrono::milliseconds wait,
                                      const std::function<void(const sockaddr_storage&)>& on_bound);

// Empty when `reply` is the fault's answer to a probe of `type` with `id`;
// otherwise what differs ("rcode NOERROR, want NXDOMAIN").
std::string faulty_answer_mismatch(const DnsFaultSpec& spec, std::span<const std::uint8_t> reply,
                                   std::uint16_t id, std::uint16_t type);

// The mode answers at once (nxdomain, servfail, refused, spoof); timeout
// and delay are proven by silence instead.
bool mode_answers_at_once(DnsFaultMode mode);

}  // namespace chaos::agent::dns
