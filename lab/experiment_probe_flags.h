// The extra chaos-probe flags an experiment asks the lab for ([lab]
// probe_flags) and where the lab keeps the ones its probe runs with, so a
// supervisor restart and `lab status` use the same ones. The standard argv
// (lab_processes.cc) stays the lab's: extra flags may not repeat its flags.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "lab/lab_layout.h"
#include "lab/probe_flag_rules.h"

namespace chaos::lab {

// At most kMaxProbeFlags, each one allowed by probe_flag_problem for the
// lab's `broker` (lab/probe_flag_rules.h). `where` prefixes every message
// ("lab probe").
Status check_probe_flags(const std::vector<std::string>& flags, const std::string& broker, const std::string& where);

// Reads only the [lab] table of the experiment file at `path` (toml++):
// probe_flags, an array of strings. No [lab] table, or none of its keys, is
// the standard probe (empty). The flags are checked as check_probe_flags
// does for `broker`; errors carry file:line:col and name lab.probe_flags[i].
StatusOr<std::vector<std::string>> read_experiment_probe_flags(const std::string& path, const std::string& broker);

// "<state>/run/probe-flags.json". `lab up` starts with none (a fresh state
// dir); `lab down --keep-state` drops it with the rest of run/.
std::string probe_flags_path(const LabLayout& layout);
// Replaces the stored flags atomically (temporary file and rename).
Status save_probe_flags(const LabLayout& layout, const std::vector<std::string>& flags);
// The stored flags; none when nothing is stored.
StatusOr<std::vector<std::string>> load_probe_flags(const LabLayout& layout);

// "--ping-interval 2s" or "(none: the standard probe)", for progress lines.
std::string describe_probe_flags(const std::vector<std::string>& flags);

}  // namespace chaos::lab
