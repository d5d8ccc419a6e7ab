// The probe's message body: "<run id> <sequence> <publish time in ns>".
// The run id keeps messages of an earlier probe run (still in the durable
// consumer after a restart) out of this run's loss and duplicate counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chaos::lab::probe {

struct Payload {
  std::string run_id;
  std::uint64_t sequence = 0;
  std::int64_t published_ns = 0;  // steady clock of the publishing process
};

std::string encode_payload(const Payload& payload);
// nullopt for anything that is not exactly three well-formed fields.
std::optional<Payload> decode_payload(std::string_view text);

}  // namespace chaos::lab::probe
