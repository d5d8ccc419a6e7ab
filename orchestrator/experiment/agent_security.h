// How chaosctl talks to one agent: mTLS files, the name the agent's
// certificate must carry, an optional bearer token, and the loud opt-out
// for plaintext to a non-loopback agent. Filled from the inventory's [tls]
// table; an endpoint without it talks plaintext, to loopback only.
#pragma once

#include <string>

namespace chaos::orchestrator {

struct AgentTlsFiles {
  std::string ca;    // CA the agent's certificate must chain to
  std::string cert;  // chaosctl's client certificate
  std::string key;
  bool enabled() const { return !ca.empty(); }
};

struct AgentSecurity {
  AgentTlsFiles tls;
  // Name verified against the agent certificate's SANs (default: the node).
  std::string server_name;
  std::string token_file;
  bool insecure = false;  // plaintext to a non-loopback agent, explicitly
};

}  // namespace chaos::orchestrator
