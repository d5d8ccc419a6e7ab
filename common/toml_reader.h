// Reading validated values out of toml++ tables while keeping source
// positions, so every configuration error reads "file:line:col: message".
// A TableReader remembers which keys were asked for; the rest are reported
// as unknown keys (typos must not be silently ignored). The one TOML layer
// of the agent config and chaosctl's experiment and inventory files.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "common/status.h"

namespace chaos {

// Collects every error of one load so `validate` can report them all.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }
  std::string where(const toml::source_region& region) const;
  std::string where(const toml::node& node) const { return where(node.source()); }
  void error(const toml::source_region& region, const std::string& message);
  void error_at_start(const std::string& message);
  // A message that already starts with "file:line:col: ".
  void add_located(std::string message) { errors_.push_back(std::move(message)); }
  bool empty() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }
  // All errors, one per line; OK when there are none.
  Status to_status() const;

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

// Reads a TOML file of at most kMaxConfigBytes; parse errors become
// diagnostics with the parser's position.
inline constexpr size_t kMaxConfigBytes = 1 << 20;
// Parts of one dotted key or table name ("a.b.c" is 3): deeper is refused
// before parsing (file:line:col), as toml++ would recurse once per part.
inline constexpr size_t kMaxTomlKeyParts = 128;
std::optional<toml::table> parse_toml_file(const std::string& path, Diagnostics& diagnostics);
// The same for TOML text already in memory; diagnostics.file() names it.
std::optional<toml::table> parse_toml(const std::string& text, Diagnostics& diagnostics);

// A path written in the TOML file `toml_path`: relative paths are relative
// to that file's directory (experiments, inventories, suites alike);
// absolute and empty ones stay as they are.
std::string path_relative_to(const std::string& toml_path, const std::string& path);

// The longest duration any setting may have unless it says otherwise: a
// year is past every sensible fault, interval and timeout, and far enough
// below the ~292 years of std::chrono::nanoseconds that sums of them, and
// now() plus one, cannot overflow.
inline constexpr std::chrono::nanoseconds kMaxTomlDuration = std::chrono::hours(24 * 366);

// What a duration() may be besides positive.
struct DurationLimits {
  bool zero_allowed = false;
  std::optional<std::chrono::nanoseconds> max;
};

class TableReader {
 public:
  TableReader(const toml::table& table, std::string name, Diagnostics& diagnostics)
      : table_(table), name_(std::move(name)), diagnostics_(diagnostics) {}

  std::optional<std::string> string(const std::string& key, bool required = false);
  std::optional<double> number(const std::string& key, bool required = false);
  std::optional<int64_t> integer(const std::string& key, int64_t min, int64_t max);
  std::optional<bool> boolean(const std::string& key);
  // A duration written as a string ("20s"): positive (or zero, if allowed)
  // and at most limits.max.
  std::optional<std::chrono::nanoseconds> duration(const std::string& key, bool required = false,
                                                   const DurationLimits& limits = {});
  std::optional<std::vector<std::string>> string_list(const std::string& key);
  // String-valued table such as labels = { role = "broker" }.
  std::optional<std::map<std::string, std::string>> string_map(const std::string& key);
  const toml::table* table(const std::string& key);
  const toml::array* array_of_tables(const std::string& key);
  const toml::node* node(const std::string& key);

  // Reports each key that no getter asked for.
  void reject_unknown_keys();
  void error_at(const toml::node& node, const std::string& message) {
    diagnostics_.error(node.source(), message);
  }
  void error_here(const std::string& message) { diagnostics_.error(table_.source(), message); }
  // "file:line:col: name.key: message" at `key` (which must be present),
  // for checks the getters cannot make (a value from a fixed set, ...).
  void error_at_key(const std::string& key, const std::string& message);
  const std::string& name() const { return name_; }
  Diagnostics& diagnostics() { return diagnostics_; }

 private:
  const toml::node* fetch(const std::string& key, bool required, const char* expected);
  void wrong_type(const toml::node& node, const std::string& key, const char* expected);
  std::string qualified(const std::string& key) const;
  // Refuses (at `node`) text with a control character other than tab and
  // line ends: it would reach terminals as it is.
  bool printable(const toml::node& node, const std::string& key, std::string_view text);

  const toml::table& table_;
  std::string name_;
  Diagnostics& diagnostics_;
  std::set<std::string> asked_;
};

const char* toml_type_name(const toml::node& node);

}  // namespace chaos
