#include "agent/faults/dns/dns_message.h"

#include <cctype>

namespace chaos::agent::dns {

namespace {

constexpr std::uint8_t kPointerTag = 0xC0;
// A name's labels can need at most 127 pointers to reach 255 octets; more
// hops than that can only be a loop or garbage.
constexpr int kMaxPointerHops = 127;

std::uint16_t read_u16(std::span<const std::uint8_t> message, std::size_t offset) {
  return static_cast<std::uint16_t>((message[offset] << 8) | message[offset + 1]);
}

Status error_at(std::size_t offset, const std::string& what) {
  return invalid_argument("dns message offset " + std::to_string(offset) + ": " + what);
}

struct DecodedName {
  std::vector<std::string> labels;
  std::size_t end = 0;  // offset just past the name where it started
};

// RFC 1035 4.1.4 compression is allowed; every pointer must point strictly
// backwards, which together with the hop limit rules out loops.
StatusOr<DecodedName> decode_name(std::span<const std::uint8_t> message, std::size_t offset) {
  DecodedName name;
  std::size_t position = offset;
  std::size_t wire_length = 0;
  int hops = 0;
  bool jumped = false;
  while (true) {
    if (position >= message.size()) return error_at(position, "name runs past the end");
    const std::uint8_t length = message[position];
    if ((length & kPointerTag) == kPointerTag) {
      if (position + 1 >= message.size()) return error_at(position, "truncated compression pointer");
      const std::size_t target = read_u16(message, position) & 0x3FFF;
      if (target >= position) return error_at(position, "compression pointer does not point backwards");
      if (++hops > kMaxPointerHops) return error_at(position, "too many compression pointers");
      if (!jumped) name.end = position + 2;
      jumped = true;
      position = target;
      continue;
    }
    if ((length & kPointerTag) != 0) return error_at(position, "reserved label type");
    wire_length += 1u + length;
    if (wire_length > kMaxNameWireLength) return error_at(position, "name longer than 255 octets");
    if (length == 0) break;
    if (position + 1 + length > message.size()) return error_at(position, "label runs past the end");
    const auto* first = message.data() + position + 1;
    name.labels.emplace_back(first, first + length);
    position += 1u + length;
  }
  if (!jumped) name.end = position + 1;
  return name;
}

void append_u16(Bytes& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void append_u32(Bytes& out, std::uint32_t value) {
  append_u16(out, static_cast<std::uint16_t>(value >> 16));
  append_u16(out, static_cast<std::uint16_t>(value & 0xFFFF));
}

void append_name(Bytes& out, const std::vector<std::string>& labels) {
  for (const auto& label : labels) {
    assert(!label.empty() && label.size() <= kMaxLabelLength);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
}

// Header + echoed question; the caller appends answers.
Bytes reply_start(const DnsQuery& query, Rcode rcode, bool authoritative, std::uint16_t answers) {
  Bytes out;
  out.reserve(512);
  append_u16(out, query.id);
  std::uint8_t flags_high = 0x80;  // QR
  flags_high |= static_cast<std::uint8_t>((query.opcode & 0x0F) << 3);
  if (authoritative) flags_high |= 0x04;
  if (query.recursion_desired) flags_high |= 0x01;
  out.push_back(flags_high);
  out.push_back(static_cast<std::uint8_t>(0x80 | static_cast<std::uint8_t>(rcode)));  // RA
  append_u16(out, 1);        // QDCOUNT
  append_u16(out, answers);  // ANCOUNT
  append_u16(out, 0);        // NSCOUNT
  append_u16(out, 0);        // ARCOUNT
  append_name(out, query.question.labels);
  append_u16(out, query.question.type);
  append_u16(out, query.question.klass);
  return out;
}

void append_answer(Bytes& out, const DnsQuery& query, std::span<const std::uint8_t> rdata,
                   std::uint32_t ttl_seconds) {
  append_u16(out, 0xC000 | kHeaderSize);  // the question's name, right after the header
  append_u16(out, query.question.type);
  append_u16(out, query.question.klass);
  append_u32(out, ttl_seconds);
  append_u16(out, static_cast<std::uint16_t>(rdata.size()));
  out.insert(out.end(), rdata.begin(), rdata.end());
}

}  // namespace

std::string DnsQuestion::dotted_lower_name() const {
  if (labels.empty()) return ".";
  std::string text;
  for (const auto& label : labels) {
    if (!text.empty()) text += '.';
    for (char c : label) text += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

bool is_response(std::span<const std::uint8_t> message) {
  return message.size() >= kHeaderSize && (message[2] & 0x80) != 0;
}

StatusOr<std::uint16_t> message_id(std::span<const std::uint8_t> message) {
  if (message.size() < kHeaderSize) return error_at(0, "shorter than a header");
  return read_u16(message, 0);
}

StatusOr<DnsQuery> parse_query(std::span<const std::uint8_t> message) {
  if (message.size() < kHeaderSize) return error_at(0, "shorter than a header");
  if (is_response(message)) return error_at(2, "QR bit set: a response, not a query");
  DnsQuery query;
  query.id = read_u16(message, 0);
  query.opcode = static_cast<std::uint8_t>((message[2] >> 3) & 0x0F);
  query.recursion_desired = (message[2] & 0x01) != 0;
  if (query.opcode != 0) return error_at(2, "opcode " + std::to_string(query.opcode) + " is not QUERY");
  const std::uint16_t question_count = read_u16(message, 4);
  if (question_count != 1) {
    return error_at(4, "question count " + std::to_string(question_count) + ", want 1");
  }
  CHAOS_ASSIGN_OR_RETURN(DecodedName name, decode_name(message, kHeaderSize));
  if (name.end + 4 > message.size()) return error_at(name.end, "question type/class run past the end");
  query.question.labels = std::move(name.labels);
  query.question.type = read_u16(message, name.end);
  query.question.klass = read_u16(message, name.end + 2);
  return query;
}

Bytes build_rcode_reply(const DnsQuery& query, Rcode rcode) {
  return reply_start(query, rcode, /*authoritative=*/false, 0);
}

Bytes build_address_reply(const DnsQuery& query, const SpoofedAddresses& addresses,
                          std::uint32_t ttl_seconds) {
  const bool internet = query.question.klass == kClassIn;
  std::uint16_t count = 0;
  if (internet && query.question.type == kTypeA) count = static_cast<std::uint16_t>(addresses.ipv4.size());
  if (internet && query.question.type == kTypeAAAA) {
    count = static_cast<std::uint16_t>(addresses.ipv6.size());
  }
  Bytes out = reply_start(query, Rcode::kNoError, /*authoritative=*/true, count);
  if (internet && query.question.type == kTypeA) {
    for (const auto& address : addresses.ipv4) append_answer(out, query, address, ttl_seconds);
  }
  if (internet && query.question.type == kTypeAAAA) {
    for (const auto& address : addresses.ipv6) append_answer(out, query, address, ttl_seconds);
  }
  return out;
}

StatusOr<Bytes> build_query(std::uint16_t id, const std::vector<std::string>& labels, std::uint16_t type) {
  std::size_t wire_length = 1;
  for (const auto& label : labels) {
    if (label.empty() || label.size() > kMaxLabelLength) return invalid_argument("dns query: bad label length");
    wire_length += 1 + label.size();
  }
  if (wire_length > kMaxNameWireLength) return invalid_argument("dns query: name longer than 255 octets");
  Bytes out;
  append_u16(out, id);
  out.push_back(0x01);  // RD, as a stub resolver sends it
  out.push_back(0x00);
  append_u16(out, 1);  // QDCOUNT
  append_u16(out, 0);
  append_u16(out, 0);
  append_u16(out, 0);
  append_name(out, labels);
  append_u16(out, type);
  append_u16(out, kClassIn);
  return out;
}

StatusOr<DnsReply> parse_reply(std::span<const std::uint8_t> message) {
  if (message.size() < kHeaderSize) return error_at(0, "shorter than a header");
  if (!is_response(message)) return error_at(2, "QR bit clear: a query, not a response");
  DnsReply reply;
  reply.id = read_u16(message, 0);
  reply.rcode = static_cast<Rcode>(message[3] & 0x0F);
  const std::uint16_t questions = read_u16(message, 4);
  const std::uint16_t answers = read_u16(message, 6);
  std::size_t position = kHeaderSize;
  for (std::uint16_t i = 0; i < questions; ++i) {
    CHAOS_ASSIGN_OR_RETURN(DecodedName name, decode_name(message, position));
    if (name.end + 4 > message.size()) return error_at(name.end, "question type/class run past the end");
    position = name.end + 4;
  }
  for (std::uint16_t i = 0; i < answers; ++i) {
    CHAOS_ASSIGN_OR_RETURN(DecodedName name, decode_name(message, position));
    position = name.end;
    if (position + 10 > message.size()) return error_at(position, "answer header runs past the end");
    const std::uint16_t type = read_u16(message, position);
    const std::uint16_t length = read_u16(message, position + 8);
    position += 10;
    if (position + length > message.size()) return error_at(position, "answer data runs past the end");
    reply.answers.push_back({type, Bytes(message.begin() + static_cast<std::ptrdiff_t>(position),
                                         message.begin() + static_cast<std::ptrdiff_t>(position + length))});
    position += length;
  }
  return reply;
}

}  // namespace chaos::agent::dns
