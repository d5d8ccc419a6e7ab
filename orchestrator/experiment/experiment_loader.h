// Loads and validates an experiment TOML file into an Experiment (see
// experiments/README.md for the format). Every problem found is reported,
// one per line, as "file:line:col: message".
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "orchestrator/experiment/experiment.h"

namespace chaos::orchestrator {

struct LoadOptions {
  std::optional<std::string> inventory_override;   // chaosctl --inventory
  std::optional<std::string> prometheus_override;  // chaosctl --prometheus
  // False skips reading the inventory and matching selectors (for checking
  // files on machines without the target cluster).
  bool resolve_agents = true;
};

StatusOr<Experiment> load_experiment(const std::string& path, const LoadOptions& options = {});

}  // namespace chaos::orchestrator
