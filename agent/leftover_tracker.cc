#include "agent/leftover_tracker.h"

#include <algorithm>

#include "agent/proto_convert.h"
#include "common/utf8_text.h"

namespace chaos::agent {

namespace {

// The experiment's faults are capped like everything else an agent keeps.
constexpr std::size_t kMaxFaultIds = 4096;

std::size_t snapshot_bytes(const leftovers::SystemSnapshot& snapshot) {
  std::size_t bytes = 0;
  for (const auto& [source, lines] : snapshot.sources) {
    bytes += source.size();
    for (const auto& line : lines) bytes += line.size() + sizeof(std::string);
  }
  for (const auto& error : snapshot.errors) bytes += error.size();
  return bytes;
}

v1::SystemChange to_proto(const leftovers::SystemChange& change) {
  v1::SystemChange proto;
  proto.set_source(change.source);
  proto.set_change(change.change);
  proto.set_line(valid_utf8(change.line));  // another program's rule comment may be any bytes
  proto.set_fault_id(change.fault_id);
  return proto;
}

}  // namespace

LeftoverTracker::LeftoverTracker(leftovers::SystemStateProbe& probe, leftovers::ObjectNaming naming, Clock& clock,
                                 AgentMetrics& metrics)
    : probe_(probe), naming_(std::move(naming)), clock_(clock), metrics_(metrics) {}

std::shared_ptr<LeftoverTracker::Experiment> LeftoverTracker::find_or_add(const std::string& experiment_id) {
  std::lock_guard lock(mutex_);
  if (auto found = experiments_.find(experiment_id); found != experiments_.end()) return found->second;
  if (experiments_.size() >= kMaxExperiments) {
    // The oldest experiment goes; its faults are long over in practice, and
    // a later RevertAll for it then says "not checked" rather than guess.
    experiments_.erase(order_.front());
    order_.erase(order_.begin());
  }
  auto experiment = std::make_shared<Experiment>();
  experiments_[experiment_id] = experiment;
  order_.push_back(experiment_id);
  return experiment;
}

void LeftoverTracker::keep_snapshots_within_budget(const std::string& newest) {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const auto& [id, experiment] : experiments_) total += experiment->snapshot_bytes.load();
  // Compared experiments first (their faults here are over), then any.
  for (const bool only_compared : {true, false}) {
    for (auto id = order_.begin(); id != order_.end() && total > kMaxSnapshotBytes;) {
      const auto& experiment = experiments_.at(*id);
      if (*id == newest || (only_compared && !experiment->compared.load())) {
        ++id;
        continue;
      }
      total -= std::min(total, experiment->snapshot_bytes.load());
      experiments_.erase(*id);
      id = order_.erase(id);
    }
  }
}

void LeftoverTracker::before_fault(const std::string& experiment_id, const std::string& fault_id) {
  auto experiment = find_or_add(experiment_id);
  bool took = false;
  {
    std::lock_guard lock(experiment->mutex);
    if (!experiment->snapshot_taken) {
      experiment->before = probe_.take();
      experiment->snapshot_taken = true;
      experiment->snapshot_bytes = snapshot_bytes(experiment->before);
      took = true;
    }
    if (!fault_id.empty() && experiment->fault_ids.size() < kMaxFaultIds) {
      experiment->fault_ids.push_back(fault_id);
      experiment->compared = false;  // its snapshot is needed again
    }
  }
  if (took) keep_snapshots_within_budget(experiment_id);
}

v1::LeftoverReport LeftoverTracker::compare(const std::string& experiment_id,
                                            const std::vector<std::string>& other_live_faults) {
  std::shared_ptr<Experiment> experiment;
  {
    std::lock_guard lock(mutex_);
    if (auto found = experiments_.find(experiment_id); found != experiments_.end()) experiment = found->second;
  }
  v1::LeftoverReport report;
  if (!experiment) {
    report.add_errors("no snapshot: no fault of this experiment ran on this agent since it started");
    return report;
  }
  std::lock_guard lock(experiment->mutex);
  if (experiment->last_report && experiment->compared_faults == experiment->fault_ids.size()) {
    return *experiment->last_report;
  }
  const leftovers::SystemSnapshot after = probe_.take();
  std::vector<std::string> known = experiment->fault_ids;
  known.insert(known.end(), other_live_faults.begin(), other_live_faults.end());
  const leftovers::SnapshotDiff diff = leftovers::compare(experiment->before, after, known, naming_);
  report.set_checked(true);
  // A leftover is one of our objects that appeared and stayed. One that
  // belongs to another experiment's live fault, or one of ours that went
  // away meanwhile, is a change this experiment did not leave behind.
  std::size_t left = 0;
  for (const auto& change : diff.leftovers) {
    const bool other_live = std::find(other_live_faults.begin(), other_live_faults.end(), change.fault_id) !=
                            other_live_faults.end();
    if (change.change == "added" && !other_live) {
      *report.add_leftovers() = to_proto(change);
      ++left;
      continue;
    }
    v1::SystemChange note = to_proto(change);
    note.set_line(note.line() + (other_live ? " (live fault of another experiment)" : " (ours, removed meanwhile)"));
    *report.add_foreign() = std::move(note);
  }
  for (const auto& change : diff.foreign) *report.add_foreign() = to_proto(change);
  for (const auto& error : diff.errors) report.add_errors(valid_utf8(error));
  *report.mutable_compared_at() = to_proto_timestamp(clock_.wall_now());
  metrics_.leftovers(left, static_cast<std::size_t>(report.foreign_size()));
  experiment->last_report = report;
  experiment->compared_faults = experiment->fault_ids.size();
  experiment->compared = true;
  return report;
}

}  // namespace chaos::agent
