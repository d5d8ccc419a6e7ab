// The lab's Podman flavour: each node's nats-server runs as the init of a
// Podman container that joins the node's network namespace, so addresses,
// ports and the agent's netns process scope stay as with plain processes.
// Pure argv builders and parsers here (unit-tested); commands run through
// a CommandRunner.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

// Every lab container carries this label with the lab's prefix as value;
// `down` finds leftovers by it.
inline constexpr const char* kLabContainerLabel = "chaos.lab";
// CRI-style pod namespace of every lab broker (pod names are nats-<N>).
inline constexpr const char* kLabPodNamespace = "chaos-lab";

// `podman` with the global flags every lab call uses: runc (crun fails on
// this host's hybrid cgroups), cgroupfs (no systemd) and a file events log
// (no journald).
std::vector<std::string> podman_command();
// How long one podman call may take before the lab gives up on it.
inline constexpr auto kPodmanTimeout = std::chrono::seconds(60);

// Where the broker rootfs holds nats-server (whatever its host path).
inline constexpr const char* kContainerNatsServer = "/usr/bin/nats-server";

// `podman run -d --replace ...` for node `node`'s broker. `nofile` is the
// soft and hard RLIMIT_NOFILE the container gets.
std::vector<std::string> nats_container_run_argv(const LabLayout& layout, int node, long nofile);

// The open-files limit a broker container gets: what nats-server's default
// max_connections (64K) wants, capped at our own hard limit (raising a hard
// limit needs CAP_SYS_RESOURCE, which a sandboxed root may lack).
long broker_nofile_limit();

// Names of this lab's containers (running or not), by label.
StatusOr<std::vector<std::string>> existing_lab_containers(const LabLayout& layout, CommandRunner& runner);
// `podman rm -f -t 0` on every container of this lab; --rm alone would
// leave a container behind when conmon dies with the lab. Idempotent.
// Returns how many it removed.
StatusOr<std::size_t> remove_lab_containers(const LabLayout& layout, CommandRunner& runner);

// The lab runtime recorded in the state dir ("process" when none is).
std::string recorded_runtime(const LabLayout& layout);
// Whether `down` must look for containers: the record says podman, or there
// is no record (the state dir is gone) and podman is installed.
bool may_have_containers(const LabLayout& layout);

// One name per non-empty line of `podman ps --format {{.Names}}` output.
std::vector<std::string> container_names_in(const std::string& output);

}  // namespace chaos::lab
