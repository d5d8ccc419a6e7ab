#include "agent/faults/network/backend_probe.h"

#include <vector>

namespace chaos::agent::network {

namespace {

bool succeeds(CommandRunner& commands, const std::vector<std::string>& argv) {
  auto result = commands.run(argv);
  return result.ok() && result->exit_code == 0;
}

}  // namespace

NetworkCapabilities probe_network_capabilities(CommandRunner& commands, const std::string& namespace_name) {
  NetworkCapabilities capabilities;
  // A leftover from a crashed probe would make "netns add" fail.
  (void)commands.run({"ip", "netns", "del", namespace_name});
  if (!succeeds(commands, {"ip", "netns", "add", namespace_name})) return capabilities;
  // Dummy links need a module many small kernels lack; veth is ubiquitous.
  if (succeeds(commands, {"ip", "-n", namespace_name, "link", "add", "probe0", "type", "veth", "peer", "name",
                          "probe1"})) {
    capabilities.netem = succeeds(commands, {"tc", "-n", namespace_name, "qdisc", "add", "dev", "probe0", "root",
                                             "handle", "1:", "netem", "delay", "1ms"});
    (void)commands.run({"tc", "-n", namespace_name, "qdisc", "del", "dev", "probe0", "root"});
    capabilities.tbf = succeeds(commands, {"tc", "-n", namespace_name, "qdisc", "add", "dev", "probe0", "root",
                                           "handle", "1:", "tbf", "rate", "1mbit", "burst", "10kb", "latency",
                                           "50ms"});
  }
  (void)commands.run({"ip", "netns", "del", namespace_name});
  return capabilities;
}

}  // namespace chaos::agent::network
