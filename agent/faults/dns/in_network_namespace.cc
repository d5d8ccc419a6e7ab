#include "agent/faults/dns/in_network_namespace.h"

#include <exception>
#include <system_error>
#include <thread>

#include "agent/targets/namespaces/namespace_handle.h"

namespace chaos::agent::dns {

Status run_in_network_namespace(int network_namespace_fd, const std::function<void()>& work) {
  if (network_namespace_fd < 0) {
    work();
    return {};
  }
  Status outcome;
  try {
    // Joined before returning: the thread ends with its namespace, nothing
    // outlives the call.
    std::thread worker([&] {
      outcome = enter_network_namespace(network_namespace_fd);
      if (!outcome.ok()) return;
      try {
        work();
      } catch (const std::exception& error) {
        outcome = internal_error(std::string("in the container's network namespace: ") + error.what());
      }
    });
    worker.join();
  } catch (const std::system_error& error) {
    return resource_exhausted(std::string("cannot start a thread for the container's network namespace: ") +
                              error.what());
  }
  return outcome;
}

}  // namespace chaos::agent::dns
