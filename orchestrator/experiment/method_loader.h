// The [[method]], [[steady_state]] and [[abort]] sections of an experiment
// (internal to experiment_loader.cc, split out to keep files small).
#pragma once

#include <optional>
#include <vector>

#include "orchestrator/experiment/experiment.h"
#include "common/toml_reader.h"

namespace chaos::orchestrator {

std::optional<SteadyStateCheck> read_steady_state(TableReader& reader);
std::optional<AbortCondition> read_abort(TableReader& reader);
// `agents` is null when selectors are not resolved.
// default_verify: settings.verify, for steps without their own `verify`.
std::optional<MethodStep> read_method_step(TableReader& reader, const std::vector<AgentEndpoint>* agents,
                                           v1::VerifyMode default_verify = v1::VERIFY_MODE_REQUIRED);

}  // namespace chaos::orchestrator
