// Turns a fault kind name and its parameters into a complete
// chaos.v1.FaultSpec, or an error naming the parameter and where it was
// written. Shared by the experiment loader and `chaosctl inject`.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "chaos/v1/agent.pb.h"
#include "common/clock.h"
#include "common/status.h"
#include "orchestrator/experiment/fault_params.h"

namespace chaos::orchestrator {

// `origin` locates the whole parameter set (used for missing parameters).
// Unknown parameters and unknown kinds are errors.
StatusOr<v1::FaultSpec> build_fault_spec(const std::string& kind, const ParamMap& params,
                                         const std::string& origin);

// The static checks the agent makes of a FaultSpec.target too, so a bad
// selector fails before any node is asked. `field` names the selector in
// errors ("method[0].target.id_prefix: 4 to 64 hex characters").
Status check_container_target(const v1::ContainerSelector& target, const std::string& field);

// Sets spec.target (which containers the fault acts in) after those checks.
Status set_container_target(const v1::ContainerSelector& target, const std::string& field, v1::FaultSpec& spec);

// "podman container labels{app=nats}, at most 1" (the agent's own words for
// a selector, plus its sampling) for plans and messages.
std::string describe_container_target(const v1::ContainerSelector& target);

// A kind that only acts in containers (container.pause) without a target:
// an error at `origin`. The agent refuses it too; this fails at load time.
Status check_container_target_given(const v1::FaultSpec& spec, const std::string& kind, const std::string& origin);

void set_proto_duration(std::chrono::nanoseconds value, google::protobuf::Duration* out);
// The other way, for what agents answer.
std::chrono::nanoseconds duration_from_proto(const google::protobuf::Duration& duration);
// nullopt for an unset (all-zero) timestamp.
std::optional<WallTime> wall_time_from_proto(const google::protobuf::Timestamp& timestamp);

}  // namespace chaos::orchestrator
