// What every network kind shares: the runtime, the netem-or-engine choice
// for impairments, and recovery, which removes objects by the names derived
// from the fault id and so works the same for every kind, on the host or
// in a container's network namespace (FaultContext::container).
#pragma once

#include <memory>
#include <string>

#include "agent/fault.h"
#include "agent/faults/network/network_runtime.h"

namespace chaos::agent::network {

class NetworkFaultKindBase : public FaultKind {
 public:
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo_record) override;
  // Every object is named after the fault id (object_names.h): chains, the
  // nft table, and the qdisc leaf handle, looked for on every interface.
  Status recover_by_id(const FaultContext& context) override;
  // Lists that nothing named after the fault id is left: chains in both
  // families, the nft table, our qdisc leaf on the interface the undo record
  // names (on every interface without one: a crash mid-apply).
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  // Every tool, read-back and engine socket of a fault with a container
  // context acts in the container's network namespace (NetworkSite).
  bool acts_in_containers() const override { return true; }
  bool leaves_objects_in_network_namespace() const override { return true; }

 protected:
  explicit NetworkFaultKindBase(std::shared_ptr<NetworkRuntime> runtime) : runtime_(std::move(runtime)) {}
  // The validated interface the spec names (where a qdisc of ours may be
  // left); "" when none or invalid.
  virtual std::string scope_interface(const v1::FaultSpec& spec) const = 0;
  // tc, nftables, iptables and NFQUEUE are netlink configuration; the
  // engine re-injects delayed and duplicated packets through a raw socket.
  std::vector<std::string> required_capabilities() const override { return {"CAP_NET_ADMIN", "CAP_NET_RAW"}; }
  // Rules, qdiscs and the engines' threads: none outlives the kernel.
  bool effect_survives_reboot() const override { return false; }

  // netem where the kernel has it and the scope allows (one interface,
  // egress); the NFQUEUE engine otherwise.
  StatusOr<std::unique_ptr<LiveFault>> apply_impairment(const FaultContext& context, const TrafficScope& scope,
                                                        const ImpairmentSpec& impairment, const std::string& what);
  std::string impairment_backend() const { return runtime_->capabilities.backend(); }

  std::shared_ptr<NetworkRuntime> runtime_;
};

}  // namespace chaos::agent::network
