// The effect check's probe: which name it asks for and what counts as the
// fault's answer.
#include "agent/faults/dns/dns_probe.h"

#include <gtest/gtest.h>

#include "agent/faults/dns/query_policy.h"

namespace chaos::agent::dns {
namespace {

DnsFaultSpec spec_for(std::vector<std::string> patterns, DnsFaultMode mode) {
  DnsFaultSpec spec;
  for (const auto& pattern : patterns) spec.patterns.push_back(NamePattern::compile(pattern).value());
  spec.mode = mode;
  return spec;
}

TEST(DnsProbeTest, ProbeNameIsDerivedFromTheFirstUsablePattern) {
  EXPECT_EQ(probe_name_for(spec_for({"*.LAB"}, DnsFaultMode::kNxDomain)), "chaos-probe.lab");
  EXPECT_EQ(probe_name_for(spec_for({"db-?.example.com"}, DnsFaultMode::kNxDomain)), "db-x.example.com");
  EXPECT_EQ(probe_name_for(spec_for({".", "nats-1.lab."}, DnsFaultMode::kNxDomain)), "nats-1.lab");
  EXPECT_EQ(probe_name_for(spec_for({"."}, DnsFaultMode::kNxDomain)), std::nullopt) << "the root is no name";
}

TEST(DnsProbeTest, OnlyTheModesAnswerCounts) {
  const DnsFaultSpec nxdomain = spec_for({"*.lab"}, DnsFaultMode::kNxDomain);
  const Bytes query = build_probe_query(7, "chaos-probe.lab", kTypeA).value();
  const DnsQuery parsed = parse_query(query).value();
  EXPECT_EQ(faulty_answer_mismatch(nxdomain, build_rcode_reply(parsed, Rcode::kNxDomain), 7, kTypeA), "");
  EXPECT_EQ(faulty_answer_mismatch(nxdomain, build_rcode_reply(parsed, Rcode::kNoError), 7, kTypeA),
            "rcode NOERROR, want NXDOMAIN");
  EXPECT_EQ(faulty_answer_mismatch(nxdomain, build_rcode_reply(parsed, Rcode::kNxDomain), 8, kTypeA),
            "reply to another query");

  DnsFaultSpec spoof = spec_for({"*.lab"}, DnsFaultMode::kSpoof);
  spoof.spoof.ipv4 = {{10, 66, 0, 1}};
  EXPECT_EQ(faulty_answer_mismatch(spoof, build_address_reply(parsed, spoof.spoof, kSpoofTtlSeconds), 7, kTypeA),
            "");
  SpoofedAddresses real;
  real.ipv4 = {{10, 202, 99, 11}};
  EXPECT_EQ(faulty_answer_mismatch(spoof, build_address_reply(parsed, real, 60), 7, kTypeA),
            "1 address answers, not the 1 spoofed ones");
}

}  // namespace
}  // namespace chaos::agent::dns
