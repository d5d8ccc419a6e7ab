#include "agent/faults/stress/stress_fault_kinds.h"

#include "agent/faults/stress/cpu_stress_kind.h"
#include "agent/faults/stress/memory_stress_kind.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_stress_fault_kinds(stress::StressOptions options) {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<stress::CpuStressKind>(options));
  kinds.push_back(std::make_unique<stress::MemoryStressKind>(std::move(options)));
  return kinds;
}

}  // namespace chaos::agent
