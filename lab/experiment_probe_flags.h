// The extra chaos-probe flags an experiment asks the lab for ([lab]
// probe_flags) and where the lab keeps the ones its probe runs with, so a
// supervisor restart and `lab status` use the same ones. The standard argv
// (lab_processes.cc) stays the lab's: extra flags may not repeat its flags.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

inline constexpr std::size_t kMaxProbeFlags = 32;
inline constexpr std::size_t kMaxProbeFlagLength = 256;

// The flags of the lab's own probe argv (--servers, --stream, --subject,
// --replicas, --metrics-listen) and --consumer, which names the durable the
// lab's experiments watch.
const std::vector<std::string>& reserved_probe_flags();

// At most kMaxProbeFlags of at most kMaxProbeFlagLength bytes each, no
// control characters, none a reserved flag ("--flag" or "--flag=value").
// `where` prefixes every message (a file:line:col or "lab probe").
Status check_probe_flags(const std::vector<std::string>& flags, const std::string& where);

// Reads only the [lab] table of the experiment file at `path` (toml++):
// probe_flags, an array of strings. No [lab] table, or none of its keys, is
// the standard probe (empty). Errors carry file:line:col.
StatusOr<std::vector<std::string>> read_experiment_probe_flags(const std::string& path);

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
