#include "agent/targets/runtime/container_selection.h"

#include <gtest/gtest.h>

#include <set>

namespace chaos::agent {
namespace {

ContainerInfo container(std::string runtime, std::string id, std::string name,
                        std::map<std::string, std::string> labels = {}) {
  ContainerInfo info;
  info.runtime = std::move(runtime);
  info.id = std::move(id);
  info.name = std::move(name);
  info.labels = std::move(labels);
  info.running = true;
  return info;
}

std::vector<std::string> names_of(const StatusOr<std::vector<ContainerInfo>>& chosen) {
  std::vector<std::string> names;
  if (!chosen.ok()) return {"error: " + chosen.status().message()};
  for (const auto& info : *chosen) names.push_back(info.name);
  return names;
}

// A Kubernetes node as dockershim or cri-dockerd lays it out: each pod has
// a sandbox carrying the pod's labels, its containers carry only the CRI
// labels.
std::vector<ContainerInfo> kubernetes_node() {
  return {
      container("docker", "a1a1a1a1", "k8s_POD_nats-0_prod_uid0_0",
                {{"io.kubernetes.docker.type", "podsandbox"},
                 {"io.kubernetes.pod.namespace", "prod"},
                 {"io.kubernetes.pod.name", "nats-0"},
                 {"io.kubernetes.pod.uid", "uid0"},
                 {"app", "nats"}}),
      container("docker", "b2b2b2b2", "k8s_nats_nats-0_prod_uid0_0",
                {{"io.kubernetes.docker.type", "container"},
                 {"io.kubernetes.pod.namespace", "prod"},
                 {"io.kubernetes.pod.name", "nats-0"},
                 {"io.kubernetes.pod.uid", "uid0"},
                 {"io.kubernetes.container.name", "nats"}}),
      container("docker", "c3c3c3c3", "k8s_exporter_nats-0_prod_uid0_0",
                {{"io.kubernetes.pod.namespace", "prod"},
                 {"io.kubernetes.pod.name", "nats-0"},
                 {"io.kubernetes.pod.uid", "uid0"},
                 {"io.kubernetes.container.name", "exporter"}}),
      // Another pod in the same namespace, other labels; its sandbox is
      // marked the containerd way (container name POD), without a uid.
      container("docker", "d4d4d4d4", "k8s_POD_web-0_prod",
                {{"io.kubernetes.container.name", "POD"},
                 {"io.kubernetes.pod.namespace", "prod"},
                 {"io.kubernetes.pod.name", "web-0"},
                 {"app", "web"}}),
      container("docker", "e5e5e5e5", "k8s_web_web-0_prod",
                {{"io.kubernetes.pod.namespace", "prod"},
                 {"io.kubernetes.pod.name", "web-0"},
                 {"io.kubernetes.container.name", "web"}}),
      // A pod without a sandbox in the listing: its own labels count.
      container("docker", "f6f6f6f6", "k8s_nats_nats-1_staging",
                {{"io.kubernetes.pod.namespace", "staging"},
                 {"io.kubernetes.pod.name", "nats-1"},
                 {"io.kubernetes.container.name", "nats"},
                 {"app", "nats"}}),
  };
}

TEST(ContainerSelection, MatchesRuntimeNameIdPrefixAndEveryLabel) {
  const std::vector<ContainerInfo> running = {
      container("podman", "0123abcd", "nats-1", {{"app", "nats"}, {"tier", "broker"}}),
      container("podman", "4567abcd", "nats-2", {{"app", "nats"}}),
      container("docker", "0123ffff", "nats-1", {{"app", "nats"}, {"tier", "broker"}}),
  };
  v1::ContainerSelector selector;
  selector.set_name("nats-1");
  EXPECT_EQ(names_of(select_containers(selector, running, "target", 1)),
            (std::vector<std::string>{"nats-1", "nats-1"}));
  selector.set_runtime("docker");
  auto chosen = select_containers(selector, running, "target", 1);
  ASSERT_TRUE(chosen.ok());
  ASSERT_EQ(chosen->size(), 1u);
  EXPECT_EQ(chosen->front().id, "0123ffff");

  v1::ContainerSelector by_id;
  by_id.set_id_prefix("0123");
  EXPECT_EQ(select_containers(by_id, running, "target", 1)->size(), 2u);
  by_id.set_id_prefix("4567AB");  // hex is case-insensitive
  EXPECT_EQ(names_of(select_containers(by_id, running, "target", 1)), std::vector<std::string>{"nats-2"});

  v1::ContainerSelector by_labels;
  (*by_labels.mutable_labels())["app"] = "nats";
  EXPECT_EQ(select_containers(by_labels, running, "target", 1)->size(), 3u);
  (*by_labels.mutable_labels())["tier"] = "broker";
  EXPECT_EQ(select_containers(by_labels, running, "target", 1)->size(), 2u);
  (*by_labels.mutable_labels())["tier"] = "edge";
  EXPECT_FALSE(select_containers(by_labels, running, "target", 1).ok());
}

TEST(ContainerSelection, KubernetesFieldsComeFromTheCriLabels) {
  const auto node = kubernetes_node();
  v1::ContainerSelector selector;
  selector.set_pod_namespace("prod");
  // Every workload container of the namespace, never a sandbox.
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)),
            (std::vector<std::string>{"k8s_nats_nats-0_prod_uid0_0", "k8s_exporter_nats-0_prod_uid0_0",
                                      "k8s_web_web-0_prod"}));
  selector.set_pod_name("nats-0");
  EXPECT_EQ(select_containers(selector, node, "target", 1)->size(), 2u);
  selector.set_container_name("nats");
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)),
            std::vector<std::string>{"k8s_nats_nats-0_prod_uid0_0"});
}

