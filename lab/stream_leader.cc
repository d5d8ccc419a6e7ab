#include "lab/stream_leader.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lab/http_check.h"
#include "lab/lab_files.h"
#include "lab/lab_store.h"

namespace chaos::lab {

std::optional<std::string> stream_leader_from_jsz(const std::string& json_text, const std::string& stream) {
  const auto json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  const auto accounts = json.find("account_details");
  if (accounts == json.end() || !accounts->is_array()) return std::nullopt;
  for (const auto& account : *accounts) {
    const auto streams = account.find("stream_detail");
    if (streams == account.end() || !streams->is_array()) continue;
    for (const auto& detail : *streams) {
      if (!detail.is_object() || detail.value("name", "") != stream) continue;
      const auto cluster = detail.find("cluster");
      if (cluster == detail.end() || !cluster->is_object()) return std::nullopt;
      const auto leader = cluster->find("leader");
      if (leader == cluster->end() || !leader->is_string() || leader->get<std::string>().empty()) {
        return std::nullopt;
      }
      return leader->get<std::string>();
    }
  }
  return std::nullopt;
}

bool write_inventory(const LabLayout& layout, const std::string& stream_leader) {
  const std::string path = layout.inventory_path();
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << render_inventory(layout, stream_leader);
    if (!out.flush()) return false;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return false;
  if (!stream_leader.empty()) (void)link_stream_leader_store(layout, stream_leader);
  return true;
}

void StreamLeaderWatcher::refresh() {
  for (int node = 1; node <= layout_.node_count(); ++node) {
    auto reply = http_get(layout_.node_ip(node), kNatsMonitorPort, "/jsz?accounts=true&streams=true",
                          std::chrono::milliseconds(500));
    if (!reply.ok() || reply->status != 200) continue;
    auto leader = stream_leader_from_jsz(reply->body, kStreamName);
    if (!leader) continue;
    if (*leader != leader_ && write_inventory(layout_, *leader)) leader_ = *leader;
    return;
  }
}

}  // namespace chaos::lab
