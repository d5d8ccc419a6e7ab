#include "agent/faults/network/network_effect_check.h"

#include "agent/faults/network/rules/kernel_readback.h"
#include "agent/faults/network/rules/object_names.h"

namespace chaos::agent::network {

namespace {

void add_counter(FaultEffect& effect, const std::string& name, std::uint64_t value) {
  effect.counters.push_back(FaultCounter{name, value});
}

void append(std::string& evidence, const std::string& part) { evidence += (evidence.empty() ? "" : "; ") + part; }

// The engine's counters, and whether it has impaired anything yet.
Status add_engine(FaultEffect& effect, const PacketEngine& engine) {
  const std::string queue = "engine on queue " + std::to_string(engine.queue_number());
  if (const auto failure = engine.failure(); !failure.empty()) {
    return failed_precondition(queue + " has stopped: " + failure);
  }
  const auto stats = engine.stats();
  add_counter(effect, "packets_delayed", stats.delayed);
  add_counter(effect, "packets_dropped", stats.dropped);
  add_counter(effect, "packets_duplicated", stats.duplicated);
  add_counter(effect, "packets_resent", stats.reinjected);
  add_counter(effect, "send_failures", stats.send_failures);
  effect.impaired = effect.impaired || stats.delayed + stats.dropped + stats.duplicated > 0;
  append(effect.evidence, queue + " running: " + std::to_string(stats.received) + " received, " +
                              std::to_string(stats.delayed) + " delayed, " + std::to_string(stats.dropped) +
                              " dropped, " + std::to_string(stats.duplicated) + " duplicated");
  return {};
}

}  // namespace

StatusOr<FaultEffect> read_back_effect(CommandRunner& commands, const FaultObjects& objects,
                                       const PacketEngine* engine) {
  FaultEffect effect;
  // The tree first: it is installed before the rules that steer into it.
  std::optional<QdiscProof> tree;
  if (!objects.qdisc_leaf.empty()) {
    CHAOS_ASSIGN_OR_RETURN(tree, read_back_qdisc_tree(commands, objects.qdisc_interface, objects.qdisc_leaf));
  }
  std::uint64_t matched = 0;
  if (objects.steering) {
    CHAOS_ASSIGN_OR_RETURN(const auto steering, read_back_steering(commands, *objects.steering));
    matched += steering.packets_matched;
    append(effect.evidence, steering.evidence);
  }
  std::optional<std::uint64_t> dropped;
  if (objects.drop_table) {
    CHAOS_ASSIGN_OR_RETURN(const auto table, read_back_drop_table(commands, *objects.drop_table));
    matched += table.packets_matched;
    dropped = table.packets_dropped;
    effect.impaired = table.packets_dropped > 0;
    append(effect.evidence, table.evidence);
  }
  if (tree) {
    // Every packet through the leaf was shaped (a tbf with tokens to spare
    // sends it at once, but it is the rate that let it through).
    effect.impaired = matched > 0 || tree->sent_packets > 0;
    dropped = tree->dropped;
    append(effect.evidence, tree->evidence);
  }
  add_counter(effect, "packets_matched", matched);
  if (engine != nullptr) {
    CHAOS_RETURN_IF_ERROR(add_engine(effect, *engine));
  } else if (dropped) {
    add_counter(effect, "packets_dropped", *dropped);
  }
  if (!effect.impaired) effect.evidence += " (armed, no traffic yet)";
  return effect;
}

StatusOr<FaultEffect> engine_effect(const PacketEngine& engine) {
  FaultEffect effect;
  add_counter(effect, "packets_matched", engine.stats().received);
  CHAOS_RETURN_IF_ERROR(add_engine(effect, engine));
  if (!effect.impaired) effect.evidence += " (armed, no traffic yet)";
  return effect;
}

StatusOr<std::string> read_back_gone(CommandRunner& commands, const GoneCheck& check) {
  const auto names = fault_object_names(check.fault_id);
  std::vector<std::string> left;
  std::vector<std::string> absent;
  if (check.steering) {
    CHAOS_ASSIGN_OR_RETURN(const auto chains, steering_leftovers(commands, names.egress_chain, names.ingress_chain));
    left.insert(left.end(), chains.begin(), chains.end());
    absent.push_back("chains " + names.egress_chain + "/" + names.ingress_chain.substr(names.ingress_chain.size() - 1) +
                     " and their jumps absent from iptables-save and ip6tables-save");
  }
  if (check.drop_table) {
    CHAOS_ASSIGN_OR_RETURN(const bool listed, drop_table_listed(commands, names.nft_table));
    if (listed) left.push_back("nft table inet " + names.nft_table);
    absent.push_back("nft table inet " + names.nft_table + " absent");
  }
  if (check.qdisc) {
    CHAOS_ASSIGN_OR_RETURN(const auto trees, qdisc_leftovers(commands, check.interface, names.qdisc_leaf_handle));
    left.insert(left.end(), trees.begin(), trees.end());
    absent.push_back("no qdisc leaf " + names.qdisc_leaf_handle + " on " +
                     (check.interface.empty() ? std::string("any interface") : check.interface));
  }
  if (!left.empty()) {
    std::string text;
    for (const auto& item : left) text += (text.empty() ? "" : ", ") + item;
    return failed_precondition("still there: " + text);
  }
  std::string evidence;
  for (const auto& item : absent) append(evidence, item);
  return evidence;
}

}  // namespace chaos::agent::network
