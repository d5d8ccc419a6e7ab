#include "lab/rabbitmq/queue_leader.h"

#include <algorithm>

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
  // RabbitMQ's HTTP API can name `members` (and `online`) twice in one
  // quorum queue object: the queue's own record and a metrics view, which
  // lists fewer nodes while the cluster is still settling. A JSON parser
  // keeps one of the two, so every top-level `members` list is read here
  // and the nodes of all of them count.
  using Json = nlohmann::json;
  std::vector<std::string> members;
  std::string top_level_key;
  const auto read_every_members_list = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth != 1) return true;
    if (event == Json::parse_event_t::key) {
      top_level_key = parsed.is_string() ? parsed.get<std::string>() : "";
    } else if (event == Json::parse_event_t::array_end && top_level_key == "members") {
      for (const auto& member : parsed) {
        if (!member.is_string()) continue;
        auto name = member.get<std::string>();
        if (std::find(members.begin(), members.end(), name) == members.end()) members.push_back(std::move(name));
      }
    }
    return true;
  };
  const auto json = Json::parse(json_text, read_every_members_list, /*allow_exceptions=*/false);
  if (!json.is_object()) return {};
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
