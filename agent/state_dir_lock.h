// One agent per state dir: two agents sharing a journal would revert each
// other's live faults at start-up. The lock is an flock on
// <state_dir>/agent.lock, released by the kernel however the agent dies.
#pragma once

#include <string>

#include "common/status.h"

namespace chaos::agent {

class StateDirLock {
 public:
  StateDirLock() = default;
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

  // Creates the directory if needed; FAILED_PRECONDITION when another agent
  // holds it.
  Status acquire(const std::string& state_dir);

 private:
  int fd_ = -1;
};

}  // namespace chaos::agent