TEST(ContainerSelection, PodLabelsAreTheSandboxsLabelsOrElseTheContainersOwn) {
  const auto node = kubernetes_node();
  v1::ContainerSelector selector;
  selector.set_pod_namespace("prod");
  (*selector.mutable_pod_labels())["app"] = "nats";
  // By pod uid: both containers of nats-0, though neither carries app=nats.
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)),
            (std::vector<std::string>{"k8s_nats_nats-0_prod_uid0_0", "k8s_exporter_nats-0_prod_uid0_0"}));
  (*selector.mutable_pod_labels())["app"] = "web";
  // By pod namespace and name, the sandbox marked by container name POD.
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)), std::vector<std::string>{"k8s_web_web-0_prod"});
  selector.set_pod_namespace("staging");
  (*selector.mutable_pod_labels())["app"] = "nats";
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)),
            std::vector<std::string>{"k8s_nats_nats-1_staging"});
}

TEST(ContainerSelection, ASandboxIsNeverATarget) {
  v1::ContainerSelector selector;
  selector.set_name("k8s_POD_nats-0_prod_uid0_0");
  const auto chosen = select_containers(selector, kubernetes_node(), "target", 1);
  EXPECT_EQ(chosen.status().code(), StatusCode::kNotFound);
}

// containerd's CRI plugin: every container is named by its id, the sandbox
// is marked io.cri-containerd.kind=sandbox and carries the pod's labels.
TEST(ContainerSelection, ACriContainerdSandboxIsNeverATargetAndCarriesThePodLabels) {
  const std::map<std::string, std::string> pod = {{"io.kubernetes.pod.namespace", "prod"},
                                                  {"io.kubernetes.pod.name", "nats-0"},
                                                  {"io.kubernetes.pod.uid", "uid0"}};
  auto sandbox_labels = pod;
  sandbox_labels["io.cri-containerd.kind"] = "sandbox";
  sandbox_labels["app"] = "nats";
  auto nats_labels = pod;
  nats_labels["io.cri-containerd.kind"] = "container";
  nats_labels["io.kubernetes.container.name"] = "nats";
  const std::vector<ContainerInfo> node = {container("containerd", "c1c1c1c1", "c1c1c1c1", sandbox_labels),
                                           container("containerd", "d2d2d2d2", "d2d2d2d2", nats_labels)};
  v1::ContainerSelector selector;
  selector.set_pod_namespace("prod");
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)), std::vector<std::string>{"d2d2d2d2"});
  (*selector.mutable_pod_labels())["app"] = "nats";
  EXPECT_EQ(names_of(select_containers(selector, node, "target", 1)), std::vector<std::string>{"d2d2d2d2"});
  v1::ContainerSelector by_id;
  by_id.set_id_prefix("c1c1");
  EXPECT_EQ(select_containers(by_id, node, "target", 1).status().code(), StatusCode::kNotFound);
}

TEST(ContainerSelection, NothingMatchedIsNotFoundNamingTheSelector) {
  v1::ContainerSelector selector;
  selector.set_runtime("podman");
  selector.set_name("nats-9");
  (*selector.mutable_labels())["app"] = "nats";
  const auto chosen = select_containers(selector, kubernetes_node(), "target", 1);
  EXPECT_EQ(chosen.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(chosen.status().message(),
            "target: no running container matches podman container name=nats-9 labels{app=nats}");
}

std::vector<ContainerInfo> many(int n) {
  std::vector<ContainerInfo> out;
  for (int i = 0; i < n; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "%08x", 0x1000 + i);
    out.push_back(container("podman", id, "w" + std::to_string(i), {{"app", "w"}}));
  }
  return out;
}

TEST(ContainerSelection, CountAndPercentSampleReproduciblyForOneSeed) {
  v1::ContainerSelector selector;
  (*selector.mutable_labels())["app"] = "w";
  selector.set_count(3);
  auto listing = many(20);
  const auto first = names_of(select_containers(selector, listing, "target", 42));
  EXPECT_EQ(first.size(), 3u);
  // The listing's order does not matter, only the seed.
  std::reverse(listing.begin(), listing.end());
  EXPECT_EQ(names_of(select_containers(selector, listing, "target", 42)), first);
  std::set<std::vector<std::string>> samples;
  for (std::uint64_t seed = 0; seed < 8; ++seed)
    samples.insert(names_of(select_containers(selector, listing, "target", seed)));
  EXPECT_GT(samples.size(), 1u) << "the seed picks the sample";

  selector.set_count(0);
  selector.set_percent(10);  // 10% of 20 = 2
  EXPECT_EQ(select_containers(selector, listing, "target", 1)->size(), 2u);
  selector.set_percent(11);  // 2.2, rounded up
  EXPECT_EQ(select_containers(selector, listing, "target", 1)->size(), 3u);
  selector.set_percent(0.1);  // at least one
  EXPECT_EQ(select_containers(selector, listing, "target", 1)->size(), 1u);
  selector.set_percent(0);
  selector.set_count(50);  // more than match: all of them
  EXPECT_EQ(select_containers(selector, listing, "target", 1)->size(), 20u);
}

}  // namespace
}  // namespace chaos::agent
