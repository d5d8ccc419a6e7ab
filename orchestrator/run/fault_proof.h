// An agent's proof of a fault's effect (v1::Fault's effect fields, a
// RevertAll's LeftoverReport) in the run's terms, and the one-line forms
// chaosctl prints.
#pragma once

#include <string>
#include <vector>

#include "chaos/v1/agent.pb.h"
#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

// "verified", "armed", "unverified", "not checked"; empty for an agent
// that does not check effects.
std::string effect_name(v1::EffectState effect);

FaultProof proof_of(const v1::Fault& fault);

std::vector<ContainerRecord> containers_of(const v1::Fault& fault);

// "podman nats-1 (3f2a9c1b7e44) pid 4242 net:[4026532301]", with
// " pod messaging/nats-0" for a Kubernetes pod's container.
std::string describe_container_ref(const v1::ContainerRef& container);

NodeLeftovers leftovers_of(const std::string& agent, const std::string& node, const v1::LeftoverReport& report);

// "verified in 12ms: iptables mangle ...", "armed, no traffic yet in 9ms:
// ...", "NOT verified: ...", "" when the agent said nothing.
std::string describe_effect(const v1::Fault& fault);

// "verified in 4ms: chains CHAOS-1a2b-O/I absent ...", "" before the gone
// check passed.
std::string describe_gone(const v1::Fault& fault);

// "packets_delayed=120 packets_matched=120" (sorted by name), "" when none.
std::string describe_counters(const v1::Fault& fault);

}  // namespace chaos::orchestrator
