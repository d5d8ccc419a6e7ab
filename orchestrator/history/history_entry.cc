#include "orchestrator/history/history_entry.h"

#include <openssl/evp.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <map>

#include "common/proc_reader.h"
#include "orchestrator/clients/slo_evaluator.h"

namespace chaos::orchestrator::history {

namespace {

// Experiment files are a few KiB; anything bigger is not worth hashing.
constexpr size_t kHistoryMaxHashedFile = 16 * 1024 * 1024;

double history_seconds(WallTime time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

std::optional<double> history_duration(const std::optional<std::chrono::nanoseconds>& duration) {
  if (!duration) return std::nullopt;
  return std::chrono::duration<double>(*duration).count();
}

std::string history_bounded(const std::string& text) {
  return text.size() <= kHistoryMaxText ? text : text.substr(0, kHistoryMaxText);
}

std::string history_absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code error;
  const auto absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

// True when `candidate` is worse than `current` for a check with this
// comparator.
bool history_is_worse(Comparator comparator, double threshold, double candidate, double current) {
  switch (comparator) {
    case Comparator::kGreater:
    case Comparator::kGreaterEqual:
      return candidate < current;
    case Comparator::kLess:
    case Comparator::kLessEqual:
      return candidate > current;
    case Comparator::kEqual:
      return std::abs(candidate - threshold) > std::abs(current - threshold);
    case Comparator::kNotEqual:
      return std::abs(candidate - threshold) < std::abs(current - threshold);
  }
  return false;
}

}  // namespace

std::vector<SloWorst> worst_slo_values(const std::vector<EvaluationRecord>& evaluations) {
  std::vector<SloWorst> worst;
  std::map<std::string, size_t> index;  // check name -> position in `worst`
  for (const auto& record : evaluations) {
    const Evaluation& evaluation = record.evaluation;
    if (record.kind != "steady_state" || !evaluation.value || !std::isfinite(*evaluation.value)) continue;
    const double value = *evaluation.value;
    const auto found = index.find(evaluation.name);
    if (found == index.end()) {
      if (worst.size() >= kHistoryMaxItems) continue;
      index.emplace(evaluation.name, worst.size());
      worst.push_back({history_bounded(evaluation.name), history_bounded(evaluation.query),
                       comparator_symbol(evaluation.comparator), evaluation.threshold, value,
                       compare(value, evaluation.comparator, evaluation.threshold)});
      continue;
    }
    SloWorst& current = worst[found->second];
    if (history_is_worse(evaluation.comparator, evaluation.threshold, value, current.worst)) {
      current.worst = value;
      current.held = compare(value, evaluation.comparator, evaluation.threshold);
    }
  }
  return worst;
}

StatusOr<std::string> sha256_file(const std::string& path) {
  const auto text = read_bounded(path, kHistoryMaxHashedFile + 1);
  if (!text) return not_found(path + ": cannot be read");
  if (text->size() > kHistoryMaxHashedFile) return resource_exhausted(path + ": larger than 16 MiB, not hashed");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text->data(), text->size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return internal_error(path + ": SHA-256 failed");
  }
  static constexpr char kHistoryHexDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHistoryHexDigits[digest[i] >> 4];
    hex += kHistoryHexDigits[digest[i] & 0xf];
  }
  return hex;
}

HistoryEntry make_history_entry(const Experiment& experiment, const RunIdentity& identity,
                                const RunJournal& journal, const RunOutcome& outcome, const RunTimes& times,
                                const std::string& report_dir) {
  HistoryEntry entry;
  entry.experiment_id = identity.experiment_id;
  entry.title = history_bounded(experiment.title);
  entry.file_path = history_absolute(experiment.source_path);
  // The file as it is now, which is what was loaded unless someone edited
  // it during the run; an unreadable file only leaves the hash out.
  if (auto digest = sha256_file(experiment.source_path); digest.ok()) entry.file_sha256 = *digest;
  entry.started_at = history_seconds(times.started);
  entry.finished_at = history_seconds(times.finished);
  entry.verdict = verdict_name(outcome.verdict);
  entry.exit_code = exit_code(outcome.verdict);
  entry.reason = history_bounded(outcome.reason);
  entry.time_to_recovery_seconds = history_duration(outcome.time_to_recovery);
  entry.time_to_detect_seconds = history_duration(outcome.time_to_detect);
  if (entry.time_to_detect_seconds) {
    entry.detected_by = history_bounded(outcome.detected_by);
    entry.detected_by_kind = history_bounded(outcome.detected_by_kind);
  }
  entry.report_dir = history_absolute(report_dir);
  entry.slo_worst = worst_slo_values(journal.evaluations());
  for (const auto& fault : journal.faults()) {
    if (entry.faults.size() >= kHistoryMaxItems) break;
    FaultSummary summary;
    summary.step = history_bounded(fault.step);
    summary.kind = history_bounded(fault.kind);
    summary.node = history_bounded(fault.node);
    summary.agent = history_bounded(fault.agent);
    summary.fault_id = history_bounded(fault.fault_id);
    summary.revert_reason = history_bounded(fault.revert_reason);
    summary.applied_at = history_seconds(fault.applied_at);
    if (fault.reverted_at) summary.reverted_at = history_seconds(*fault.reverted_at);
    summary.ended_early = fault.ended_early;
    entry.faults.push_back(std::move(summary));
  }
  for (const auto& leftover : outcome.leftovers) {
    if (entry.leftovers.size() >= kHistoryMaxItems) break;
    entry.leftovers.push_back(history_bounded(leftover));
  }
  return entry;
}

}  // namespace chaos::orchestrator::history
