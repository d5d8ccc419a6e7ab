// The checks of a ContainerSelector that need no system access, and how
// selectors and containers are named in messages: shared by the agent and by
// chaosctl, which runs them when it loads an experiment, so a bad target
// fails before any node is touched.
#pragma once

#include <string>

#include "chaos/v1/agent.pb.h"
#include "common/status.h"

namespace chaos::agent {

// Static checks of a selector (no system access): INVALID_ARGUMENT naming
// the sub-field ("target.id_prefix: at least 4 hex characters").
Status validate_container_selector(const v1::ContainerSelector& selector, const std::string& field);

// "podman container name=nats-1 labels{app=nats}" for messages.
std::string describe_selector(const v1::ContainerSelector& selector);

// "podman nats-1 (3f2a9c1b7e44)" for details and evidence.
std::string describe_container(const v1::ContainerRef& container);

}  // namespace chaos::agent
