#include "agent/faults/network/rules/mangle_tables.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "common/crash_point.h"
#include "common/proc_reader.h"

namespace chaos::agent::network {

namespace fs = std::filesystem;

namespace {

constexpr const char* kOurChainPrefix = "CHAOS-";

bool is_missing_table(const CommandResult& result) {
  return result.exit_code != 0 && result.stderr_text.find("No such file or directory") != std::string::npos;
}

Status write_file_atomically(const std::string& path, const std::string& text) {
  std::error_code error;
  fs::create_directories(fs::path(path).parent_path(), error);
  if (error) return internal_error("creating the directory of " + path + ": " + error.message());
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return internal_error("writing " + temporary);
  }
  fs::rename(temporary, path, error);
  if (error) return internal_error("renaming " + temporary + " to " + path + ": " + error.message());
  return {};
}

}  // namespace

bool MangleTableState::holds_our_chains() const {
  for (const auto& chain : chains) {
    if (chain.name.rfind(kOurChainPrefix, 0) == 0) return true;
  }
  return false;
}

StatusOr<MangleTableState> parse_mangle_listing(const std::string& nft_json) {
  const auto json = nlohmann::json::parse(nft_json, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("nftables") || !json["nftables"].is_array()) {
    return internal_error("unexpected `nft -j list table` output: " + nft_json.substr(0, 200));
  }
  MangleTableState state;
  std::map<std::string, std::size_t> index;
  for (const auto& item : json["nftables"]) {
    if (item.contains("table")) state.exists = true;
    if (item.contains("chain")) {
      const auto& chain = item["chain"];
      MangleChain parsed{chain.value("name", ""), chain.contains("hook"), chain.value("policy", "accept") == "accept",
                         0};
      index[parsed.name] = state.chains.size();
      state.chains.push_back(parsed);
    }
    if (item.contains("rule")) {
      const auto found = index.find(item["rule"].value("chain", ""));
      if (found != index.end()) ++state.chains[found->second].rules;
    }
  }
  return state;
}

StatusOr<MangleTableState> read_mangle_table(CommandRunner& commands, const std::string& family) {
  CHAOS_ASSIGN_OR_RETURN(auto result, commands.run({"nft", "-j", "list", "table", family, "mangle"}));
  if (is_missing_table(result)) return MangleTableState{};
  if (result.exit_code != 0) {
    return internal_error("nft -j list table " + family + " mangle failed: " + result.stderr_text);
  }
  return parse_mangle_listing(result.stdout_text);
}

MangleTableBaseline baseline_of(const MangleTableState& state) {
  MangleTableBaseline baseline{state.exists, {}};
  for (const auto& chain : state.chains) baseline.chains.insert(chain.name);
  return baseline;
}

nlohmann::json baseline_to_json(const MangleBaseline& baseline) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [family, table] : baseline) {
    json[family] = {{"existed", table.existed}, {"chains", table.chains}};
  }
  return json;
}

StatusOr<MangleBaseline> baseline_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return internal_error("mangle baseline: expected an object");
  MangleBaseline baseline;
  for (const auto& [family, table] : json.items()) {
    if (family == "boot_id" || family == "netns_cookie") continue;
    if (!table.is_object() || !table.contains("existed") || !table["existed"].is_boolean() ||
        !table.contains("chains") || !table["chains"].is_array()) {
      return internal_error("mangle baseline: bad entry for family '" + family + "'");
    }
    MangleTableBaseline parsed{table["existed"].get<bool>(), {}};
    for (const auto& chain : table["chains"]) {
      if (!chain.is_string()) return internal_error("mangle baseline: chain names must be strings");
      parsed.chains.insert(chain.get<std::string>());
    }
    baseline[family] = parsed;
  }
  return baseline;
}

nlohmann::json baseline_file_json(const MangleBaseline& baseline, const std::string& boot_id,
                                  const std::string& namespace_cookie) {
  nlohmann::json json = baseline_to_json(baseline);
  if (!boot_id.empty()) json["boot_id"] = boot_id;
  if (!namespace_cookie.empty()) json["netns_cookie"] = namespace_cookie;
  return json;
}

std::string current_boot_id() {
  // A UUID and a newline: 37 bytes.
  const std::optional<std::string> text = read_bounded("/proc/sys/kernel/random/boot_id", 64);
  if (!text) return "";
  return text->substr(0, text->find('\n'));
}

