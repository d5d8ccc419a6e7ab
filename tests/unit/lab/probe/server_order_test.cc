#include "lab/probe/server_order.h"

#include <gtest/gtest.h>

namespace chaos::lab::probe {
namespace {

const std::vector<std::string> kServers{"nats://10.0.0.1:4222", "10.0.0.2:4222", "nats://u:p@10.0.0.3:4222"};

TEST(ServerOrderTest, RotatesToStartAtTheGivenServer) {
  EXPECT_EQ(rotate_servers(kServers, 0), kServers);
  EXPECT_EQ(rotate_servers(kServers, 2),
            (std::vector<std::string>{"nats://u:p@10.0.0.3:4222", "nats://10.0.0.1:4222", "10.0.0.2:4222"}));
}

TEST(ServerOrderTest, FindsTheConnectedServerWhateverTheSpelling) {
  EXPECT_EQ(find_server(kServers, "nats://10.0.0.2:4222"), 1u);
  EXPECT_EQ(find_server(kServers, "nats://10.0.0.3:4222"), 2u) << "credentials are not part of the address";
  EXPECT_EQ(find_server(kServers, "nats://10.0.0.9:4222"), std::nullopt) << "a discovered server";
  EXPECT_EQ(find_server(kServers, ""), std::nullopt);
}

TEST(ServerOrderTest, TheOrderAfterAFailoverStartsPastTheServerGivenUp) {
  EXPECT_EQ(order_after(kServers, "nats://10.0.0.3:4222").front(), "nats://10.0.0.1:4222") << "wraps around";
  EXPECT_EQ(order_after(kServers, "nats://10.0.0.1:4222").front(), "10.0.0.2:4222");
  EXPECT_EQ(order_after(kServers, "").front(), "10.0.0.2:4222") << "not connected: past the first";
  EXPECT_EQ(order_after(kServers, "nats://10.0.0.1:4222").size(), 3u);
}

}  // namespace
}  // namespace chaos::lab::probe
