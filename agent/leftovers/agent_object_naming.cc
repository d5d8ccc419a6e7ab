#include "agent/leftovers/agent_object_naming.h"

#include "agent/faults/dns/dns_redirect_rules.h"
#include "agent/faults/network/rules/object_names.h"
#include "agent/faults/network/rules/qdisc_tree.h"

namespace chaos::agent::leftovers {

ObjectNaming agent_object_naming() {
  ObjectNaming naming;
  naming.prefixes = {network::kIptablesChainPrefix, network::kNftTablePrefix, network::kQdiscRootHandle};
  naming.names_of = [](const std::string& fault_id) {
    const auto names = network::fault_object_names(fault_id);
    return std::vector<std::string>{names.egress_chain, names.ingress_chain, names.nft_table,
                                    names.qdisc_leaf_handle, dns::redirect_table_name(fault_id)};
  };
  return naming;
}

}  // namespace chaos::agent::leftovers
