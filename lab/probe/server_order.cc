#include "lab/probe/server_order.h"

namespace chaos::lab::probe {
namespace {

std::string_view server_order_host_port(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return url;
}

}  // namespace

std::vector<std::string> rotate_servers(const std::vector<std::string>& servers, std::size_t first) {
  std::vector<std::string> order;
  for (std::size_t i = 0; i < servers.size(); ++i) order.push_back(servers[(first + i) % servers.size()]);
  return order;
}

std::optional<std::size_t> find_server(const std::vector<std::string>& servers, std::string_view connected_url) {
  const std::string_view wanted = server_order_host_port(connected_url);
  if (wanted.empty()) return std::nullopt;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    if (server_order_host_port(servers[i]) == wanted) return i;
  }
  return std::nullopt;
}

std::vector<std::string> order_after(const std::vector<std::string>& servers, std::string_view connected_url) {
  if (servers.empty()) return {};
  const std::size_t given_up = find_server(servers, connected_url).value_or(0);
  return rotate_servers(servers, given_up + 1);
}

}  // namespace chaos::lab::probe
