#include "agent/faults/process/process_signalling.h"

#include <functional>

#include "agent/faults/process/signal_names.h"
#include "common/crash_point.h"

namespace chaos::agent {

SignalReport signal_processes(ProcessTable& table, const std::vector<ProcessInfo>& processes, int signal) {
  SignalReport report;
  for (const auto& process : processes) {
    // Crash-recovery tests kill the agent between two signals of one fault.
    crash_point("signal " + signal_display_name(signal) + " pid " + std::to_string(process.pid));
    const Status status = table.send_signal(process.pid, process.start_time, signal);
    if (status.ok()) {
      report.signalled.push_back(process);
    } else if (status.code() == StatusCode::kNotFound) {
      report.gone.push_back(process);
    } else {
      if (report.first_error.ok()) report.first_error = status;
      report.failures.push_back(status.message());
    }
  }
  return report;
}

std::uint64_t target_seed(const std::string& fault_id, std::uint64_t round) {
  return std::hash<std::string>{}(fault_id) ^ (round * 0x9e3779b97f4a7c15ULL);
}

}  // namespace chaos::agent
