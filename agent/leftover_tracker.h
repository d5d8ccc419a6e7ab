// The leftover detector's bookkeeping: per experiment, the system snapshot
// taken before its first fault on this agent and the ids of its faults here;
// once none of them is live, a second snapshot compared with the first
// (agent/leftovers/) says which of our objects are left and what other
// software changed meanwhile.
//
// Threading: the map is under a short lock; each experiment's snapshot and
// comparison run under that experiment's own lock, which no revert takes.
// An inject of an experiment's first fault waits for its snapshot (before
// anything is applied), a concurrent inject of another experiment does not.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_metrics.h"
#include "agent/leftovers/snapshot_diff.h"
#include "agent/leftovers/system_state_probe.h"
#include "chaos/v1/agent.pb.h"
#include "common/clock.h"

namespace chaos::agent {

class LeftoverTracker {
 public:
  // Experiments tracked at once; past it the oldest goes, compared or not
  // (its later comparison then says "no snapshot" rather than guess; with
  // more than 64 experiments live on one node at once, an early snapshot can
  // be lost).
  static constexpr std::size_t kMaxExperiments = 64;
  // Bytes of snapshot text kept at once (a kube-proxy node's iptables-save
  // alone is megabytes): past it the oldest compared experiments go first,
  // then the oldest of the rest; the newest is always kept.
  static constexpr std::size_t kMaxSnapshotBytes = std::size_t{32} << 20;

  LeftoverTracker(leftovers::SystemStateProbe& probe, leftovers::ObjectNaming naming, Clock& clock,
                  AgentMetrics& metrics);

  // Before a fault of `experiment_id` is applied: the snapshot when it is
  // the experiment's first fault here, and the fault id either way. An
  // empty fault id only takes the snapshot (a run's preflight, so that its
  // first fault does not wait for it).
  void before_fault(const std::string& experiment_id, const std::string& fault_id);
  // Once none of the experiment's faults is live: compares (again only when
  // faults came since the last comparison). checked = false when the
  // experiment had no fault here since the agent started.
  // `other_live_faults`: faults of other experiments live here now; their
  // objects are not this experiment's leftovers.
  v1::LeftoverReport compare(const std::string& experiment_id, const std::vector<std::string>& other_live_faults);

 private:
  struct Experiment {
    std::mutex mutex;  // the snapshot and comparison of this experiment
    bool snapshot_taken = false;
    leftovers::SystemSnapshot before;
    std::atomic<std::size_t> snapshot_bytes{0};  // read under mutex_ too
    std::atomic<bool> compared{false};           // a comparison ran: evicted first
    std::vector<std::string> fault_ids;
    std::size_t compared_faults = 0;  // fault_ids.size() at the last comparison
    std::optional<v1::LeftoverReport> last_report;
  };
  std::shared_ptr<Experiment> find_or_add(const std::string& experiment_id);
  // Drops experiments but `newest` (compared ones first, oldest first)
  // while the snapshots' bytes exceed kMaxSnapshotBytes.
  void keep_snapshots_within_budget(const std::string& newest);

  leftovers::SystemStateProbe& probe_;
  const leftovers::ObjectNaming naming_;
  Clock& clock_;
  AgentMetrics& metrics_;
  std::mutex mutex_;  // experiments_ and order_ only
  std::map<std::string, std::shared_ptr<Experiment>> experiments_;
  std::vector<std::string> order_;  // oldest first
};

}  // namespace chaos::agent
