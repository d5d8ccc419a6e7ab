// The RabbitMQ lab's files, process and flags, without root or a broker.
#include "lab/rabbitmq/rabbitmq_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "lab/lab_broker.h"
#include "lab/lab_files.h"
#include "lab/lab_processes.h"
#include "lab/rabbitmq/management_api.h"
#include "lab/rabbitmq/rabbitmq_process.h"

namespace chaos::lab {
namespace {

LabLayout rabbitmq_layout(const std::string& state_dir = "/run/chaos-lab") {
  LabParams params;
  params.broker = kBrokerRabbitmq;
  params.state_dir = state_dir;
  return *LabLayout::create(params);
}

bool rabbitmq_argv_contains(const std::vector<std::string>& argv, const std::string& item) {
  return std::find(argv.begin(), argv.end(), item) != argv.end();
}

TEST(RabbitmqConfigTest, ListensOnTheNodeAddressAndClustersWithEveryNode) {
  const std::string config = render_rabbitmq_config(rabbitmq_layout(), 2);
  for (const char* line : {"listeners.tcp.1 = 10.77.0.12:5672\n", "management.tcp.ip = 10.77.0.12\n",
                           "management.tcp.port = 15672\n", "prometheus.tcp.ip = 10.77.0.12\n",
                           "prometheus.tcp.port = 15692\n",
                           "cluster_formation.peer_discovery_backend = classic_config\n",
                           "cluster_formation.classic_config.nodes.1 = rabbit@n1.lab\n",
                           "cluster_formation.classic_config.nodes.3 = rabbit@n3.lab\n",
                           "cluster_partition_handling = pause_minority\n", "default_user = chaos\n",
                           "default_pass = chaos\n", "loopback_users = none\n"}) {
    EXPECT_NE(config.find(line), std::string::npos) << line << "\n" << config;
  }
  EXPECT_EQ(config.find("nodes.4"), std::string::npos);
  EXPECT_EQ(render_rabbitmq_plugins(), "[rabbitmq_management,rabbitmq_prometheus].\n");
}

TEST(RabbitmqConfigTest, EveryPathIsInTheNodesStateDir) {
  const auto spec = rabbitmq_process_spec(rabbitmq_layout("/tmp/lab-x"), 3);
  EXPECT_EQ(spec.name, "rabbitmq-n3");
  EXPECT_EQ(spec.program, "beam.smp");
  EXPECT_EQ(spec.marker, "/tmp/lab-x/nodes/n3/rabbitmq/home");
  const std::vector<std::string> start = {"ip", "netns", "exec", "chaoslab-n3", "env", "-i"};
  ASSERT_GT(spec.argv.size(), start.size());
  EXPECT_TRUE(std::equal(start.begin(), start.end(), spec.argv.begin()));
  EXPECT_EQ(spec.argv.back(), kRabbitmqServerScript);
  for (const char* variable : {"HOME=/tmp/lab-x/nodes/n3/rabbitmq/home", "RABBITMQ_NODENAME=rabbit@n3.lab",
                               "RABBITMQ_USE_LONGNAME=true", "RABBITMQ_MNESIA_BASE=/tmp/lab-x/nodes/n3/rabbitmq/mnesia",
                               "RABBITMQ_LOG_BASE=/tmp/lab-x/nodes/n3/rabbitmq/log",
                               "RABBITMQ_CONFIG_FILE=/tmp/lab-x/nodes/n3/rabbitmq/rabbitmq.conf",
                               "RABBITMQ_ENABLED_PLUGINS_FILE=/tmp/lab-x/nodes/n3/rabbitmq/enabled_plugins",
                               "RABBITMQ_PID_FILE=/tmp/lab-x/nodes/n3/rabbitmq/rabbitmq.pid",
                               "RABBITMQ_CONF_ENV_FILE=/tmp/lab-x/nodes/n3/rabbitmq/rabbitmq-env.conf",
                               "RUNNING_UNDER_SYSTEMD=true"}) {
    EXPECT_TRUE(rabbitmq_argv_contains(spec.argv, variable)) << variable;
  }
  // Nothing may point at the package's own directories.
  for (const auto& arg : spec.argv) {
    EXPECT_EQ(arg.find("/var/lib/rabbitmq"), std::string::npos) << arg;
    EXPECT_EQ(arg.find("/var/log/rabbitmq"), std::string::npos) << arg;
    EXPECT_EQ(arg.find("/root"), std::string::npos) << arg;
  }
}

TEST(RabbitmqConfigTest, CliToolsRunInTheNodeNamespaceWithItsCookie) {
  const auto argv = rabbitmq_cli_argv(rabbitmq_layout("/tmp/lab-x"), 1, "rabbitmq-queues",
                                      {"add_member", "--vhost", "/", "chaos-probe", "rabbit@n2.lab"});
  const std::vector<std::string> start = {"ip", "netns", "exec", "chaoslab-n1", "env", "-i"};
  EXPECT_TRUE(std::equal(start.begin(), start.end(), argv.begin()));
  EXPECT_TRUE(rabbitmq_argv_contains(argv, "HOME=/tmp/lab-x/nodes/n1/rabbitmq/home"));
  const std::vector<std::string> tail = {"/usr/lib/rabbitmq/bin/rabbitmq-queues", "-n", "rabbit@n1.lab", "add_member",
                                         "--vhost", "/", "chaos-probe", "rabbit@n2.lab"};
  ASSERT_GT(argv.size(), tail.size());
  EXPECT_TRUE(std::equal(tail.rbegin(), tail.rend(), argv.rbegin()));
}

TEST(RabbitmqConfigTest, WritesNodeFilesWithAPrivateCookie) {
  const std::string dir = ::testing::TempDir() + "/rabbitmq-config-test";
  std::filesystem::remove_all(dir);
  const auto layout = rabbitmq_layout(dir);
  const std::string cookie = random_erlang_cookie();
  ASSERT_EQ(cookie.size(), 20u);
  EXPECT_TRUE(std::all_of(cookie.begin(), cookie.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  EXPECT_NE(random_erlang_cookie(), cookie);
  ASSERT_TRUE(write_rabbitmq_node_files(layout, 1, cookie).ok());
  const std::string cookie_path = dir + "/nodes/n1/rabbitmq/home/.erlang.cookie";
  struct stat info{};
  ASSERT_EQ(::stat(cookie_path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0400u);
  std::ifstream in(cookie_path);
  std::string read;
  in >> read;
  EXPECT_EQ(read, cookie);
  std::ifstream config(dir + "/nodes/n1/rabbitmq/rabbitmq.conf");
  EXPECT_NE(std::string(std::istreambuf_iterator<char>(config), {}).find("10.77.0.11:5672"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/nodes/n1/rabbitmq/mnesia"));
  // A second `up` over a stale cookie must not silently reuse it.
  EXPECT_FALSE(write_rabbitmq_node_files(layout, 1, cookie).ok());
  std::filesystem::remove_all(dir);
}

TEST(RabbitmqLabTest, ProbeSpeaksAmqpToEveryNode) {
  const auto specs = lab_process_specs(rabbitmq_layout(), "/opt/bin");
  const auto probe = std::find_if(specs.begin(), specs.end(), [](const ProcessSpec& spec) { return spec.name == "probe"; });
  ASSERT_NE(probe, specs.end());
  const std::vector<std::string> expected = {
      "/opt/bin/chaos-probe", "--broker", "rabbitmq", "--servers",
      "amqp://chaos:chaos@10.77.0.11:5672,amqp://chaos:chaos@10.77.0.12:5672,amqp://chaos:chaos@10.77.0.13:5672",
      "--metrics-listen", "127.0.0.1:19800"};
  EXPECT_EQ(probe->argv, expected);
  EXPECT_FALSE(std::any_of(specs.begin(), specs.end(), [](const ProcessSpec& spec) { return spec.program == "nats-server"; }));
  EXPECT_EQ(std::count_if(specs.begin(), specs.end(), [](const ProcessSpec& spec) { return spec.program == "beam.smp"; }), 3);
}

TEST(RabbitmqLabTest, PrometheusScrapesEveryNodeAsJobRabbitmq) {
  const std::string config = render_prometheus_config(rabbitmq_layout());
  const auto job = config.find("job_name: rabbitmq");
  ASSERT_NE(job, std::string::npos) << config;
  EXPECT_NE(config.find("[\"10.77.0.13:15692\"]\n        labels: {node: \"n3\"}", job), std::string::npos) << config;
  // The NATS lab's jobs stay as they were.
  EXPECT_EQ(render_prometheus_config(*LabLayout::create(LabParams{})).find("rabbitmq"), std::string::npos);
}

TEST(RabbitmqLabTest, InventoryLabelsTheQueueLeader) {
  const std::string inventory = render_inventory(rabbitmq_layout(), "n3");
  EXPECT_NE(inventory.find("name = \"n3\", queue_leader = \"true\""), std::string::npos) << inventory;
  EXPECT_NE(inventory.find("name = \"n1\", queue_leader = \"false\""), std::string::npos);
  EXPECT_EQ(inventory.find("stream_leader"), std::string::npos);
}

TEST(RabbitmqLabTest, BrokerFlagIsValidatedAndPodmanRefused) {
  LabParams params;
  params.broker = "kafka";
  auto refused = LabLayout::create(params);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--broker 'kafka'"), std::string::npos);
  params.broker = kBrokerRabbitmq;
  params.runtime = kRuntimePodman;
  refused = LabLayout::create(params);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not supported yet"), std::string::npos) << refused.status().message();
  params.runtime = kRuntimeProcess;
  EXPECT_TRUE(LabLayout::create(params).ok());
}

TEST(RabbitmqLabTest, RecordedBrokerDefaultsToNats) {
  const std::string dir = ::testing::TempDir() + "/recorded-broker-test";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir + "/broker");
  EXPECT_EQ(recorded_broker(dir), kBrokerNats);
  std::ofstream(dir + "/broker") << "rabbitmq\n";
  EXPECT_EQ(recorded_broker(dir), kBrokerRabbitmq);
  std::ofstream(dir + "/broker") << "garbage\n";
  EXPECT_EQ(recorded_broker(dir), kBrokerNats);
  std::filesystem::remove_all(dir);
}

TEST(RabbitmqLabTest, ProbeQueueIsAThreeReplicaQuorumQueue) {
  EXPECT_EQ(probe_queue_api_path(), "/api/queues/%2F/chaos-probe");
  EXPECT_EQ(probe_queue_declaration(),
            R"({"arguments":{"x-queue-type":"quorum","x-quorum-initial-group-size":3},"auto_delete":false,"durable":true})");
}

}  // namespace
}  // namespace chaos::lab
