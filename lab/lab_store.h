// Each node's JetStream store on its own small filesystem: a sparse image
// file in the node's directory, attached to a loop device, formatted ext4
// and mounted on <node dir>/jetstream. A disk.fill in an experiment then
// fills that filesystem and never the machine's, and disk.throttle has a
// block device to throttle. Every tool runs through a CommandRunner.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

// Sparse: only what JetStream (or a disk.fill's written chunks) uses takes
// room in the state dir's own filesystem.
inline constexpr std::uint64_t kLabStoreBytes = 256ULL * 1024 * 1024;

std::string lab_store_dir(const LabLayout& layout, int node);    // "<node dir>/jetstream"
std::string lab_store_image(const LabLayout& layout, int node);  // "<node dir>/jetstream.img"

// "<state>/stream-leader-store": a symbolic link to the store of the node
// leading the probe's stream, kept current with the inventory's
// stream_leader label, so an experiment can name the leader's store in a
// disk.fill path (the agent resolves the link when it applies the fault).
std::string lab_stream_leader_store(const LabLayout& layout);
// Points that link at `leader`'s store (a node name such as "n2"), replacing
// it atomically. False when `leader` is not a node of the layout or the
// link cannot be made.
bool link_stream_leader_store(const LabLayout& layout, const std::string& leader);

// The loop devices of `losetup -j <image>` output
// ("/dev/loop3: [2049]:1234 (/run/chaos-lab/n1/jetstream.img)").
std::vector<std::string> loop_devices_in(const std::string& losetup_output);

// Whether `path` is the root of a mounted filesystem (its device differs
// from its parent's). False when it does not exist.
bool is_mount_point(const std::string& path);

struct LabStoreUsage {
  std::uint64_t free_bytes = 0;
  std::uint64_t total_bytes = 0;
};

class LabStore {
 public:
  LabStore(const LabLayout& layout, CommandRunner& runner) : layout_(layout), runner_(runner) {}

  // Image, loop device, ext4 (no root reservation, so what is free is free
  // for nats-server too), mount; for every node. A failure part-way leaves
  // what was done to destroy(), which `lab up` runs through `lab down`.
  Status create_all();
  Status create(int node);

  // Unmounts every node's store and detaches every loop device backing its
  // image (found with `losetup -j`, so also after a crashed lab). The image
  // goes with the state dir. Idempotent; nothing found is success.
  Status destroy();

  // Whether any node's store is still mounted (a crashed lab's).
  bool any_mounted() const;

  // statvfs of a mounted store; NOT_FOUND when it is not mounted.
  StatusOr<LabStoreUsage> usage(int node) const;

 private:
  Status destroy_node(int node);

  const LabLayout& layout_;
  CommandRunner& runner_;
};

}  // namespace chaos::lab
