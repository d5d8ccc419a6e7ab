// dns.fail: while live, the node's outgoing DNS queries (udp+tcp port 53)
// are redirected by nftables to a stub responder inside the agent, which
// fails, delays or spoofs matching names and forwards the rest to the real
// upstream from resolv.conf (read at apply time).
//
// In a container (FaultContext::container) the same happens in the
// container's network namespace: its resolv.conf (under the container's
// root), the nft table there (through the container's command runner), and
// the stub's sockets and threads, the probe and the socket checks inside it.
//
// One DNS fault per network namespace at a time: two nat redirects of the
// same packets cannot both win (the first nat chain to bind a mapping wins),
// so a second inject would silently do nothing. It is refused with
// FAILED_PRECONDITION. Faults in different containers' namespaces (and the
// host's) do not meet.
//
// Concurrency: apply, revert and recover of different faults may run at the
// same time. The only state shared between faults is the set of claimed
// namespaces (one short lock around a map, nothing slow under it; a live
// fault releases its claim through an atomic); each live fault's revert
// lock is its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/fault.h"
#include "agent/faults/dns/dns_redirect_rules.h"

namespace chaos::agent::dns {

struct DnsFaultOptions {
  // Inside `ip netns exec NS` this path shows /etc/netns/NS/resolv.conf.
  // Host faults only: a container's is read under its root path.
  std::string resolv_conf_path = "/etc/resolv.conf";
  // 0 disables SO_MARK (tests without CAP_NET_ADMIN and without nft).
  std::uint32_t upstream_socket_mark = kUpstreamSocketMark;
  // Seeds the percent PRNG; unset draws a seed from std::random_device.
  std::optional<std::uint64_t> seed;
  // Lets the agent's own lookups bypass the fault (see own_socket.h).
  bool exempt_own_lookups = true;
};

class DnsFaultKind final : public FaultKind {
 public:
  DnsFaultKind(const AgentEnvironment& env, DnsFaultOptions options);

  std::string name() const override;
  Status validate(const v1::FaultSpec& spec) const override;
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override;
  // The redirect to the stub is an nftables table.
  std::vector<std::string> required_capabilities() const override { return {"CAP_NET_ADMIN"}; }
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  Status recover(const v1::FaultSpec& spec, const FaultContext& context,
                 const nlohmann::json& undo_record) override;
  // The redirect table, named after the fault id, is gone from the kernel.
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  Status recover_by_id(const FaultContext& context) override;
  bool acts_in_containers() const override { return true; }
  bool leaves_objects_in_network_namespace() const override { return true; }
  std::string backend() const override { return "dns-stub"; }
  // Redirect rules and the stub responder's thread (resolv.conf is only read).
  bool effect_survives_reboot() const override { return false; }

 private:
  // The claim on the namespace `context` acts in, set; null when another
  // DNS fault holds it.
  std::shared_ptr<std::atomic<bool>> claim(const FaultContext& context);
  CommandRunner* commands_for(const FaultContext& context) const;

  AgentEnvironment env_;
  DnsFaultOptions options_;
  std::mutex claims_mutex_;
  // Per network namespace ("dev:inode"): true while a fault holds it. The
  // flag is shared with the live fault, which clears it on revert; cleared
  // entries are dropped at the next claim, so the map stays as small as the
  // number of live DNS faults. Guarded by claims_mutex_.
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> claims_;
};

}  // namespace chaos::agent::dns
