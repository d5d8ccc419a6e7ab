// Which running containers a FaultSpec.target names. The real finder asks
// the container runtimes over their local API sockets
// (agent/targets/runtime/); tests use a fake.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/v1/agent.pb.h"
#include "agent/targets/container_selector_checks.h"
#include "common/status.h"

namespace chaos::agent {

class ContainerFinder {
 public:
  virtual ~ContainerFinder() = default;
  // The running containers `selector` matches, sampled by its count or
  // percent (reproducibly for one `seed`), each with its init pid, that
  // pid's start time and its network namespace. NOT_FOUND naming the
  // selector when nothing matches; UNAVAILABLE naming the socket when a
  // runtime cannot be asked. `field` is the selector's proto path
  // ("target") for error messages.
  virtual StatusOr<std::vector<v1::ContainerRef>> find(const v1::ContainerSelector& selector,
                                                       const std::string& field, std::uint64_t seed) = 0;
};

}  // namespace chaos::agent
