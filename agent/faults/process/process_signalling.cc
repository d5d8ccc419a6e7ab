#include "agent/faults/process/process_signalling.h"

#include <functional>

namespace chaos::agent {

SignalReport signal_processes(ProcessTable& table, const std::vector<ProcessInfo>& processes, int signal) {
  SignalReport report;
  for (const auto& process : processes) {
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
