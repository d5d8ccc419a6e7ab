#include "orchestrator/experiment/fault_params.h"

namespace chaos::orchestrator {

namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == ',') {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  return parts;
}

}  // namespace

Status add_cli_param(const std::string& assignment, ParamMap& params) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    return invalid_argument("--param '" + assignment + "': expected key=value");
  }
  const std::string key = assignment.substr(0, equals);
  if (params.count(key) != 0) return invalid_argument("--param " + key + ": given twice");
  ParamValue value;
  value.items = split_commas(assignment.substr(equals + 1));
  value.is_list = value.items.size() > 1;
  value.origin = "--param " + key;
  params.emplace(key, std::move(value));
  return {};
}

}  // namespace chaos::orchestrator
