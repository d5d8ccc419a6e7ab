#include "agent/faults/dns/own_socket.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

namespace chaos::agent::dns {
namespace {

sockaddr_storage ipv4(const char* text, std::uint16_t port) {
  sockaddr_storage storage{};
  auto& v4 = reinterpret_cast<sockaddr_in&>(storage);
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  inet_pton(AF_INET, text, &v4.sin_addr);
  return storage;
}

TEST(OwnSocketTest, FormatsAddressesTheWayProcNetDoes) {
  // /proc/net/udp prints 127.0.0.1:53 as 0100007F:0035 on little-endian.
  const std::string text = proc_net_address(ipv4("127.0.0.1", 53));
  const bool little_endian = htonl(1) != 1;
  EXPECT_EQ(text, little_endian ? "0100007F:0035" : "7F000001:0035");
  sockaddr_storage unknown{};
  unknown.ss_family = AF_UNIX;
  EXPECT_EQ(proc_net_address(unknown), "");
}

TEST(OwnSocketTest, FindsExactAndWildcardBindingsInATable) {
  const std::string table =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "  1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 111 2 0\n"
      "  2: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 222 2 0\n"
      "  3: 0100007F:0036 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 333 2 0\n"
      "garbage line\n";
  EXPECT_EQ(socket_inodes_bound_to(table, "0100007F:0035"), (std::set<unsigned long>{111, 222}));
  EXPECT_TRUE(socket_inodes_bound_to(table, "0100007F:0099").empty());
  EXPECT_TRUE(socket_inodes_bound_to("", "0100007F:0035").empty());
  EXPECT_TRUE(socket_inodes_bound_to(table, "no-colon").empty());
}

TEST(OwnSocketTest, RecognisesThisProcessesSocketButNotAFreePort) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_storage bound = ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof(sockaddr_in)), 0);
  socklen_t length = sizeof bound;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length), 0);
  EXPECT_TRUE(peer_is_own_socket(bound, /*tcp=*/false));
  const auto port = ntohs(reinterpret_cast<sockaddr_in&>(bound).sin_port);
  ::close(fd);
  EXPECT_FALSE(peer_is_own_socket(ipv4("127.0.0.1", port), /*tcp=*/false));
}

}  // namespace
}  // namespace chaos::agent::dns
