#include "lab/lab_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "lab/lab_processes.h"

namespace chaos::lab {
namespace {

LabLayout default_layout() { return *LabLayout::create(LabParams{}); }

TEST(LabFilesTest, NatsConfigRoutesToEveryNodeByLabName) {
  const std::string config = render_nats_config(default_layout(), 2);
  EXPECT_NE(config.find("server_name: \"n2\""), std::string::npos);
  for (const char* route : {"nats-route://n1.lab:6222", "nats-route://n2.lab:6222", "nats-route://n3.lab:6222"}) {
    EXPECT_NE(config.find(route), std::string::npos) << route;
  }
  EXPECT_NE(config.find("store_dir: \"/run/chaos-lab/nodes/n2/jetstream\""), std::string::npos);
  EXPECT_NE(config.find("http: \"0.0.0.0:8222\""), std::string::npos);
}

TEST(LabFilesTest, PrometheusScrapesAgentsAndProbeEverySecond) {
  const std::string config = render_prometheus_config(default_layout());
  EXPECT_NE(config.find("scrape_interval: 1s"), std::string::npos);
  EXPECT_NE(config.find("job_name: chaos-agent"), std::string::npos);
  EXPECT_NE(config.find("\"10.77.0.13:9701\""), std::string::npos);
  EXPECT_NE(config.find("job_name: chaos-probe"), std::string::npos);
  EXPECT_NE(config.find("\"127.0.0.1:19800\""), std::string::npos);
}

TEST(LabFilesTest, DnsAndResolvConfPointAtTheBridge) {
  EXPECT_EQ(render_dns_hosts(default_layout()),
            "10.77.0.11 n1.lab n1\n10.77.0.12 n2.lab n2\n10.77.0.13 n3.lab n3\n");
  EXPECT_EQ(render_resolv_conf(default_layout()).rfind("nameserver 10.77.0.1\n", 0), 0u);
}

TEST(LabFilesTest, InventoryMarksTheStreamLeader) {
  const std::string inventory = render_inventory(default_layout(), "n2");
  EXPECT_NE(inventory.find("address = \"10.77.0.11:9700\"\nnode = \"n1\"\nlabels = { role = \"broker\", name = "
                           "\"n1\", stream_leader = \"false\" }"),
            std::string::npos)
      << inventory;
  EXPECT_NE(inventory.find("name = \"n2\", stream_leader = \"true\""), std::string::npos);
  EXPECT_EQ(render_inventory(default_layout()).find("\"true\""), std::string::npos);
}

TEST(LabProcessesTest, NodeProcessesRunInTheirNamespaceWithLabFlags) {
  const auto specs = lab_process_specs(default_layout(), "/opt/bin");
  ASSERT_EQ(specs.size(), 9u);  // dnsmasq, 3 nats, 3 agents, prometheus, probe
  EXPECT_EQ(specs.front().name, "dnsmasq");
  EXPECT_EQ(specs.back().name, "probe");
  const auto& agent = specs[4];
  EXPECT_EQ(agent.name, "agent-n1");
  const std::vector<std::string> expected = {
      "ip", "netns", "exec", "chaoslab-n1", "/opt/bin/chaos-agent", "--listen", "10.77.0.11:9700",
      "--metrics-listen", "10.77.0.11:9701", "--node-name", "n1", "--state-dir", "/run/chaos-lab/nodes/n1/agent",
      "--process-scope", "netns", "--label", "role=broker", "--label", "name=n1",
      "--cgroup-root", "/proc/" + std::to_string(::getpid()) + "/root/sys/fs/cgroup",
      "--tls-cert", "/run/chaos-lab/certs/n1.crt", "--tls-key", "/run/chaos-lab/certs/n1.key",
      "--tls-client-ca", "/run/chaos-lab/certs/ca.crt"};
  EXPECT_EQ(agent.argv, expected);
  for (const auto& spec : specs) {
    bool marker_in_argv = false;
    for (const auto& arg : spec.argv) marker_in_argv = marker_in_argv || arg.find(spec.marker) != std::string::npos;
    EXPECT_TRUE(marker_in_argv) << spec.name << ": down finds processes by this marker";
    EXPECT_EQ(spec.restart_delay, std::chrono::milliseconds(2000));
  }
}

}  // namespace
}  // namespace chaos::lab
