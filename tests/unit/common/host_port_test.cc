#include "common/host_port.h"

#include <gtest/gtest.h>

namespace chaos {
namespace {

TEST(SplitHostPort, ParsesAndExplainsErrors) {
  EXPECT_EQ(split_host_port("127.0.0.1:9701", "x").value(), std::make_pair(std::string("127.0.0.1"), 9701));
  EXPECT_EQ(split_host_port("[::1]:80", "x").value(), std::make_pair(std::string("::1"), 80));
  EXPECT_EQ(split_host_port("localhost:0", "x").value(), std::make_pair(std::string("localhost"), 0));
  EXPECT_EQ(split_host_port("localhost", "--metrics-listen").status().message(),
            "--metrics-listen: expected HOST:PORT, got 'localhost'");
  EXPECT_EQ(split_host_port("h:", "x").status().message(), "x: expected HOST:PORT, got 'h:'");
  EXPECT_FALSE(split_host_port(":80", "x").ok());
  EXPECT_EQ(split_host_port("h:99999", "x").status().message(), "x: port 99999 is out of range");
  EXPECT_EQ(split_host_port("h:12a", "x").status().message(), "x: port '12a' is not a number");
}

}  // namespace
}  // namespace chaos
