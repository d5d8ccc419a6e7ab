#include "agent/faults/dns/resolv_conf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace chaos::agent::dns {
namespace {

TEST(ResolvConfTest, TakesTheFirstUsableNameserver) {
  auto upstream = parse_resolv_conf(
      "# generated\nsearch lab\nnameserver fe80::1%eth0\nnameserver 10.202.0.2\nnameserver 10.0.0.3\n");
  ASSERT_TRUE(upstream.ok());
  EXPECT_EQ(upstream->text, "10.202.0.2");
  EXPECT_EQ(upstream->family(), AF_INET);
  EXPECT_FALSE(upstream->loopback);
  const auto& v4 = reinterpret_cast<const sockaddr_in&>(upstream->address);
  EXPECT_EQ(ntohs(v4.sin_port), 53);
}

TEST(ResolvConfTest, LoopbackResolverIsMarked) {
  auto resolved = parse_resolv_conf("nameserver 127.0.0.53\noptions edns0\n");
  ASSERT_TRUE(resolved.ok());
  EXPECT_TRUE(resolved->loopback);
  auto v6 = parse_resolv_conf("nameserver ::1\n");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_TRUE(v6->loopback);
}

TEST(ResolvConfTest, NoNameserverMeansTheLocalMachineLikeGlibc) {
  auto upstream = parse_resolv_conf("search lab\nnameserver\nnameserver bogus\n");
  ASSERT_TRUE(upstream.ok());
  EXPECT_EQ(upstream->text, "127.0.0.1");
  EXPECT_TRUE(upstream->loopback);
}

TEST(ResolvConfTest, MissingFileIsAnErrorNamingThePath) {
  auto upstream = read_resolv_conf("/nonexistent/cdn-resolv.conf");
  ASSERT_FALSE(upstream.ok());
  EXPECT_NE(upstream.status().message().find("/nonexistent/cdn-resolv.conf"), std::string::npos);
}

// A container's root as the agent sees it (/proc/PID/root), made of plain
// directories.
class ContainerRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(::testing::TempDir()) / ("cdn-root-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "etc");
    std::filesystem::create_directories(root_ / "run");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

TEST_F(ContainerRootTest, ReadsTheResolvConfUnderTheContainersRoot) {
  std::ofstream(root_ / "etc/resolv.conf") << "nameserver 10.202.7.9\n";
  auto upstream = read_resolv_conf_in_root(root_.string());
  ASSERT_TRUE(upstream.ok()) << upstream.status().to_string();
  EXPECT_EQ(upstream->text, "10.202.7.9");
}

TEST_F(ContainerRootTest, AnAbsoluteSymlinkStaysInsideTheContainersRoot) {
  // As systemd images ship it; followed from the agent's root it would name
  // a host file.
  std::ofstream(root_ / "run/cdn-resolv.conf") << "nameserver 10.202.7.8\n";
  std::filesystem::create_symlink("/run/cdn-resolv.conf", root_ / "etc/resolv.conf");
  auto upstream = read_resolv_conf_in_root(root_.string());
  ASSERT_TRUE(upstream.ok()) << upstream.status().to_string();
  EXPECT_EQ(upstream->text, "10.202.7.8");
}

TEST_F(ContainerRootTest, OnlyARegularFileIsRead) {
  ASSERT_EQ(::mkfifo((root_ / "etc/resolv.conf").c_str(), 0600), 0);
  auto upstream = read_resolv_conf_in_root(root_.string());
  ASSERT_FALSE(upstream.ok());
  EXPECT_EQ(upstream.status().message(),
            "cannot read " + root_.string() + "/etc/resolv.conf: not a regular file");
}

TEST_F(ContainerRootTest, MissingFileIsAnErrorNamingThePathUnderTheRoot) {
  auto upstream = read_resolv_conf_in_root(root_.string());
  ASSERT_FALSE(upstream.ok());
  EXPECT_NE(upstream.status().message().find(root_.string() + "/etc/resolv.conf"), std::string::npos)
      << upstream.status().message();
}

}  // namespace
}  // namespace chaos::agent::dns
