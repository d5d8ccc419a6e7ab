#include "agent/faults/dns/query_policy.h"

namespace chaos::agent::dns {

QueryPolicy::QueryPolicy(DnsFaultSpec spec, std::uint64_t seed) : spec_(std::move(spec)), random_(seed) {}

bool QueryPolicy::selected_by_percent() {
  if (spec_.percent >= 100.0) return true;
  std::lock_guard lock(random_mutex_);
  std::uniform_real_distribution<double> draw(0.0, 100.0);
  return draw(random_) < spec_.percent;
}

QueryPlan QueryPolicy::plan_fault(const DnsQuery& query) const {
  QueryPlan plan;
  plan.faulted = true;
  plan.action = QueryPlan::Action::kReply;
  switch (spec_.mode) {
    case DnsFaultMode::kNxDomain: plan.reply = build_rcode_reply(query, Rcode::kNxDomain); break;
    case DnsFaultMode::kServFail: plan.reply = build_rcode_reply(query, Rcode::kServFail); break;
    case DnsFaultMode::kRefused: plan.reply = build_rcode_reply(query, Rcode::kRefused); break;
    case DnsFaultMode::kSpoof: plan.reply = build_address_reply(query, spec_.spoof, kSpoofTtlSeconds); break;
    case DnsFaultMode::kTimeout: plan.action = QueryPlan::Action::kDrop; break;
    case DnsFaultMode::kDelay:
      plan.action = QueryPlan::Action::kForward;
      plan.answer_delay = spec_.delay;
      break;
  }
  return plan;
}

QueryPlan QueryPolicy::plan(std::span<const std::uint8_t> message) {
  // Responses (a reflection attempt or stray traffic) and scraps shorter
  // than a header are never forwarded: they cannot be a client's question.
  if (message.size() < kHeaderSize || is_response(message)) return {QueryPlan::Action::kDrop, {}, {}, false};
  auto query = parse_query(message);
  // Anything else we do not understand (other opcodes, several questions,
  // broken names) goes to the real resolver untouched: the fault only
  // promises to change answers for matching names.
  if (!query.ok()) return {};
  if (!spec_.matches(query->question.dotted_lower_name())) return {};
  if (!selected_by_percent()) return {};
  return plan_fault(*query);
}

QueryPlan QueryPolicy::plan_probe(std::span<const std::uint8_t> message) const {
  auto query = parse_query(message);
  if (!query.ok() || !spec_.matches(query->question.dotted_lower_name())) return {QueryPlan::Action::kDrop, {}, {}, false};
  return plan_fault(*query);
}

}  // namespace chaos::agent::dns
