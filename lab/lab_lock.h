// One lab verb at a time: `up`, `down` and `probe` each hold an exclusive
// flock on <state dir>.lock while they change the lab, so a `probe` cannot
// restart the probe under a `down` that is removing the lab (or an `up`
// still starting it). The file sits beside the state dir because `down`
// deletes the state dir. It is never removed: unlinking on release could
// remove a file another verb had just created and locked, and two verbs
// would then both hold "the" lock. A permanent lock file (on /run's tmpfs
// by default, gone at reboot) is the race-free way; it is the one file a
// lab leaves after `down`, empty of meaning while nobody holds its flock.
// `status` only reads and takes no lock; the supervisor `up` starts takes
// none either (it runs for the lab's whole life).
#pragma once

#include <string>

#include "common/status.h"
#include "lab/lab_layout.h"

namespace chaos::lab {

// "<state dir>.lock" ("/run/chaos-lab.lock" by default).
std::string lab_lock_path(const LabLayout& layout);

class LabLock {
 public:
  // Never waits: another holder is FAILED_PRECONDITION naming the lab, the
  // holder's pid and the file, as every verb reports it.
  static StatusOr<LabLock> acquire(const LabLayout& layout);

  LabLock(LabLock&& other) noexcept;
  LabLock& operator=(LabLock&& other) = delete;
  LabLock(const LabLock&) = delete;
  LabLock& operator=(const LabLock&) = delete;
  ~LabLock();

 private:
  LabLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace chaos::lab
