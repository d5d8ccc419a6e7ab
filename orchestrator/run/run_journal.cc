#include "orchestrator/run/run_journal.h"

namespace chaos::orchestrator {

void RunJournal::add_observer(RunObserver* observer) {
  std::lock_guard lock(mutex_);
  observers_.push_back(observer);
}

// Observers are called under the lock so their output keeps journal order.
void RunJournal::event(const std::string& type, const std::string& message) {
  std::lock_guard lock(mutex_);
  events_.push_back({clock_.wall_now(), type, message});
  for (auto* observer : observers_) observer->on_event(events_.back());
}

void RunJournal::evaluation(const std::string& phase, const std::string& kind, const Evaluation& evaluation) {
  std::lock_guard lock(mutex_);
  evaluations_.push_back({clock_.wall_now(), phase, kind, evaluation});
  for (auto* observer : observers_) observer->on_evaluation(evaluations_.back());
}

void RunJournal::compare_evaluation(const std::string& phase, const Evaluation& evaluation,
                                    const CompareSample& sample) {
  std::lock_guard lock(mutex_);
  evaluations_.push_back({clock_.wall_now(), phase, "compare", evaluation, sample});
  for (auto* observer : observers_) observer->on_evaluation(evaluations_.back());
}

void RunJournal::fault_applied(FaultRecord record) {
  std::lock_guard lock(mutex_);
  faults_.push_back(std::move(record));
}

void RunJournal::fault_reverted(const std::string& agent, const std::string& fault_id,
                                const std::string& reason) {
  std::lock_guard lock(mutex_);
  for (auto& fault : faults_) {
    if (fault.agent == agent && fault.fault_id == fault_id && !fault.reverted_at) {
      fault.reverted_at = clock_.wall_now();
      fault.revert_reason = reason;
    }
  }
}

void RunJournal::fault_ended_early(const std::string& agent, const std::string& fault_id,
                                   const std::string& reason, const std::string& detail) {
  std::lock_guard lock(mutex_);
  for (auto& fault : faults_) {
    if (fault.agent == agent && fault.fault_id == fault_id && !fault.reverted_at) {
      fault.reverted_at = clock_.wall_now();
      fault.revert_reason = reason;
      fault.ended_early = true;
      fault.early_end_detail = detail;
    }
  }
}

void RunJournal::fault_proof(const std::string& agent, const std::string& fault_id, const FaultProof& proof) {
  std::lock_guard lock(mutex_);
  for (auto& fault : faults_) {
    if (fault.agent != agent || fault.fault_id != fault_id) continue;
    FaultProof& kept = fault.proof;
    if (!proof.effect.empty()) kept.effect = proof.effect;
    if (!proof.evidence.empty()) kept.evidence = proof.evidence;
    if (proof.verified_at) kept.verified_at = proof.verified_at;
    if (proof.effect_seen_at) kept.effect_seen_at = proof.effect_seen_at;
    if (proof.gone_verified_at) kept.gone_verified_at = proof.gone_verified_at;
    if (!proof.gone_evidence.empty()) kept.gone_evidence = proof.gone_evidence;
    if (proof.time_to_effect) kept.time_to_effect = proof.time_to_effect;
    if (proof.time_to_gone) kept.time_to_gone = proof.time_to_gone;
    for (const auto& [name, value] : proof.counters) kept.counters[name] = value;
  }
}

void RunJournal::leftovers(NodeLeftovers report) {
  std::lock_guard lock(mutex_);
  for (auto& kept : leftovers_) {
    if (kept.agent == report.agent) {
      kept = std::move(report);  // a later RevertAll attempt compared again
      return;
    }
  }
  leftovers_.push_back(std::move(report));
}

std::vector<NodeLeftovers> RunJournal::leftovers() const {
  std::lock_guard lock(mutex_);
  return leftovers_;
}

std::string describe(const SystemChangeRecord& change, const std::string& node) {
  std::string text = change.source + ": " + change.change + " " + change.line;
  if (!change.fault_id.empty()) text += " (fault " + change.fault_id + ")";
  if (!node.empty()) text += " on " + node;
  return text;
}

void RunJournal::progress(const std::string& phase, std::chrono::nanoseconds time_left) {
  std::lock_guard lock(mutex_);
  for (auto* observer : observers_) observer->on_progress(phase, time_left);
}

std::vector<EventRecord> RunJournal::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<EvaluationRecord> RunJournal::evaluations() const {
  std::lock_guard lock(mutex_);
  return evaluations_;
}

std::vector<FaultRecord> RunJournal::faults() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

}  // namespace chaos::orchestrator
