#include "lab/lab_layout.h"

#include <gtest/gtest.h>

namespace chaos::lab {
namespace {

LabLayout make(LabParams params) {
  auto layout = LabLayout::create(std::move(params));
  EXPECT_TRUE(layout.ok()) << layout.status().to_string();
  return *layout;
}

TEST(LabLayoutTest, DefaultNamesFollowTheLabConstants) {
  const LabLayout layout = make(LabParams{});
  EXPECT_EQ(layout.netns(1), "chaoslab-n1");
  EXPECT_EQ(layout.bridge(), "chaoslab0");
  EXPECT_EQ(layout.bridge_ip(), "10.77.0.1");
  EXPECT_EQ(layout.node_ip(3), "10.77.0.13");
  EXPECT_EQ(layout.node_host(2), "n2.lab");
  EXPECT_EQ(layout.inventory_path(), "/run/chaos-lab/inventory.toml");
  EXPECT_EQ(layout.prometheus_url(), "http://127.0.0.1:19090");
  EXPECT_EQ(layout.nats_urls(), "nats://10.77.0.11:4222,nats://10.77.0.12:4222,nats://10.77.0.13:4222");
}

TEST(LabLayoutTest, PrefixSubnetAndStateDirAreParameters) {
  LabParams params;
  params.prefix = "clb";
  params.subnet = "10.78.0";
  params.state_dir = "/tmp/x/";
  const LabLayout layout = make(params);
  EXPECT_EQ(layout.netns(2), "clb-n2");
  EXPECT_EQ(layout.host_link(2), "clb-v2");
  EXPECT_EQ(layout.node_ip(1), "10.78.0.11");
  EXPECT_EQ(layout.pidfile("nats-n1"), "/tmp/x/run/nats-n1.pid");
}

TEST(LabLayoutTest, LongestPrefixStillFitsInterfaceNames) {
  LabParams params;
  params.prefix = "abcdefghijkl";
  params.nodes = 9;
  const LabLayout layout = make(params);
  EXPECT_LE(layout.host_link(9).size(), 15u);
  EXPECT_LE(layout.bridge().size(), 15u);
}

TEST(LabLayoutTest, RefusesHostileParameters) {
  auto refused = [](LabParams params) { return !LabLayout::create(std::move(params)).ok(); };
  LabParams params;
  params.prefix = "abcdefghijklm";  // too long for interface names
  EXPECT_TRUE(refused(params));
  for (const char* prefix : {"", "Lab", "a-b", "a b", "1lab", "lab;rm", "../x"}) {
    params = LabParams{};
    params.prefix = prefix;
    EXPECT_TRUE(refused(params)) << prefix;
  }
  for (const char* subnet : {"10.77", "10.77.0.0", "256.1.1", "127.0.0", "0.1.2", "a.b.c", "10.77.0 ", "224.0.0"}) {
    params = LabParams{};
    params.subnet = subnet;
    EXPECT_TRUE(refused(params)) << subnet;
  }
  for (int nodes : {0, -1, 10, 1000}) {
    params = LabParams{};
    params.nodes = nodes;
    EXPECT_TRUE(refused(params)) << nodes;
  }
  for (const char* dir : {"", "/", "relative/dir"}) {
    params = LabParams{};
    params.state_dir = dir;
    EXPECT_TRUE(refused(params)) << dir;
  }
  params = LabParams{};
  params.probe_port = params.prometheus_port;
  EXPECT_TRUE(refused(params));
  params = LabParams{};
  params.probe_port = 70000;
  EXPECT_TRUE(refused(params));
}

}  // namespace
}  // namespace chaos::lab
