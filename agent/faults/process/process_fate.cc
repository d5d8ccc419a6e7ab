#include "agent/faults/process/process_fate.h"

#include <chrono>
#include <thread>

namespace chaos::agent {

namespace {

// Signals take effect within microseconds to a few milliseconds (SIGKILL
// of a big process frees its memory first); poll finely so the measured
// time to effect is close to the real one.
constexpr auto kPollInterval = std::chrono::milliseconds(2);

}  // namespace

ProcessFate fate_of(ProcessTable& table, const ProcessInfo& target) {
  const auto now = table.get_stat(target.pid);
  if (!now) return ProcessFate::kGone;
  if (now->start_time != target.start_time) return ProcessFate::kRecycled;
  if (now->state == 'Z' || now->state == 'X') return ProcessFate::kGone;
  if (now->state == 'T' || now->state == 't') return ProcessFate::kStopped;
  return ProcessFate::kRunning;
}

const char* fate_name(ProcessFate fate) {
  switch (fate) {
    case ProcessFate::kRunning: return "running";
    case ProcessFate::kStopped: return "stopped";
    case ProcessFate::kGone: return "gone";
    case ProcessFate::kRecycled: return "gone (pid recycled)";
  }
  return "?";
}

std::vector<Straggler> wait_for_fates(ProcessTable& table, const std::vector<ProcessInfo>& targets,
                                      const std::function<bool(ProcessFate)>& reached, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Straggler> waiting;
  for (const auto& target : targets) waiting.push_back({target, ProcessFate::kRunning});
  while (true) {
    std::vector<Straggler> still;
    for (auto& straggler : waiting) {
      straggler.fate = fate_of(table, straggler.process);
      if (!reached(straggler.fate)) still.push_back(straggler);
    }
    waiting = std::move(still);
    if (waiting.empty() || std::chrono::steady_clock::now() >= deadline) return waiting;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::string describe_stragglers(const std::vector<Straggler>& stragglers) {
  std::string text;
  for (const auto& straggler : stragglers) {
    if (!text.empty()) text += ", ";
    text += "pid " + std::to_string(straggler.process.pid);
    if (!straggler.process.comm.empty()) text += " (" + straggler.process.comm + ")";
    text += std::string(" ") + fate_name(straggler.fate);
  }
  return text;
}

}  // namespace chaos::agent
