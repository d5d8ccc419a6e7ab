// Signals a resolved set of processes, each guarded by its start time.
#pragma once

#include <string>
#include <vector>

#include "agent/process_table.h"

namespace chaos::agent {

struct SignalReport {
  std::vector<ProcessInfo> signalled;
  std::vector<ProcessInfo> gone;  // exited (or pid recycled) before the signal
  Status first_error;             // the first failure other than "gone"
  std::vector<std::string> failures;
};

SignalReport signal_processes(ProcessTable& table, const std::vector<ProcessInfo>& processes, int signal);

// Seed for one fault's count/percent sample (stable for its id and round).
std::uint64_t target_seed(const std::string& fault_id, std::uint64_t round);

}  // namespace chaos::agent
