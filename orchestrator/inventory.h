// Agent inventories: `[[agents]]` tables with address, node and labels,
// written by people or by `chaosctl lab up`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment.h"
#include "orchestrator/toml_reader.h"

namespace chaos::orchestrator {

// Errors are "file:line:col: message", one per line.
StatusOr<std::vector<AgentEndpoint>> load_inventory(const std::string& path);

// Reads one agent table (address, node, labels); reports problems to the
// reader's diagnostics and returns nullopt.
std::optional<AgentEndpoint> read_agent_table(TableReader& reader);

// HOST:PORT with a port in 1..65535; empty message when valid.
std::string check_agent_address(const std::string& address);

}  // namespace chaos::orchestrator
