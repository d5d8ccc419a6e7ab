#include "agent/leftovers/snapshot_diff.h"

#include <cctype>
#include <map>
#include <set>

namespace chaos::agent::leftovers {

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

using FaultNames = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Lines of `from` with no counterpart in `to`, counting copies, in `from`'s
// order.
std::vector<std::string> only_in(const std::vector<std::string>& from, const std::vector<std::string>& to) {
  std::map<std::string_view, std::size_t> available;
  for (const auto& line : to) ++available[line];
  std::vector<std::string> missing;
  for (const auto& line : from) {
    auto it = available.find(line);
    if (it != available.end() && it->second > 0) {
      --it->second;
    } else {
      missing.push_back(line);
    }
  }
  return missing;
}

void attribute(SystemChange& change, const FaultNames& faults, const ObjectNaming& naming) {
  for (const auto& [fault_id, names] : faults) {
    for (const auto& name : names) {
      if (names_object(change.line, name)) {
        change.ours = true;
        change.fault_id = fault_id;
        return;
      }
    }
  }
  for (const auto& prefix : naming.prefixes) {
    if (!prefix.empty() && names_object(change.line, prefix)) {
      change.ours = true;
      return;
    }
  }
}

// A qdisc tree of ours on one link belongs to one fault, but only its leaf
// names the fault ("qdisc htb cafe: root" does not): when exactly one fault's
// leaf shows among a tc source's changes, the rest of our tree there is its.
// Our root replaces the link's default root qdisc, so while our root is
// there, the default's disappearance is ours too.
void attribute_tc_tree(std::vector<SystemChange>& changes, bool qdiscs) {
  std::set<std::string> faults;
  bool our_root_added = false;
  for (const auto& change : changes) {
    if (change.ours && !change.fault_id.empty()) faults.insert(change.fault_id);
    if (qdiscs && change.ours && change.change == "added" && names_object(change.line, "root")) our_root_added = true;
  }
  const std::string fault_id = faults.size() == 1 ? *faults.begin() : "";
  for (auto& change : changes) {
    if (!change.ours && our_root_added && change.change == "removed" && names_object(change.line, "root")) {
      change.ours = true;
    }
    if (change.ours && change.fault_id.empty()) change.fault_id = fault_id;
  }
}

}  // namespace

bool names_object(const std::string& line, const std::string& name) {
  if (name.empty()) return false;
  const bool open_ended = !std::isalnum(static_cast<unsigned char>(name.back()));
  for (std::size_t at = line.find(name); at != std::string::npos; at = line.find(name, at + 1)) {
    const bool starts_word = at == 0 || !is_word_char(line[at - 1]);
    const std::size_t end = at + name.size();
    const bool ends_word = open_ended || end == line.size() || !is_word_char(line[end]);
    if (starts_word && ends_word) return true;
  }
  return false;
}

SnapshotDiff compare(const SystemSnapshot& before, const SystemSnapshot& after,
                     const std::vector<std::string>& fault_ids, const ObjectNaming& naming,
                     const CompareBounds& bounds) {
  SnapshotDiff diff;
  for (const auto& error : before.errors) diff.errors.push_back("before: " + error);
  for (const auto& error : after.errors) diff.errors.push_back("after: " + error);

  FaultNames faults;
  for (const auto& fault_id : fault_ids) {
    if (faults.size() >= bounds.max_fault_ids) {
      diff.errors.push_back("faults: only the first " + std::to_string(bounds.max_fault_ids) + " of " +
                            std::to_string(fault_ids.size()) + " are attributed");
      break;
    }
    faults.emplace_back(fault_id, naming.names_of ? naming.names_of(fault_id) : std::vector<std::string>{});
  }

  std::set<std::string> sources;
  for (const auto& [source, lines] : before.sources) sources.insert(source);
  for (const auto& [source, lines] : after.sources) sources.insert(source);
  std::size_t leftovers_omitted = 0;
  std::size_t foreign_omitted = 0;
  static const std::vector<std::string> kNone;
  for (const auto& source : sources) {
    if (before.unreadable.count(source) || after.unreadable.count(source)) {
      diff.errors.push_back(source + ": not compared (unreadable " +
                            (before.unreadable.count(source) ? "before" : "after") + ")");
      continue;
    }
    // A source in one snapshot only was read fine in it and did not exist in
    // the other (a link that came or went): every line of it changed.
    const auto in_before = before.sources.find(source);
    const auto in_after = after.sources.find(source);
    const auto& old_lines = in_before == before.sources.end() ? kNone : in_before->second;
    const auto& new_lines = in_after == after.sources.end() ? kNone : in_after->second;

    std::vector<SystemChange> changes;
    for (auto& line : only_in(old_lines, new_lines)) changes.push_back({source, "removed", std::move(line), "", false});
    for (auto& line : only_in(new_lines, old_lines)) changes.push_back({source, "added", std::move(line), "", false});
    for (auto& change : changes) attribute(change, faults, naming);
    if (source.rfind("tc ", 0) == 0) attribute_tc_tree(changes, source.rfind("tc qdisc ", 0) == 0);

    for (auto& change : changes) {
      auto& list = change.ours ? diff.leftovers : diff.foreign;
      auto& omitted = change.ours ? leftovers_omitted : foreign_omitted;
      if (list.size() < bounds.max_changes) {
        list.push_back(std::move(change));
      } else {
        ++omitted;
      }
    }
  }
  if (leftovers_omitted > 0) diff.errors.push_back("leftovers: " + std::to_string(leftovers_omitted) + " more not listed");
  if (foreign_omitted > 0) diff.errors.push_back("foreign changes: " + std::to_string(foreign_omitted) + " more not listed");
  return diff;
}

std::string describe(const SystemChange& change) {
  std::string text = change.source + ": " + change.change + " " + change.line;
  if (!change.ours) return text + " (not ours)";
  return text + (change.fault_id.empty() ? " (ours, no fault of this run)" : " (fault " + change.fault_id + ")");
}

}  // namespace chaos::agent::leftovers
