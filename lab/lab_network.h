// The lab's network: a bridge on the host and one namespace per node,
// joined by a veth pair. Everything is created through `ip` (argv only) and
// found again by name, so teardown works after a crashed or partial `up`.
#pragma once

#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

class LabNetwork {
 public:
  LabNetwork(const LabLayout& layout, CommandRunner& runner) : layout_(layout), runner_(runner) {}

  // Bridge with the host address, namespaces, veths, addresses and each
  // node's resolv.conf. Stops at the first failure; call destroy() after.
  Status create();

  // Deletes every namespace, link and /etc/netns directory that carries
  // this lab's prefix, whatever `up` got to. Idempotent.
  Status destroy();

  // What exists now, found by name (for down, status and the tests).
  StatusOr<std::vector<std::string>> existing_namespaces();
  StatusOr<std::vector<std::string>> existing_links();
  // Pids of processes whose network namespace is `netns`.
  StatusOr<std::vector<int>> namespace_pids(const std::string& netns);

 private:
  Status create_bridge();
  Status create_node(int node);
  Status write_resolv_conf(int node);
  Status run(const std::vector<std::string>& argv);
  Status delete_link(const std::string& link);

  const LabLayout& layout_;
  CommandRunner& runner_;
};

// Parsers for `ip netns list` and `ip -br link` output, exposed for tests:
// the names in `output` that belong to the lab with `prefix`.
std::vector<std::string> lab_namespaces_in(const std::string& output, const std::string& prefix);
std::vector<std::string> lab_links_in(const std::string& output, const std::string& prefix);

}  // namespace chaos::lab
