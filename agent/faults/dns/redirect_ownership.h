// What a redirecting fault (dns.fail, and the proxy kinds that reuse its
// nftables redirect) owns: one nft table named after its id, and a claim on
// the network namespace it acts in.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/fault.h"

namespace chaos::agent::dns {

// Which network namespace a fault acts in: the container's held one, or
// the calling thread's (the agent's, or the one a test entered), as
// "device:inode"; the container's namespace path or "host" when neither can
// be read.
std::string fault_network_namespace_key(const FaultContext& context);

// The nft table a fault owns: the one its undo record names, if that is a
// table `table_name` makes (its name starts with `prefix` and is what
// `table_name` gives for the rest), else the one named after the fault's id.
// A journal can never make us delete a table that is not ours.
std::string owned_nft_table(const FaultContext& context, const nlohmann::json& undo_record, std::string_view prefix,
                            std::string (*table_name)(const std::string& fault_id));

}  // namespace chaos::agent::dns
