// The small slice of the DNS wire format (RFC 1035 section 4) the stub
// responder needs: read a query's header and its one question, and write
// fixed-form replies (an rcode, or A/AAAA answers) to it.
//
// Why our own code and not a library: Debian 12's c-ares (1.18) only parses
// responses on the client side and cannot build a server reply; ldns could,
// but it would parse every section of hostile input when we only need the
// header and the question. These functions are pure, check every length
// against the buffer, and are fuzzed by a mutation test under ASan.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace chaos::agent::dns {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t kHeaderSize = 12;
// RFC 1035 2.3.4: a name is at most 255 octets on the wire, a label 63.
inline constexpr std::size_t kMaxNameWireLength = 255;
inline constexpr std::size_t kMaxLabelLength = 63;

enum class Rcode : std::uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAAAA = 28;
inline constexpr std::uint16_t kClassIn = 1;

struct DnsQuestion {
  // Raw labels: a label may legally hold any octet, even '.'.
  std::vector<std::string> labels;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;

  // "www.example.lab" in lower case, for pattern matching; "." for the root.
  std::string dotted_lower_name() const;
};

struct DnsQuery {
  std::uint16_t id = 0;
  std::uint8_t opcode = 0;
  bool recursion_desired = false;
  DnsQuestion question;
};

// Parses a standard query (QR=0, OPCODE=QUERY, exactly one question). Any
// other or malformed message is an INVALID_ARGUMENT saying what is wrong and
// at which offset; callers forward such messages untouched or drop them.
StatusOr<DnsQuery> parse_query(std::span<const std::uint8_t> message);

// True when `message` is at least a header whose QR bit marks a response.
bool is_response(std::span<const std::uint8_t> message);

// Reads the 16-bit id of any message that holds a header.
StatusOr<std::uint16_t> message_id(std::span<const std::uint8_t> message);

// A reply with `rcode`, the question echoed and no records. RA is always set:
// glibc treats a reply with RA, AA and ARCOUNT all zero as "try the next
// server", which would let a second nameserver mask the fault.
Bytes build_rcode_reply(const DnsQuery& query, Rcode rcode);

struct SpoofedAddresses {
  std::vector<std::array<std::uint8_t, 4>> ipv4;
  std::vector<std::array<std::uint8_t, 16>> ipv6;
};

// NOERROR with the addresses that match the question's type as answers (A
// for A, AAAA for AAAA, none for other types: a NODATA reply), AA set.
Bytes build_address_reply(const DnsQuery& query, const SpoofedAddresses& addresses,
                          std::uint32_t ttl_seconds);

// A standard recursive query for `labels` (each 1..63 octets, 255 in all):
// the effect check's probe.
StatusOr<Bytes> build_query(std::uint16_t id, const std::vector<std::string>& labels, std::uint16_t type);

// What the effect check reads from a reply: its header and the type and
// data of each answer record (the question is skipped, not checked).
struct DnsReply {
  std::uint16_t id = 0;
  Rcode rcode = Rcode::kNoError;
  struct Answer {
    std::uint16_t type = 0;
    Bytes data;
  };
  std::vector<Answer> answers;
};

// INVALID_ARGUMENT for anything that is not a well-formed response.
StatusOr<DnsReply> parse_reply(std::span<const std::uint8_t> message);

}  // namespace chaos::agent::dns
