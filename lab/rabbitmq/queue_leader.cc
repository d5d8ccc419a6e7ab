#include "lab/rabbitmq/queue_leader.h"

#include <nlohmann/json.hpp>

namespace chaos::lab {

std::optional<std::string> lab_node_of(const std::string& erlang_node) {
  const auto at = erlang_node.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= erlang_node.size()) return std::nullopt;
  const std::string host = erlang_node.substr(at + 1);
  const std::string short_name = host.substr(0, host.find('.'));
  if (short_name.empty()) return std::nullopt;
  return short_name;
}

std::optional<std::string> queue_leader_from_api(const std::string& json_text) {
  const auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  // Only `leader`: for a quorum queue without one (an election under way),
  // `node` may name a stopped node.
  const auto value = json.find("leader");
  if (value == json.end() || !value->is_string()) return std::nullopt;
  return lab_node_of(value->get<std::string>());
}

std::vector<std::string> queue_members_from_api(const std::string& json_text) {
  std::vector<std::string> members;
  const auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return members;
  const auto list = json.find("members");
  if (list == json.end() || !list->is_array()) return members;
  for (const auto& member : *list) {
    if (member.is_string()) members.push_back(member.get<std::string>());
  }
  return members;
}

std::vector<std::string> running_nodes_from_api(const std::string& json_text) {
  std::vector<std::string> running;
  const auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) return running;
  for (const auto& node : json) {
    if (!node.is_object()) continue;
    const auto name = node.find("name");
    const auto up = node.find("running");
    if (name != node.end() && name->is_string() && up != node.end() && up->is_boolean() && up->get<bool>()) {
      running.push_back(name->get<std::string>());
    }
  }
  return running;
}

}  // namespace chaos::lab
