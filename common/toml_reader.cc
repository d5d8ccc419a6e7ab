#include "common/toml_reader.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "common/duration.h"
#include "common/printable_text.h"

namespace chaos {

namespace {

// toml++ parses a dotted key or a table header one part per recursive call
// and bounds neither (it bounds nested values only): 50,000 parts in a
// 100 KB file overflow the stack. So the dots outside strings and comments
// are counted first; a float value has one, and `= , { } [ ]` and line ends
// start a new key.
std::optional<toml::source_position> first_key_over(std::string_view text, size_t max_dots) {
  enum class In { kCode, kComment, kBasic, kLiteral, kMultilineBasic, kMultilineLiteral };
  In in = In::kCode;
  toml::source_position at{1, 0};
  size_t dots = 0;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++at.line;
      at.column = 0;
    } else {
      ++at.column;
    }
    const auto opens = [&](std::string_view quotes) {
      if (text.substr(i, quotes.size()) != quotes) return false;
      i += quotes.size() - 1;
      at.column += static_cast<toml::source_index>(quotes.size() - 1);
      return true;
    };
    if (escaped) {
      escaped = false;
      continue;
    }
    switch (in) {
      case In::kCode:
        if (c == '#') {
          in = In::kComment;
        } else if (c == '"') {
          in = opens("\"\"\"") ? In::kMultilineBasic : In::kBasic;
        } else if (c == '\'') {
          in = opens("'''") ? In::kMultilineLiteral : In::kLiteral;
        } else if (c == '.') {
          if (++dots > max_dots) return at;
        } else if (c == '=' || c == ',' || c == '{' || c == '}' || c == '[' || c == ']' || c == '\n') {
          dots = 0;
        }
        break;
      case In::kComment:
        if (c == '\n') {
          in = In::kCode;
          dots = 0;
        }
        break;
      case In::kBasic:
        if (c == '\\') escaped = true;
        if (c == '"' || c == '\n') in = In::kCode;
        break;
      case In::kLiteral:
        if (c == '\'' || c == '\n') in = In::kCode;
        break;
      case In::kMultilineBasic:
        if (c == '\\') escaped = true;
        if (c == '"' && opens("\"\"\"")) in = In::kCode;
        break;
      case In::kMultilineLiteral:
        if (c == '\'' && opens("'''")) in = In::kCode;
        break;
    }
  }
  return std::nullopt;
}

// Experiment, inventory and config text is printed to terminals (the plan,
// progress, verdicts): an escape sequence or a lone carriage return in a
// title could clear the screen or overwrite a line with a fake verdict.
// Tabs, line ends and CRLF are text.
std::optional<std::string> control_character_in(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const std::size_t control = control_character_bytes(text, i);
    if (control == 0) continue;
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\t' || byte == '\n' || (byte == '\r' && text.substr(i + 1, 1) == "\n")) continue;
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", control == 2 ? static_cast<unsigned char>(text[i + 1]) : byte);
    return std::string(code) + " at byte " + std::to_string(i);
  }
  return std::nullopt;
}

}  // namespace

std::string Diagnostics::where(const toml::source_region& region) const {
  return file_ + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

void Diagnostics::error(const toml::source_region& region, const std::string& message) {
  errors_.push_back(where(region) + ": " + message);
}

void Diagnostics::error_at_start(const std::string& message) {
  errors_.push_back(file_ + ":1:1: " + message);
}

Status Diagnostics::to_status() const {
  if (errors_.empty()) return {};
  std::string joined;
  for (const auto& error : errors_) joined += (joined.empty() ? "" : "\n") + error;
  return invalid_argument(joined);
}

std::string path_relative_to(const std::string& toml_path, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (std::filesystem::path(toml_path).parent_path() / path).lexically_normal().string();
}

std::optional<toml::table> parse_toml_file(const std::string& path, Diagnostics& diagnostics) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    diagnostics.error_at_start("cannot read file: " + ec.message());
    return std::nullopt;
  }
  if (size > kMaxConfigBytes) {
    diagnostics.error_at_start("file is " + std::to_string(size) + " bytes, more than the limit of " +
                               std::to_string(kMaxConfigBytes));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics.error_at_start("cannot open file");
    return std::nullopt;
  }
  std::stringstream content;
  content << in.rdbuf();
  return parse_toml(content.str(), diagnostics);
}

std::optional<toml::table> parse_toml(const std::string& text, Diagnostics& diagnostics) {
  if (text.size() > kMaxConfigBytes) {
    diagnostics.error_at_start("text is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                               std::to_string(kMaxConfigBytes));
    return std::nullopt;
  }
  if (const auto deep = first_key_over(text, kMaxTomlKeyParts - 1)) {
    diagnostics.error({*deep, *deep, nullptr},
                      "a key or table name of more than " + std::to_string(kMaxTomlKeyParts) + " dotted parts");
    return std::nullopt;
  }
  try {
    return toml::parse(text, diagnostics.file());
  } catch (const toml::parse_error& error) {
    diagnostics.error(error.source(), std::string(error.description()));
    return std::nullopt;
  }
}

const char* toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: return "nothing";
  }
  return "unknown";
}

std::string TableReader::qualified(const std::string& key) const {
  return name_.empty() ? key : name_ + "." + key;
}

void TableReader::wrong_type(const toml::node& node, const std::string& key, const char* expected) {
  diagnostics_.error(node.source(), qualified(key) + ": expected " + expected + ", got " +
                                        toml_type_name(node));
}

const toml::node* TableReader::fetch(const std::string& key, bool required, const char* expected) {
  asked_.insert(key);
  const toml::node* node = table_.get(key);
  if (node == nullptr && required) {
    diagnostics_.error(table_.source(), (name_.empty() ? std::string("experiment") : name_) + ": missing required key '" + key + "' (" + expected + ")");
  }
  return node;
}

