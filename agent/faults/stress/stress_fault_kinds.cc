#include "agent/faults/stress/stress_fault_kinds.h"

#include "agent/faults/stress/cpu_stress_kind.h"

namespace chaos::agent {

std::vector<std::unique_ptr<FaultKind>> make_stress_fault_kinds() {
  std::vector<std::unique_ptr<FaultKind>> kinds;
  kinds.push_back(std::make_unique<stress::CpuStressKind>());
  return kinds;
}

}  // namespace chaos::agent
