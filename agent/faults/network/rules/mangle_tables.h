// iptables-nft creates the nft tables `ip mangle` / `ip6 mangle` and their
// base chains (POSTROUTING, PREROUTING, ...) lazily when our first CHAOS-*
// chain or jump is added, and never removes them. To leave the ruleset of
// the host (or of a container's network namespace) exactly as we found it, MangleTableKeeper records what existed
// before our first steering chain (the baseline) and, once no CHAOS-* chain
// is left, deletes the base chains and tables that appeared since, if they
// hold no rule and accept by default. A table or chain that existed before
// us, or that holds anyone else's rule, is never touched.
//
// The baseline is written to a file below the agent's state dir before the
// first chain is added, so an agent restarted after a crash (journal
// recovery) still knows which tables were there before. The file is removed
// once the restoration is done; a baseline found on disk at the next first
// install is reused (it is older, hence truer, than a fresh look). It names
// the boot it was taken in (the kernel's boot_id): tables live in the
// kernel, so a baseline of an earlier boot describes tables that are gone
// and is deleted unused, like an empty file (written, renamed, then cut by
// a power loss before its data reached the disk). Neither needs a flush.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/command_runner.h"

namespace chaos::agent::network {

inline constexpr const char* kMangleFamilies[] = {"ip", "ip6"};

struct MangleChain {
  std::string name;
  bool base = false;     // has a hook
  bool accepts = true;   // policy accept (or a regular chain)
  int rules = 0;
};

// One family's `table <family> mangle` as it is now.
struct MangleTableState {
  bool exists = false;
  std::vector<MangleChain> chains;
  bool holds_our_chains() const;
};

// What existed before our first steering chain, per family.
struct MangleTableBaseline {
  bool existed = false;
  std::set<std::string> chains;
};
using MangleBaseline = std::map<std::string, MangleTableBaseline>;  // "ip" / "ip6"

// Parses `nft -j list table <family> mangle`.
StatusOr<MangleTableState> parse_mangle_listing(const std::string& nft_json);
StatusOr<MangleTableState> read_mangle_table(CommandRunner& commands, const std::string& family);
MangleTableBaseline baseline_of(const MangleTableState& state);

nlohmann::json baseline_to_json(const MangleBaseline& baseline);
StatusOr<MangleBaseline> baseline_from_json(const nlohmann::json& json);
// The baseline file's form: the baseline and "boot_id".
// `namespace_cookie` (network_namespace_cookie(), as text): which namespace
// the baseline is of, where its inode alone may name a later one; empty: not
// recorded (the host's, or a kernel without cookies).
nlohmann::json baseline_file_json(const MangleBaseline& baseline, const std::string& boot_id,
                                  const std::string& namespace_cookie = "");
// /proc/sys/kernel/random/boot_id, new at every boot; empty when unreadable.
std::string current_boot_id();
// A baseline file's text written in another boot than `boot_id`: it names
// another boot, or it is empty or zeros (renamed in, then cut by a power
// loss before its data reached the disk; in the boot that wrote it the page
// cache has the text). A file without a boot_id (older agents) is not, and
// with `boot_id` unknown (empty) only an empty or zeroed one is.
bool baseline_text_is_of_earlier_boot(const std::string& text, const std::string& boot_id);
StatusOr<std::string> read_baseline_text(const std::string& path);
inline constexpr const char* kEarlierBootBaselineDeleted =
    "a mangle table baseline of an earlier boot (its tables went with that kernel), deleted";
inline constexpr const char* kOtherNamespaceBaselineDeleted =
    "a mangle table baseline of an earlier network namespace with the same inode (the agent stopped while a fault "
    "was live in it, and the namespace ended before the agent came back), deleted";
inline constexpr const char* kUnfinishedBaselineDeleted =
    "an unfinished write of a mangle table baseline (the agent stopped before its rename), deleted";
struct BaselineSweep {
  std::vector<std::string> deleted;     // paths
  std::vector<std::string> unfinished;  // paths of *.tmp files deleted
  std::vector<std::string> errors;      // what could not be read or deleted
};
// At start-up, before journal recovery: deletes the mangle-baseline*.json
// files in `directory` of an earlier boot (also those of containers gone
// with it, which no recovery would reach), and the mangle-baseline*.tmp
// files of writes a stopped agent left unfinished. With `boot_id` empty
// (unknown) only baselines of zeros count as an earlier boot's. A missing
// directory is no error.
BaselineSweep delete_mangle_baselines_of_earlier_boots(const std::string& directory, const std::string& boot_id);

// The `nft -f -` lines that bring one family back to its baseline (pure).
// Empty when nothing is ours to delete. Call only once no CHAOS-* chain is
// left (the caller checks holds_our_chains()). Both families' lines go to
// nft as one transaction.
std::string mangle_restore_script(const std::string& family, const MangleTableBaseline& before,
                                  const MangleTableState& now);

// Concurrency: faults apply and revert on different threads at once. Two
// locks, so that no revert ever waits for another fault's command:
// - the count lock guards only the number of users and is never held
//   across a command or file I/O;
// - the table lock serialises what changes the tables' shape (taking the
//   baseline, restoring it). It IS held across `nft` commands and the
//   baseline file: it guards the mangle tables, which only the steering
//   faults of this agent use, and only acquire() (an apply) and recovery
//   wait for it. release() (a revert) never waits: when the table lock is
//   busy it leaves a request, and whoever holds the lock runs the
//   restoration before letting go if no user is left by then.
// Users are counted only with the table lock held, so a restoration never
// runs while a fault is between acquire() and its first chain.
class MangleTableKeeper {
 public:
  // One keeper per network namespace. `baseline_path` empty: the baseline
  // lives in memory only. `boot_id` unset: this kernel's (current_boot_id());
  // empty: unknown (baselines are then written and read without one).
  // `namespace_cookie`: the namespace's cookie as text ("" unknown): a
  // baseline file written for another cookie is of a namespace that ended,
  // whose inode this one was given, and is deleted rather than restored here.
  explicit MangleTableKeeper(std::string baseline_path, std::optional<std::string> boot_id = std::nullopt,
                             std::string namespace_cookie = "");

