#include "common/host_port.h"

namespace chaos {

StatusOr<std::pair<std::string, int>> split_host_port(const std::string& address, const std::string& what) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return invalid_argument(what + ": expected HOST:PORT, got '" + address + "'");
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text = address.substr(colon + 1);
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid_argument(what + ": port '" + port_text + "' is not a number");
    port = port * 10 + (c - '0');
    if (port > 65535) return invalid_argument(what + ": port " + port_text + " is out of range");
  }
  return std::make_pair(host, port);
}

}  // namespace chaos
