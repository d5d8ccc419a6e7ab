#include "tests/unit/deploy/yaml_documents.h"

#include <yaml.h>

#include <memory>
#include <optional>
#include <regex>

namespace chaos::deploy::testing {

namespace {

using nlohmann::json;

json plain_scalar(const std::string& text) {
  static const std::regex integer("[-+]?(0|[1-9][0-9]*)");
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text.empty() || text == "~" || text == "null") return nullptr;
  if (std::regex_match(text, integer)) return std::stoll(text);
  // YAML 1.1 octal, as in a Secret volume's defaultMode: 0400.
  if (std::regex_match(text, std::regex("0[0-7]+"))) return std::stoll(text, nullptr, 8);
  return text;
}

// A container being filled: the value, and for a mapping the key waiting
// for its value.
struct Open {
  json value;
  std::optional<std::string> key;
};

class Builder {
 public:
  // Adds a finished value to the innermost container (or ends a document).
  Status add(json value) {
    if (open_.empty()) {
      documents_.push_back(std::move(value));
      return {};
    }
    Open& top = open_.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(value));
    } else if (!top.key) {
      if (!value.is_string()) return invalid_argument("mapping key is not a string: " + value.dump());
      top.key = value.get<std::string>();
    } else {
      if (top.value.contains(*top.key)) return invalid_argument("duplicate key '" + *top.key + "'");
      top.value[*top.key] = std::move(value);
      top.key.reset();
    }
    return {};
  }
  void open(json empty) { open_.push_back({std::move(empty), std::nullopt}); }
  Status close() {
    json done = std::move(open_.back().value);
    open_.pop_back();
    return add(std::move(done));
  }
  std::vector<json> take() { return std::move(documents_); }

 private:
  std::vector<Open> open_;
  std::vector<json> documents_;
};

}  // namespace

StatusOr<std::vector<json>> parse_yaml_documents(const std::string& text, const std::string& name) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return internal_error(name + ": cannot start libyaml");
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  Builder builder;
  for (bool done = false; !done;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      return invalid_argument(name + ":" + std::to_string(parser.problem_mark.line + 1) + ": " +
                              (parser.problem != nullptr ? parser.problem : "YAML error"));
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> event_guard(&event, yaml_event_delete);
    const std::string where = name + ":" + std::to_string(event.start_mark.line + 1) + ": ";
    Status status;
    switch (event.type) {
      case YAML_STREAM_END_EVENT:
        done = true;
        break;
      case YAML_MAPPING_START_EVENT:
        builder.open(json::object());
        break;
      case YAML_SEQUENCE_START_EVENT:
        builder.open(json::array());
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        status = builder.close();
        break;
      case YAML_SCALAR_EVENT: {
        const std::string value(reinterpret_cast<const char*>(event.data.scalar.value), event.data.scalar.length);
        status = builder.add(event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(value) : json(value));
        break;
      }
      case YAML_ALIAS_EVENT:
        return invalid_argument(where + "aliases are not supported");
      default:
        break;
    }
    if (!status.ok()) return invalid_argument(where + status.message());
  }
  return builder.take();
}

}  // namespace chaos::deploy::testing
