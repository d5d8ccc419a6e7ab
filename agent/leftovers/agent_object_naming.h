// The names the fault families give their kernel objects, for the leftover
// detector (snapshot_diff.h): iptables chains "CHAOS-<tag>-O|I", nft tables
// "chaos_<tag>" (network drop tables) and "chaos_dns_<id>" (DNS redirects),
// the qdisc root "cafe:" and each fault's leaf handle. In a library of its
// own (chaos_agent_leftovers_naming) so the detector itself links none of the
// fault families. DNS faults only read resolv.conf, and no fault writes a
// sysctl, so a change to those is never ours.
#pragma once

#include "agent/leftovers/snapshot_diff.h"

namespace chaos::agent::leftovers {

ObjectNaming agent_object_naming();

}  // namespace chaos::agent::leftovers
