#include "agent/faults/dns/redirect_ownership.h"

#include <sys/stat.h>

namespace chaos::agent::dns {

std::string fault_network_namespace_key(const FaultContext& context) {
  struct stat info {};
  const bool known = context.container != nullptr && context.container->network_namespace_fd >= 0
                         ? ::fstat(context.container->network_namespace_fd, &info) == 0
                         : ::stat("/proc/thread-self/ns/net", &info) == 0;
  if (!known) return context.container != nullptr ? context.container->ref.network_namespace() : "host";
  return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

std::string owned_nft_table(const FaultContext& context, const nlohmann::json& undo_record, std::string_view prefix,
                            std::string (*table_name)(const std::string& fault_id)) {
  if (undo_record.is_object() && undo_record.contains("nft_table") && undo_record["nft_table"].is_string()) {
    const std::string recorded = undo_record["nft_table"].get<std::string>();
    if (recorded.size() > prefix.size() && recorded.compare(0, prefix.size(), prefix) == 0 &&
        recorded == table_name(recorded.substr(prefix.size()))) {
      return recorded;
    }
  }
  return table_name(context.fault_id);
}

}  // namespace chaos::agent::dns