  // Every call takes the runner of the fault making it: any runner that
  // acts in this keeper's namespace (a container's runner dies with its
  // fault, the keeper may not).
  // Before a fault installs steering: the first user records the baseline.
  Status acquire(CommandRunner& commands);
  // After that fault removed its steering; the last user restores. Never
  // waits for a lock held across a command.
  Status release(CommandRunner& commands);
  // After a crashed agent's faults were recovered: restores from the
  // baseline on disk once no CHAOS-* chain is left and no fault is live.
  Status restore_if_unused(CommandRunner& commands);

 private:
  Status load_or_take_baseline(CommandRunner& commands);
  // The baseline file, when there is one of this boot; a stale one is
  // deleted (nullopt). An unreadable file of this boot is an error.
  StatusOr<std::optional<MangleBaseline>> load_baseline_file();
  Status restore_locked(CommandRunner& commands);
  // Runs a restoration that release() asked for while `table` was held,
  // then unlocks; checks and unlocks under the count lock so no request is
  // lost in between.
  void unlock_table(std::unique_lock<std::mutex> table, CommandRunner& commands);

  std::string baseline_path_;
  std::string boot_id_;
  std::string namespace_cookie_;
  std::mutex table_mutex_;
  std::optional<MangleBaseline> baseline_;  // guarded by table_mutex_
  std::mutex count_mutex_;
  int users_ = 0;                 // guarded by count_mutex_; grows only with table_mutex_ held
  bool restore_wanted_ = false;   // guarded by count_mutex_
};

}  // namespace chaos::agent::network