bool baseline_text_is_of_earlier_boot(const std::string& text, const std::string& boot_id) {
  // Zeros: a filesystem that gave the renamed file its blocks but not its data.
  if (std::all_of(text.begin(), text.end(), [](char c) { return c == '\0'; })) return true;
  if (boot_id.empty()) return false;  // this boot's is unknown: nothing to compare with
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return json.is_object() && json.contains("boot_id") && json["boot_id"] != boot_id;
}

StatusOr<std::string> read_baseline_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return internal_error("opening " + path + ": " + std::strerror(errno));
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return internal_error("reading " + path);
  return text;
}

BaselineSweep delete_mangle_baselines_of_earlier_boots(const std::string& directory, const std::string& boot_id) {
  BaselineSweep sweep;
  std::error_code error;
  fs::directory_iterator item(directory, error);
  if (error) {
    if (error != std::errc::no_such_file_or_directory) sweep.errors.push_back(directory + ": " + error.message());
    return sweep;
  }
  for (; item != fs::directory_iterator(); item.increment(error)) {
    if (error) {
      sweep.errors.push_back(directory + ": " + error.message());
      break;
    }
    const std::string name = item->path().filename().string();
    if (name.rfind("mangle-baseline", 0) != 0) continue;
    std::error_code type_error;
    if (!item->is_regular_file(type_error)) continue;
    if (item->path().extension() == ".tmp") {
      // A write that never reached its rename: no baseline was taken from it.
      std::error_code removed;
      if (fs::remove(item->path(), removed)) {
        sweep.unfinished.push_back(item->path().string());
      } else if (removed) {
        sweep.errors.push_back("deleting " + item->path().string() + ": " + removed.message());
      }
      continue;
    }
    if (item->path().extension() != ".json") continue;
    StatusOr<std::string> text = read_baseline_text(item->path().string());
    if (!text.ok()) {
      sweep.errors.push_back(text.status().message());
      continue;
    }
    if (!baseline_text_is_of_earlier_boot(*text, boot_id)) continue;
    std::error_code removed;
    if (fs::remove(item->path(), removed)) {
      sweep.deleted.push_back(item->path().string());
    } else if (removed) {
      sweep.errors.push_back("deleting " + item->path().string() + ": " + removed.message());
    }
  }
  return sweep;
}

std::string mangle_restore_script(const std::string& family, const MangleTableBaseline& before,
                                  const MangleTableState& now) {
  if (!now.exists) return "";
  std::vector<std::string> ours;
  for (const auto& chain : now.chains) {
    // Only empty accepting base chains are no-ops we may have caused; a
    // regular chain may be the target of someone's jump.
    const bool appeared = !before.existed || before.chains.count(chain.name) == 0;
    if (appeared && chain.base && chain.accepts && chain.rules == 0) ours.push_back(chain.name);
  }
  if (!before.existed && ours.size() == now.chains.size()) return "delete table " + family + " mangle\n";
  std::string script;
  for (const auto& name : ours) script += "delete chain " + family + " mangle " + name + "\n";
  return script;
}

MangleTableKeeper::MangleTableKeeper(std::string baseline_path, std::optional<std::string> boot_id,
                                     std::string namespace_cookie)
    : baseline_path_(std::move(baseline_path)),
      boot_id_(boot_id ? std::move(*boot_id) : current_boot_id()),
      namespace_cookie_(std::move(namespace_cookie)) {}

Status MangleTableKeeper::acquire(CommandRunner& commands) {
  // May wait for a restoration in progress: only applies do.
  std::unique_lock table(table_mutex_);
  {
    std::lock_guard count(count_mutex_);
    ++users_;
  }
  Status status = baseline_ ? Status{} : load_or_take_baseline(commands);
  if (!status.ok()) {
    std::lock_guard count(count_mutex_);
    // A release that came meanwhile left the restoration to us.
    if (--users_ == 0) restore_wanted_ = true;
  }
  unlock_table(std::move(table), commands);
  return status;
}

Status MangleTableKeeper::release(CommandRunner& commands) {
  std::unique_lock table(table_mutex_, std::defer_lock);
  {
    std::lock_guard count(count_mutex_);
    if (users_ > 0) --users_;
    if (users_ > 0) return {};
    // try_lock never waits, so trying it under the count lock is safe; the
    // holder sees the request before it unlocks (unlock_table).
    if (!table.try_lock()) {
      restore_wanted_ = true;
      return {};
    }
  }
  Status status = restore_locked(commands);
  unlock_table(std::move(table), commands);
  return status;
}

