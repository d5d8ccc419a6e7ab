// mTLS for the lab's agents: `lab up` creates a CA, one agent certificate
// per node (SANs: n1, n1.lab and the node's IP) and a chaosctl client
// certificate in <state-dir>/certs; every agent starts with them and the
// inventory carries the [tls] table, so chaosctl run/agents/inject (with
// --inventory) keep working unchanged.
#pragma once

#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

inline constexpr const char* kLabClientName = "chaosctl";

std::string lab_certs_dir(const LabLayout& layout);
Status create_lab_certificates(const LabLayout& layout, CommandRunner& runner);
// --tls-cert/--tls-key/--tls-client-ca for node `node`'s agent.
std::vector<std::string> agent_tls_args(const LabLayout& layout, int node);
// The inventory's [tls] table (ends with a blank line).
std::string render_inventory_tls(const LabLayout& layout);

}  // namespace chaos::lab
