// The issue 23 tables of an experiment: [lab] (probe_flags, recorded for
// `chaosctl lab probe --for`) and [finding] (observed, mechanism, remedy,
// remedied_by). Errors are diagnostics at the offending value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "common/toml_reader.h"
#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

inline constexpr size_t kMaxFindingTextBytes = 4096;

// [lab]: absent means no extra flags. probe_flags follow the lab's rules
// (lab/probe_flag_rules.h) with the broker not known: a flag the lab sets
// for either broker is refused; broker-only flags are checked by `lab probe`.
LabSettings read_lab_settings(TableReader& root);

// [finding]: remedied_by must name an existing file relative to the
// directory of `source_path` (the experiment file).
std::optional<Finding> read_finding(TableReader& root, const std::string& source_path);

}  // namespace chaos::orchestrator
