// A qdisc tree the fault owns on one interface, for the tbf (bandwidth) and
// netem backends: an htb root whose unclassified traffic is sent directly
// (default class 0 = unshaped), one class "cafe:1" holding the leaf qdisc,
// and packets steered into that class by iptables CLASSIFY, so the scope and
// the protected-port exemption work exactly as for the NFQUEUE engine.
//
// Host qdiscs are preserved: we only ever replace a kernel default root
// (handle 0:), which `tc qdisc del ... root` restores on revert; any root
// qdisc someone configured is refused rather than clobbered.
//
// The leaf's handle is derived from the fault id (FaultObjectNames), so a
// revert never deletes a tree another fault built on the same interface
// after ours was gone, and recovery from the fault id alone finds ours on
// whichever interface it is. The tree is added by one `tc -batch -`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/network/engine/impairment_model.h"
#include "common/command_runner.h"

namespace chaos::agent::network {

using Argv = std::vector<std::string>;

inline constexpr const char* kQdiscRootHandle = "cafe:";
inline constexpr const char* kQdiscClassId = "cafe:1";

// "tbf rate 8000000bit burst 10000 latency 50000us"
Argv tbf_leaf(std::uint64_t rate_bits_per_second, std::uint32_t burst_bytes, Duration latency);
// "netem limit L delay 50000us 5000us 25% distribution normal loss ..."
Argv netem_leaf(const ImpairmentSpec& spec, std::uint32_t limit_packets);

// The `tc -batch -` input that builds the tree (root, class, leaf).
std::string qdisc_tree_batch(const std::string& interface, const std::string& leaf_handle, const Argv& leaf);

// Refuses an interface whose root qdisc is not a kernel default, then adds
// the tree (all-or-nothing: a batch that fails part-way is removed).
Status install_qdisc_tree(CommandRunner& commands, const std::string& interface, const std::string& leaf_handle,
                          const Argv& leaf);

// Deletes our root qdisc from `interface` unless its leaf belongs to
// another fault (a half-built tree without a leaf counts as ours);
// idempotent.
Status remove_qdisc_tree(CommandRunner& commands, const std::string& interface, const std::string& leaf_handle);

// Deletes our root qdisc from every interface whose leaf is exactly
// `leaf_handle` (recovery from the fault id alone); idempotent.
Status remove_qdisc_trees_with_leaf(CommandRunner& commands, const std::string& leaf_handle);

}  // namespace chaos::agent::network
