#include "agent/faults/dns/own_socket.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chaos::agent::dns {

namespace {

// /proc prints each 32-bit word of the address as the host-order integer
// the kernel stores, i.e. byte-swapped on little-endian machines.
std::string hex_words(const void* data, std::size_t words) {
  std::string text;
  for (std::size_t i = 0; i < words; ++i) {
    std::uint32_t word = 0;
    std::memcpy(&word, static_cast<const char*>(data) + 4 * i, 4);
    char chunk[9];
    std::snprintf(chunk, sizeof chunk, "%08X", word);
    text += chunk;
  }
  return text;
}

std::string read_small_file(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

bool fd_table_has_socket(const std::set<unsigned long>& inodes) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    unsigned long inode = 0;
    if (!error && std::sscanf(target.c_str(), "socket:[%lu]", &inode) == 1 && inodes.count(inode) != 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string proc_net_address(const sockaddr_storage& address) {
  char port[6];
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    std::snprintf(port, sizeof port, "%04X", ntohs(v4.sin_port));
    return hex_words(&v4.sin_addr, 1) + ":" + port;
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    std::snprintf(port, sizeof port, "%04X", ntohs(v6.sin6_port));
    return hex_words(&v6.sin6_addr, 4) + ":" + port;
  }
  return {};
}

std::set<unsigned long> socket_inodes_bound_to(std::string_view table_text, const std::string& address) {
  std::set<unsigned long> inodes;
  const auto colon = address.find(':');
  if (colon == std::string::npos) return inodes;
  const std::string wildcard = std::string(colon, '0') + address.substr(colon);
  std::istringstream lines{std::string(table_text)};
  std::string line;
  std::getline(lines, line);  // column titles
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long inode = 0;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode)) {
      continue;
    }
    if (local == address || local == wildcard) inodes.insert(inode);
  }
  return inodes;
}

bool peer_is_own_socket(const sockaddr_storage& peer, bool tcp) {
  const std::string address = proc_net_address(peer);
  if (address.empty()) return false;
  // thread-self: the table of this thread's network namespace, which is the
  // one the responder (and the query) lives in.
  std::string table = std::string("/proc/thread-self/net/") + (tcp ? "tcp" : "udp");
  if (peer.ss_family == AF_INET6) table += "6";
  const auto inodes = socket_inodes_bound_to(read_small_file(table), address);
  return !inodes.empty() && fd_table_has_socket(inodes);
}

}  // namespace chaos::agent::dns