Status MangleTableKeeper::restore_if_unused(CommandRunner& commands) {
  std::unique_lock table(table_mutex_);
  bool unused = false;
  {
    std::lock_guard count(count_mutex_);
    unused = users_ == 0;
  }
  Status status;
  if (unused) {
    if (!baseline_) {
      StatusOr<std::optional<MangleBaseline>> loaded = load_baseline_file();
      if (loaded.ok()) {
        baseline_ = std::move(loaded).value();
      } else {
        status = loaded.status();
      }
    }
    if (status.ok()) status = restore_locked(commands);
  }
  unlock_table(std::move(table), commands);
  return status;
}

void MangleTableKeeper::unlock_table(std::unique_lock<std::mutex> table, CommandRunner& commands) {
  for (;;) {
    std::unique_lock count(count_mutex_);
    const bool due = restore_wanted_ && users_ == 0;
    restore_wanted_ = false;
    if (!due) {
      table.unlock();
      return;
    }
    count.unlock();
    // Nobody to report to: a failure keeps the baseline, and the next
    // release or recovery tries again. `commands` is the holder's: it acts
    // in the same namespace as the releaser's would.
    if (auto status = restore_locked(commands); !status.ok()) {
      std::cerr << "chaos-agent: restoring the mangle tables: " << status.message() << "\n";
    }
  }
}

StatusOr<std::optional<MangleBaseline>> MangleTableKeeper::load_baseline_file() {
  if (baseline_path_.empty() || !fs::exists(baseline_path_)) return std::optional<MangleBaseline>();
  CHAOS_ASSIGN_OR_RETURN(const std::string text, read_baseline_text(baseline_path_));
  if (baseline_text_is_of_earlier_boot(text, boot_id_)) {
    std::cerr << "chaos-agent: " << baseline_path_ << ": " << kEarlierBootBaselineDeleted << "\n";
    std::error_code error;
    fs::remove(baseline_path_, error);
    if (error) return internal_error("deleting " + baseline_path_ + ": " + error.message());
    return std::optional<MangleBaseline>();
  }
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const bool of_another_namespace = !namespace_cookie_.empty() && json.is_object() && json.contains("netns_cookie") &&
                                    json["netns_cookie"] != namespace_cookie_;
  if (of_another_namespace) {
    // Restoring it here would delete what this namespace's owner made.
    std::cerr << "chaos-agent: " << baseline_path_ << ": " << kOtherNamespaceBaselineDeleted << "\n";
    std::error_code error;
    fs::remove(baseline_path_, error);
    if (error) return internal_error("deleting " + baseline_path_ + ": " + error.message());
    return std::optional<MangleBaseline>();
  }
  auto loaded = baseline_from_json(json);
  if (!loaded.ok()) return loaded.status().with_context(baseline_path_);
  return std::optional<MangleBaseline>(std::move(loaded).value());
}

Status MangleTableKeeper::load_or_take_baseline(CommandRunner& commands) {
  CHAOS_ASSIGN_OR_RETURN(std::optional<MangleBaseline> on_disk, load_baseline_file());
  if (on_disk) {
    baseline_ = std::move(on_disk);
    return {};
  }
  MangleBaseline baseline;
  for (const char* family : kMangleFamilies) {
    CHAOS_ASSIGN_OR_RETURN(auto state, read_mangle_table(commands, family));
    baseline[family] = baseline_of(state);
  }
  // On disk before any chain exists, so a crash cannot lose it.
  if (!baseline_path_.empty()) {
    crash_point("network: write mangle baseline");
    CHAOS_RETURN_IF_ERROR(
        write_file_atomically(baseline_path_, baseline_file_json(baseline, boot_id_, namespace_cookie_).dump()));
  }
  baseline_ = std::move(baseline);
  return {};
}

Status MangleTableKeeper::restore_locked(CommandRunner& commands) {
  if (!baseline_) return {};
  std::map<std::string, MangleTableState> now;
  for (const auto& [family, before] : *baseline_) {
    CHAOS_ASSIGN_OR_RETURN(now[family], read_mangle_table(commands, family));
    // A fault not yet recovered still owns a chain: restore after it.
    if (now[family].holds_our_chains()) return {};
  }
  std::string script;
  for (const auto& [family, before] : *baseline_) script += mangle_restore_script(family, before, now[family]);
  if (!script.empty()) {
    RunOptions options;
    options.stdin_text = script;
    // One transaction for both families: all of it or nothing.
    auto result = commands.run_checked({"nft", "-f", "-"}, options);
    if (!result.ok()) return result.status().with_context("restoring the mangle tables");
  }
  crash_point("network: remove mangle baseline");
  baseline_.reset();
  std::error_code ignored;
  if (!baseline_path_.empty()) fs::remove(baseline_path_, ignored);
  return {};
}

}  // namespace chaos::agent::network
