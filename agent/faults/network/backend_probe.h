// Which network backends this kernel supports, probed once at start-up
// without touching real interfaces: the probe builds a throw-away network
// namespace with a veth pair, tries the qdiscs there and deletes it.
#pragma once

#include <string>

#include "common/command_runner.h"

namespace chaos::agent::network {

struct NetworkCapabilities {
  bool netem = false;
  bool tbf = false;
  // "netem" when sch_netem works, else "nfqueue" (the userspace engine).
  std::string backend() const { return netem ? "netem" : "nfqueue"; }
};

// `namespace_name` must be unique on the host (the agent passes one with
// its pid). Failures of the probe itself read as "not supported".
NetworkCapabilities probe_network_capabilities(CommandRunner& commands, const std::string& namespace_name);

}  // namespace chaos::agent::network
