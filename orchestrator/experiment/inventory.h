// Agent inventories: `[[agents]]` tables with address, node, labels and an
// optional server_name, plus how to reach them securely, written by people
// or by `chaosctl lab up`:
//
//   token_file = "token"          # optional bearer token (relative paths are
//   insecure = false              #   relative to the inventory file)
//   [tls]                         # mTLS: all three
//   ca = "certs/ca.crt"
//   cert = "certs/chaosctl.crt"
//   key = "certs/chaosctl.key"
//   [[agents]]
//   address = "10.77.0.11:9700"
//   node = "n1"
//   server_name = "n1.lab"        # default: node
//
// Without [tls], chaosctl refuses plaintext to non-loopback agents unless
// `insecure = true`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"
#include "common/toml_reader.h"

namespace chaos::orchestrator {

// Errors are "file:line:col: message", one per line.
StatusOr<std::vector<AgentEndpoint>> load_inventory(const std::string& path);

// Reads one agent table (address, node, labels, server_name); reports
// problems to the reader's diagnostics and returns nullopt.
std::optional<AgentEndpoint> read_agent_table(TableReader& reader);

// HOST:PORT with a port in 1..65535; empty message when valid.
std::string check_agent_address(const std::string& address);

// The agent whose address or node name is `name`, or NOT_FOUND.
StatusOr<AgentEndpoint> find_agent(const std::vector<AgentEndpoint>& agents, const std::string& name);

}  // namespace chaos::orchestrator
