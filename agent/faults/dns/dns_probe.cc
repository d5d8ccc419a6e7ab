#include "agent/faults/dns/dns_probe.h"

#include <cerrno>
#include <sstream>
#include <vector>

#include "agent/faults/dns/socket_io.h"

namespace chaos::agent::dns {

namespace {

std::vector<std::string> split_labels(const std::string& name) {
  std::vector<std::string> labels;
  std::istringstream parts(name);
  for (std::string label; std::getline(parts, label, '.');) labels.push_back(label);
  return labels;
}

const char* rcode_name(Rcode rcode) {
  switch (rcode) {
    case Rcode::kNoError: return "NOERROR";
    case Rcode::kFormErr: return "FORMERR";
    case Rcode::kServFail: return "SERVFAIL";
    case Rcode::kNxDomain: return "NXDOMAIN";
    case Rcode::kNotImp: return "NOTIMP";
    case Rcode::kRefused: return "REFUSED";
  }
  return "other";
}

std::string rcode_mismatch(const DnsReply& reply, Rcode want) {
  if (reply.rcode == want) return {};
  return std::string("rcode ") + rcode_name(reply.rcode) + ", want " + rcode_name(want);
}

}  // namespace

std::optional<std::string> probe_name_for(const DnsFaultSpec& spec) {
  for (const auto& pattern : spec.patterns) {
    std::string name;
    for (char c : pattern.text()) {
      if (c == '*') {
        name += "chaos-probe";
      } else if (c == '?') {
        name += 'x';
      } else {
        name += c;
      }
    }
    const auto labels = split_labels(name);
    bool usable = !labels.empty() && name.back() != '.';
    for (const auto& label : labels) usable = usable && !label.empty() && label.size() <= kMaxLabelLength;
    if (usable && build_query(0, labels, kTypeA).ok() && spec.matches(name)) return name;
  }
  return std::nullopt;
}

StatusOr<Bytes> build_probe_query(std::uint16_t id, const std::string& name, std::uint16_t type) {
  return build_query(id, split_labels(name), type);
}

std::uint16_t probe_type_for(const DnsFaultSpec& spec) {
  if (spec.mode == DnsFaultMode::kSpoof && spec.spoof.ipv4.empty()) return kTypeAAAA;
  return kTypeA;
}

bool mode_answers_at_once(DnsFaultMode mode) {
  return mode != DnsFaultMode::kTimeout && mode != DnsFaultMode::kDelay;
}

StatusOr<ProbeOutcome> exchange_probe(const sockaddr_storage& target, socklen_t target_length,
                                      std::span<const std::uint8_t> query, std::chrono::milliseconds wait,
                                      const std::function<void(const sockaddr_storage&)>& on_bound) {
  CHAOS_ASSIGN_OR_RETURN(const std::uint16_t id, message_id(query));
  UniqueFd fd(::socket(target.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return unavailable("dns probe: socket: " + errno_text());
  // Connected, so the kernel reports an ICMP "port unreachable" as
  // ECONNREFUSED and only the target's datagrams reach us.
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target), target_length) != 0) {
    return ProbeOutcome{std::nullopt, "connect: " + errno_text()};
  }
  sockaddr_storage source{};
  socklen_t source_length = sizeof source;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&source), &source_length) != 0) {
    return unavailable("dns probe: getsockname: " + errno_text());
  }
  on_bound(source);
  if (::send(fd.get(), query.data(), query.size(), MSG_NOSIGNAL) < 0) {
    return ProbeOutcome{std::nullopt, "send: " + errno_text()};
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  Bytes buffer(4096);
  while (true) {
    const Status ready = wait_ready(fd.get(), -1, deadline);
    if (!ready.ok()) return ProbeOutcome{};  // nothing within the wait
    const ssize_t got = ::recv(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return ProbeOutcome{std::nullopt, "recv: " + errno_text()};
    }
    std::span<const std::uint8_t> received(buffer.data(), static_cast<std::size_t>(got));
    auto reply_id = message_id(received);
    if (reply_id.ok() && *reply_id == id && is_response(received)) {
      return ProbeOutcome{Bytes(received.begin(), received.end()), {}};
    }
  }
}

std::string faulty_answer_mismatch(const DnsFaultSpec& spec, std::span<const std::uint8_t> reply,
                                   std::uint16_t id, std::uint16_t type) {
  auto parsed = parse_reply(reply);
  if (!parsed.ok()) return "unreadable reply: " + parsed.status().message();
  if (parsed->id != id) return "reply to another query";
  switch (spec.mode) {
    case DnsFaultMode::kNxDomain: return rcode_mismatch(*parsed, Rcode::kNxDomain);
    case DnsFaultMode::kServFail: return rcode_mismatch(*parsed, Rcode::kServFail);
    case DnsFaultMode::kRefused: return rcode_mismatch(*parsed, Rcode::kRefused);
    case DnsFaultMode::kTimeout:
    case DnsFaultMode::kDelay: return "answered at once (" + std::string(rcode_name(parsed->rcode)) + ")";
    case DnsFaultMode::kSpoof: break;
  }
  if (std::string rcode = rcode_mismatch(*parsed, Rcode::kNoError); !rcode.empty()) return rcode;
  std::vector<Bytes> want;
  if (type == kTypeA) {
    for (const auto& address : spec.spoof.ipv4) want.emplace_back(address.begin(), address.end());
  } else {
    for (const auto& address : spec.spoof.ipv6) want.emplace_back(address.begin(), address.end());
  }
  std::vector<Bytes> got;
  for (const auto& answer : parsed->answers) {
    if (answer.type == type) got.push_back(answer.data);
  }
  if (got != want) {
    return std::to_string(got.size()) + " address answers, not the " + std::to_string(want.size()) +
           " spoofed ones";
  }
  return {};
}

}  // namespace chaos::agent::dns
