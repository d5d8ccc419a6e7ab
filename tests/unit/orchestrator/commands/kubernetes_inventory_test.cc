#include "orchestrator/commands/kubernetes_inventory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/experiment/inventory.h"
#include "tests/support/temp_dir.h"

namespace chaos::orchestrator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using nlohmann::json;

json pod(const std::string& name, const std::string& node, const std::string& host_ip, bool ready = true,
         const std::string& phase = "Running") {
  return {
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", "chaos"},
        {"labels",
         {{"app.kubernetes.io/name", "chaos-agent"}, {"zone", "a"}, {"controller-revision-hash", "6d5f"}}}}},
      {"spec", {{"nodeName", node}}},
      {"status",
       {{"phase", phase},
        {"hostIP", host_ip},
        {"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}},
  };
}

std::string pod_list(const std::vector<json>& pods) {
  return json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", pods}}.dump();
}

TEST(KubernetesInventoryTest, ListsOneAgentPerReadyPodThatChaosctlLoads) {
  auto inventory = inventory_from_pods_json(
      pod_list({pod("chaos-agent-b", "node-2", "10.0.0.12"), pod("chaos-agent-a", "node-1", "10.0.0.11")}), {});
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  EXPECT_TRUE(inventory->warnings.empty());

  test_support::TempDir dir;
  auto agents = load_inventory(dir.write("inventory.toml", inventory->toml));
  ASSERT_TRUE(agents.ok()) << agents.status().message() << "\n" << inventory->toml;
  ASSERT_EQ(agents->size(), 2u);
  EXPECT_EQ((*agents)[0].node, "node-1");
  EXPECT_EQ((*agents)[0].address, "10.0.0.11:9700");
  EXPECT_EQ((*agents)[0].security.server_name, "node-1");
  EXPECT_EQ((*agents)[0].labels, (std::map<std::string, std::string>{{"app.kubernetes.io/name", "chaos-agent"},
                                                                      {"zone", "a"}}));
  EXPECT_EQ((*agents)[1].address, "10.0.0.12:9700");
}

// The pod name goes into a comment: a line break in it would end the
// comment and add an agent of the API server's choosing.
TEST(KubernetesInventoryTest, APodNameCannotAddLinesToTheInventory) {
  auto inventory = inventory_from_pods_json(
      pod_list({pod("agent-a\naddress = \"203.0.113.66:7070\"\nnode = \"evil\"\n[[agents]]", "node-1", "10.0.0.11")}),
      {});
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  test_support::TempDir dir;
  auto agents = load_inventory(dir.write("inventory.toml", inventory->toml));
  ASSERT_TRUE(agents.ok()) << agents.status().message() << "\n" << inventory->toml;
  ASSERT_EQ(agents->size(), 1u) << inventory->toml;
  EXPECT_EQ((*agents)[0].address, "10.0.0.11:9700");
  EXPECT_THAT(inventory->toml, HasSubstr("# pod chaos/agent-a?address = \"203.0.113.66:7070\"?node"));
}

TEST(KubernetesInventoryTest, PortServerNameAndTlsComeFromTheOptions) {
  KubernetesInventoryOptions options;
  options.port = 19700;
  options.server_name = "chaos-agent";
  options.tls_ca = "pki/ca.crt";
  options.tls_cert = "pki/chaosctl.crt";
  options.tls_key = "pki/chaosctl.key";
  auto inventory = inventory_from_pods_json(pod_list({pod("chaos-agent-a", "node-1", "fd00::11")}), options);
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  EXPECT_THAT(inventory->toml, HasSubstr("address = \"[fd00::11]:19700\""));
  EXPECT_THAT(inventory->toml, HasSubstr("server_name = \"chaos-agent\""));
  EXPECT_THAT(inventory->toml, HasSubstr("[tls]\nca = \"pki/ca.crt\"\ncert = \"pki/chaosctl.crt\""));

  options.tls_key.clear();
  EXPECT_THAT(inventory_from_pods_json(pod_list({pod("chaos-agent-a", "node-1", "10.0.0.11")}), options)
                  .status()
                  .message(),
              HasSubstr("[tls] needs all three of --tls-ca, --tls-cert and --tls-key"));
}

TEST(KubernetesInventoryTest, SkipsPodsNotRunningAndReadyWithAWarningNamingThem) {
  json terminating = pod("chaos-agent-old", "node-3", "10.0.0.13");
  terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  auto inventory = inventory_from_pods_json(
      pod_list({pod("chaos-agent-a", "node-1", "10.0.0.11"), pod("chaos-agent-b", "node-2", "10.0.0.12", false),
                pod("chaos-agent-c", "node-4", "", true, "Pending"), terminating,
                pod("chaos-agent-z", "node-1", "10.0.0.11")}),
      {});
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  EXPECT_THAT(inventory->warnings,
              ElementsAre("skipping pod chaos/chaos-agent-b: not Ready", "skipping pod chaos/chaos-agent-c: phase Pending",
                          "skipping pod chaos/chaos-agent-old: being deleted",
                          "skipping pod chaos/chaos-agent-z: node node-1 already has pod chaos/chaos-agent-a"));
  EXPECT_THAT(inventory->toml, HasSubstr("node = \"node-1\""));
  EXPECT_THAT(inventory->toml, ::testing::Not(HasSubstr("node-2")));
}

TEST(KubernetesInventoryTest, NoReadyPodIsNotFound) {
  auto inventory = inventory_from_pods_json(pod_list({pod("chaos-agent-b", "node-2", "10.0.0.12", false)}), {});
  ASSERT_FALSE(inventory.ok());
  EXPECT_EQ(inventory.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(inventory.status().message(), HasSubstr("no Running and Ready chaos-agent pod among 1 pod(s)"));
}

TEST(KubernetesInventoryTest, MalformedInputIsAnErrorNamingWhatIsWrong) {
  EXPECT_THAT(inventory_from_pods_json("{\"items\": [", {}).status().message(), HasSubstr("pods JSON: "));
  EXPECT_THAT(inventory_from_pods_json("[]", {}).status().message(), HasSubstr("expected an object"));
  EXPECT_THAT(inventory_from_pods_json("{\"items\": 3}", {}).status().message(), HasSubstr("\"items\""));
  json no_host_ip = pod("chaos-agent-a", "node-1", "10.0.0.11");
  no_host_ip["status"].erase("hostIP");
  EXPECT_THAT(inventory_from_pods_json(pod_list({no_host_ip}), {}).status().message(),
              HasSubstr("items[0] (pod chaos/chaos-agent-a).status.hostIP: expected a non-empty string"));
  EXPECT_THAT(inventory_from_pods_json(pod_list({pod("chaos-agent-a", "node-1", "10.0.0.11; rm")}), {})
                  .status()
                  .message(),
              HasSubstr("status.hostIP: '10.0.0.11; rm' is not an IP address"));
  EXPECT_THAT(inventory_from_pods_json(pod_list({json{{"metadata", {{"name", 7}}}}}), {}).status().message(),
              HasSubstr("items[0].metadata.name: expected a non-empty string"));
}

TEST(KubernetesInventoryTest, InputLargerThanTheLimitIsRefusedBeforeParsing) {
  const std::string huge(kMaxPodsJsonBytes + 1, ' ');
  auto inventory = inventory_from_pods_json(huge, {});
  ASSERT_FALSE(inventory.ok());
  EXPECT_THAT(inventory.status().message(), HasSubstr("more than the limit"));
}

TEST(KubernetesInventoryTest, LabelsWithQuotesAndControlCharactersStayValidToml) {
  json odd = pod("chaos-agent-a", "node-1", "10.0.0.11");
  odd["metadata"]["labels"]["note"] = "say \"hi\"\\\n";
  auto inventory = inventory_from_pods_json(pod_list({odd}), {});
  ASSERT_TRUE(inventory.ok()) << inventory.status().message();
  test_support::TempDir dir;
  auto agents = load_inventory(dir.write("inventory.toml", inventory->toml));
  ASSERT_TRUE(agents.ok()) << agents.status().message() << "\n" << inventory->toml;
  EXPECT_EQ((*agents)[0].labels.at("note"), "say \"hi\"\\\n");
}

}  // namespace
}  // namespace chaos::orchestrator
