// The leftover detector, part 1: a snapshot of what faults touch on a node,
// taken before the node's first fault of a run and again after its last
// revert (snapshot_diff.h compares the two). Sources: the nft ruleset,
// iptables-save and ip6tables-save (every table), tc qdiscs, classes and
// filters of every link, `ip rule` and `ip -6 rule`, resolv.conf and chosen
// sysctls. Each source is normalised (state_text_normaliser.h) so an
// unchanged system compares equal. A source that cannot be read (a tool not
// installed, a link gone meanwhile) is named in `errors` and left out; it is
// never fatal: the other sources still count.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/leftovers/state_text_normaliser.h"
#include "common/command_runner.h"

namespace chaos::agent::leftovers {

struct SystemSnapshot {
  // Source -> normalised lines: "nft list ruleset", "iptables-save",
  // "ip6tables-save", "tc qdisc dev eth0", "tc class dev eth0", "tc filter
  // dev eth0", "ip rule", "ip -6 rule", "/etc/resolv.conf", "sysctl
  // net.ipv4.ip_forward".
  std::map<std::string, std::vector<std::string>> sources;
  // What could not be read or was cut ("ip6tables-save: not found",
  // "nft list ruleset: truncated at 20000 lines"), for the report.
  std::vector<std::string> errors;
  // Sources missing from `sources` because reading them failed; compare()
  // does not mistake them for emptied ones.
  std::set<std::string> unreadable;
};

class SystemStateProbe {
 public:
  virtual ~SystemStateProbe() = default;
  virtual SystemSnapshot take() = 0;
};

// Sysctls the network and DNS faults depend on. No fault kind writes a
// sysctl today; a change to one of these during a run is worth reporting.
std::vector<std::string> default_sysctls();

struct ProbeOptions {
  std::string resolv_conf_path = "/etc/resolv.conf";
  // "net.ipv4.ip_forward" is read from <proc_sys_root>/net/ipv4/ip_forward.
  std::string proc_sys_root = "/proc/sys";
  std::vector<std::string> sysctls = default_sysctls();
  TextBounds bounds;
  // Links whose tc state is read (in `ip -o link show` order).
  std::size_t max_links = 64;
  // Bytes read from a file (resolv.conf, a sysctl).
  std::size_t max_file_bytes = 64 * 1024;
  std::chrono::milliseconds command_timeout{std::chrono::seconds(5)};
};

// The real probe: every tool through the CommandRunner as an argv vector
// (links from `ip -o link show`), files read directly. Takes a few dozen
// short commands; call it outside any lock a revert needs.
class CommandStateProbe final : public SystemStateProbe {
 public:
  explicit CommandStateProbe(CommandRunner& commands, ProbeOptions options = {});
  SystemSnapshot take() override;

 private:
  CommandRunner& commands_;
  ProbeOptions options_;
};

// "2: veth1@veth0: <BROADCAST,..." -> "veth1", at most `max_links` names of
// at most 15 bytes (IFNAMSIZ); `truncated` when links were left out.
std::vector<std::string> link_names(const std::string& ip_o_link_output, std::size_t max_links, bool& truncated);

}  // namespace chaos::agent::leftovers
