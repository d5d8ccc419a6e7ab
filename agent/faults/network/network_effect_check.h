// The proof of a network fault: what it built, read back from the kernel
// (rules/kernel_readback.h) plus the engine's own counters, turned into a
// FaultEffect; and, after revert or recovery, that nothing named after the
// fault id is left.
#pragma once

#include <optional>
#include <string>

#include "agent/fault.h"
#include "agent/faults/network/engine/nfqueue_engine.h"
#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/nft_drop_table.h"

namespace chaos::agent::network {

// What one fault built (each backend fills in its part).
struct FaultObjects {
  std::optional<SteeringPlan> steering;      // NFQUEUE or CLASSIFY chains
  std::optional<DropTablePlan> drop_table;   // nft drop table
  std::string qdisc_interface;               // with qdisc_leaf: our tree
  std::string qdisc_leaf;
};

// Every object is listed as built; the engine (when there is one) is
// running. impaired: engine delayed/dropped/duplicated a packet, the drop
// table dropped one, or the qdisc leaf or its steering rule saw one.
StatusOr<FaultEffect> read_back_effect(CommandRunner& commands, const FaultObjects& objects,
                                       const PacketEngine* engine);

// The cheap per-second look at an engine fault: its in-process counters
// only (packets_matched is what the engine received from its queue).
StatusOr<FaultEffect> engine_effect(const PacketEngine& engine);

// What to look for after revert / recovery; names derive from the fault id.
struct GoneCheck {
  std::string fault_id;
  bool steering = true;
  bool drop_table = true;
  bool qdisc = true;
  // Where our qdisc tree could be; "" looks on every interface.
  std::string interface;
};

// OK: the evidence ("iptables/ip6tables mangle: no CHAOS-x-O/I; ...").
// FAILED_PRECONDITION: "still there: <what>, <what>".
StatusOr<std::string> read_back_gone(CommandRunner& commands, const GoneCheck& check);

}  // namespace chaos::agent::network
