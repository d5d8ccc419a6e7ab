// The lab's user-facing operations and the hidden supervisor. Each
// takes the layout (names, addresses, paths) and writes progress lines to
// `out`; failures come back as Status values naming what failed and where
// its log is.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/command_runner.h"
#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

// Builds the network, starts the supervisor (which starts every process)
// and waits until the cluster, JetStream, the agents, the probe and
// Prometheus answer. Refuses when a lab with this prefix/state dir is up.
// On failure it tears down what it built (logs stay in the state dir).
Status lab_up(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out,
              const std::string& lab_binary_path);

// Stops everything this lab started and removes its namespaces, links,
// /etc/netns entries and (unless keep_state) its state dir. Works after a
// crashed or partial `up`: everything is found by name and command line.
Status lab_down(const LabLayout& layout, CommandRunner& runner, Clock& clock, std::ostream& out,
                bool keep_state);

// Prints nodes, processes and URLs; NOT_FOUND when the lab is not up.
Status lab_status(const LabLayout& layout, CommandRunner& runner, std::ostream& out);

// Restarts the lab's chaos-probe with the standard argv plus `flags` (empty:
// the standard probe), records them for supervisor restarts and `status`,
// and waits until the new probe publishes, is scraped and is steady. Does
// nothing when the probe already runs with exactly these flags. NOT_FOUND
// when the lab is not up; a probe that exits at once fails with the end of
// its log, and the previous flags are put back.
Status lab_probe(const LabLayout& layout, Clock& clock, std::ostream& out, const std::vector<std::string>& flags);

// The supervisor's main loop (hidden `chaosctl lab supervise`): runs until
// SIGTERM/SIGINT, then stops every lab process. Returns an exit code.
int lab_supervise(const LabLayout& layout);

// The directory holding chaos-agent and chaos-probe: --bin-dir, else the
// directory of the running chaosctl.
std::string resolve_bin_dir(const LabLayout& layout, const std::string& lab_binary_path);

}  // namespace chaos::lab
