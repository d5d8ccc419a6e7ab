// Gives any fault kind container targets. Wraps a kind: a spec without a
// target goes straight to it; a spec with one is resolved to running
// containers (ContainerFinder), and the kind is applied once inside each,
// with a FaultContext::container that enters the container's network
// namespace. The result is one fault: its undo record names every
// container (runtime, id, init pid and start time, network namespace) with
// the kind's own undo record, so a later agent process reverts in the right
// namespace, or reports that the container is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "agent/fault.h"
#include "agent/targets/container_finder.h"

namespace chaos::agent {

class ContainerTargetingKind final : public FaultKind {
 public:
  // `finder` may be null: the agent reaches no container runtime, and a
  // target is then FAILED_PRECONDITION saying so.
  // `capability_mask` reads the agent's effective capabilities (default:
  // this process's); tests pass their own.
  ContainerTargetingKind(std::unique_ptr<FaultKind> inner, ContainerFinder* finder, CommandRunner& host_commands,
                         std::function<std::uint64_t()> capability_mask = nullptr);

  std::string name() const override { return inner_->name(); }
  Status validate(const v1::FaultSpec& spec) const override;
  Status check_policy_limits(const Policy& policy, const v1::FaultSpec& spec) const override {
    return inner_->check_policy_limits(policy, spec);
  }
  // A dry run resolves the target: nothing matching is NOT_FOUND.
  Status check_targets(const v1::FaultSpec& spec) override;
  StatusOr<std::unique_ptr<LiveFault>> apply(const v1::FaultSpec& spec, const FaultContext& context) override;
  Status recover(const v1::FaultSpec& spec, const FaultContext& context, const nlohmann::json& undo_record) override;
  StatusOr<std::string> verify_recovered(const FaultContext& context, const nlohmann::json& undo_record) override;
  Status recover_by_id(const FaultContext& context) override { return inner_->recover_by_id(context); }
  bool acts_in_containers() const override { return inner_->acts_in_containers(); }
  bool needs_container_target() const override { return inner_->needs_container_target(); }
  std::string backend() const override { return inner_->backend(); }
  std::vector<std::string> required_capabilities() const override { return inner_->required_capabilities(); }
  bool effect_survives_reboot() const override { return inner_->effect_survives_reboot(); }

 private:
  FaultKind& inner() const { return *inner_; }
  // A container that is gone but shared the agent's network namespace left
  // the inner kind's objects there: recovered and checked as the host's.
  bool left_objects_on_the_host(const v1::ContainerRef& ref) const;
  Status reachable_runtime() const;
  StatusOr<std::vector<v1::ContainerRef>> every_match_now(const v1::ContainerSelector& selector) const;

  std::unique_ptr<FaultKind> inner_;
  ContainerFinder* finder_;
  CommandRunner& host_commands_;
  std::function<std::uint64_t()> capability_mask_;
  std::string agent_network_namespace_;  // "net:[...]", /proc/self/ns/net at construction
};

// The container parts of an undo record written by a targeted fault; empty
// for a host fault's record.
bool is_container_undo_record(const nlohmann::json& undo_record);

}  // namespace chaos::agent
