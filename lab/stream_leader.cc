#include "lab/stream_leader.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lab/lab_broker.h"
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

bool write_inventory(const LabLayout& layout, const std::string& leader) {
  const std::string path = layout.inventory_path();
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << render_inventory(layout, leader);
    if (!out.flush()) return false;
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return false;
  if (!leader.empty() && lab_broker(layout).uses_node_stores()) (void)link_stream_leader_store(layout, leader);
  return true;
}

void LeaderWatcher::refresh() {
  auto leader = lab_broker(layout_).current_leader(layout_);
  if (leader && *leader != leader_ && write_inventory(layout_, *leader)) leader_ = *leader;
}

}  // namespace chaos::lab