const toml::node* TableReader::node(const std::string& key) { return fetch(key, false, ""); }

std::optional<std::string> TableReader::string(const std::string& key, bool required) {
  const toml::node* node = fetch(key, required, "a string");
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) {
    wrong_type(*node, key, "a string");
    return std::nullopt;
  }
  std::string value = *node->value<std::string>();
  if (!printable(*node, key, value)) return std::nullopt;
  return value;
}

bool TableReader::printable(const toml::node& node, const std::string& key, std::string_view text) {
  const auto found = control_character_in(text);
  if (found) error_at(node, qualified(key) + ": holds a control character (" + *found + ")");
  return !found;
}

std::optional<double> TableReader::number(const std::string& key, bool required) {
  const toml::node* node = fetch(key, required, "a number");
  if (node == nullptr) return std::nullopt;
  if (node->is_integer()) return static_cast<double>(*node->value<int64_t>());
  if (node->is_floating_point()) {
    // TOML has nan and inf; no setting means either, and nan passes every
    // range check written as "refuse when v < min || v > max".
    const double value = *node->value<double>();
    if (std::isfinite(value)) return value;
    error_at(*node, qualified(key) + ": must be a finite number, not " + (std::isnan(value) ? "nan" : "inf"));
    return std::nullopt;
  }
  wrong_type(*node, key, "a number");
  return std::nullopt;
}

std::optional<int64_t> TableReader::integer(const std::string& key, int64_t min, int64_t max) {
  const toml::node* node = fetch(key, false, "an integer");
  if (node == nullptr) return std::nullopt;
  if (!node->is_integer()) {
    wrong_type(*node, key, "an integer");
    return std::nullopt;
  }
  const int64_t value = *node->value<int64_t>();
  if (value < min || value > max) {
    diagnostics_.error(node->source(), qualified(key) + ": " + std::to_string(value) +
                                           " is outside " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> TableReader::boolean(const std::string& key) {
  const toml::node* node = fetch(key, false, "true or false");
  if (node == nullptr) return std::nullopt;
  if (!node->is_boolean()) {
    wrong_type(*node, key, "true or false");
    return std::nullopt;
  }
  return node->value<bool>();
}

std::optional<std::chrono::nanoseconds> TableReader::duration(const std::string& key, bool required,
                                                              const DurationLimits& limits) {
  const toml::node* node = fetch(key, required, "a duration like \"20s\"");
  if (node == nullptr) return std::nullopt;
  if (!node->is_string()) {
    wrong_type(*node, key, "a duration string like \"20s\"");
    return std::nullopt;
  }
  auto parsed = parse_duration(*node->value<std::string>());
  if (!parsed.ok()) {
    diagnostics_.error(node->source(), qualified(key) + ": " + parsed.status().message());
    return std::nullopt;
  }
  if (parsed->count() < 0 || (parsed->count() == 0 && !limits.zero_allowed)) {
    diagnostics_.error(node->source(), qualified(key) + ": duration must be " +
                                           (limits.zero_allowed ? "zero or positive" : "positive"));
    return std::nullopt;
  }
  const std::chrono::nanoseconds max = limits.max.value_or(kMaxTomlDuration);
  if (*parsed > max) {
    diagnostics_.error(node->source(), qualified(key) + ": must be at most " + format_duration(max));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::vector<std::string>> TableReader::string_list(const std::string& key) {
  const toml::node* node = fetch(key, false, "a list of strings");
  if (node == nullptr) return std::nullopt;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    wrong_type(*node, key, "a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> items;
  for (const auto& item : *array) {
    if (!item.is_string()) {
      wrong_type(item, key + "[]", "a string");
      return std::nullopt;
    }
    items.push_back(*item.value<std::string>());
    if (!printable(item, key + "[]", items.back())) return std::nullopt;
  }
  return items;
}

std::optional<std::map<std::string, std::string>> TableReader::string_map(const std::string& key) {
  const toml::table* map = table(key);
  if (map == nullptr) return std::nullopt;
  std::map<std::string, std::string> values;
  for (const auto& [label, value] : *map) {
    if (!value.is_string()) {
      wrong_type(value, key + "." + std::string(label.str()), "a string");
      return std::nullopt;
    }
    const std::string name(label.str());
    std::string text = *value.value<std::string>();
    if (!printable(value, key + "." + name, name) || !printable(value, key + "." + name, text)) return std::nullopt;
    values[name] = std::move(text);
  }
  return values;
}

const toml::table* TableReader::table(const std::string& key) {
  const toml::node* node = fetch(key, false, "a table");
  if (node == nullptr) return nullptr;
  if (!node->is_table()) wrong_type(*node, key, "a table");
  return node->as_table();
}

const toml::array* TableReader::array_of_tables(const std::string& key) {
  const toml::node* node = fetch(key, false, "an array of tables");
  if (node == nullptr) return nullptr;
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    wrong_type(*node, key, "an array of tables");
    return nullptr;
  }
  return array;
}

void TableReader::error_at_key(const std::string& key, const std::string& message) {
  const toml::node* node = table_.get(key);
  diagnostics_.error(node != nullptr ? node->source() : table_.source(), qualified(key) + ": " + message);
}

void TableReader::reject_unknown_keys() {
  for (const auto& [key, value] : table_) {
    const std::string text(key.str());
    if (asked_.count(text) == 0) {
      diagnostics_.error(key.source(), (name_.empty() ? std::string("top level") : name_) + ": unknown key '" + text + "'");
    }
  }
}

}  // namespace chaos
