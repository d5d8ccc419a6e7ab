// What became of signalled processes, read back from the process table
// (/proc), never from what the agent believes it did: the evidence behind
// process.kill's and process.pause's effect checks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/process_table.h"
#include "common/clock.h"

namespace chaos::agent {

enum class ProcessFate {
  kRunning,    // same pid, same start time, not stopped
  kStopped,    // state T or t
  kGone,       // no such pid, or a zombie waiting for its parent
  kRecycled,   // the pid now names a younger process
};

ProcessFate fate_of(ProcessTable& table, const ProcessInfo& target);
const char* fate_name(ProcessFate fate);

// Polls the table until every target's fate satisfies `reached` or `timeout`
// passes (real time: it waits on real processes). Returns the targets that
// did not reach it, each with its last fate.
struct Straggler {
  ProcessInfo process;
  ProcessFate fate = ProcessFate::kRunning;
};
std::vector<Straggler> wait_for_fates(ProcessTable& table, const std::vector<ProcessInfo>& targets,
                                      const std::function<bool(ProcessFate)>& reached, Duration timeout);

// "pid 412 (nats-server) running, pid 415 (nats-server) gone"
std::string describe_stragglers(const std::vector<Straggler>& stragglers);

}  // namespace chaos::agent
