#include "lab/probe_flags_launcher.h"

namespace chaos::lab {

StatusOr<int> ProbeFlagsLauncher::start(const ProcessSpec& spec) {
  if (spec.name != process_name_) return inner_.start(spec);
  auto flags = flags_();
  if (!flags.ok()) return flags.status().with_context("extra flags of " + spec.name);
  ProcessSpec extended = spec;
  extended.argv.insert(extended.argv.end(), flags->begin(), flags->end());
  return inner_.start(extended);
}

}  // namespace chaos::lab
