// deploy/kubernetes/ checked offline: kubectl cannot validate without an
// API server, so these tests read the YAML and check what the agent needs
// and what it must not get.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "tests/unit/deploy/yaml_documents.h"

namespace chaos::deploy::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsSupersetOf;
using ::testing::UnorderedElementsAre;
using nlohmann::json;

std::string source_dir() {
  const char* dir = std::getenv("CHAOS_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class KubernetesManifestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fs::path(source_dir()) / "deploy/kubernetes")) {
      if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_FALSE(files.empty()) << "no manifests under " << source_dir() << "/deploy/kubernetes";
    for (const auto& file : files) {
      auto documents = parse_yaml_documents(read_text(file), file.filename().string());
      ASSERT_TRUE(documents.ok()) << documents.status().message();
      for (auto& document : *documents) objects_.push_back(std::move(document));
    }
  }

  // Not const: a missing key then reads as null instead of undefined behaviour.
  json& object(const std::string& kind) {
    for (json& candidate : objects_) {
      if (candidate.value("kind", "") == kind) return candidate;
    }
    static json none;
    ADD_FAILURE() << "no " << kind << " in deploy/kubernetes";
    return none;
  }
  json& pod() { return object("DaemonSet")["spec"]["template"]["spec"]; }
  json& agent_container() { return pod()["containers"][0]; }
  json& volume(const std::string& name) {
    for (json& candidate : pod()["volumes"]) {
      if (candidate["name"] == name) return candidate;
    }
    static json none;
    ADD_FAILURE() << "no volume " << name;
    return none;
  }
  json& mount_of(const std::string& volume_name) {
    for (json& mount : agent_container()["volumeMounts"]) {
      if (mount["name"] == volume_name) return mount;
    }
    static json none;
    ADD_FAILURE() << "volume " << volume_name << " is not mounted";
    return none;
  }
  toml::table agent_config() {
    return toml::parse(object("ConfigMap")["data"]["agent.toml"].get<std::string>());
  }

  std::vector<json> objects_;
};

TEST_F(KubernetesManifestsTest, EveryObjectIsInTheChaosNamespaceAndEveryKindIsThere) {
  std::multiset<std::string> kinds;
  for (json& item : objects_) {
    kinds.insert(item["kind"].get<std::string>());
    if (item["kind"] != "Namespace") {
      EXPECT_EQ(item["metadata"]["namespace"], "chaos") << item["kind"];
    }
  }
  EXPECT_THAT(kinds, UnorderedElementsAre("Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "Service"));
  EXPECT_EQ(object("Namespace")["metadata"]["name"], "chaos");
}

TEST_F(KubernetesManifestsTest, TheAgentSharesTheHostsPidAndNetworkButIsNotPrivileged) {
  EXPECT_EQ(pod()["hostPID"], true);
  EXPECT_EQ(pod()["hostNetwork"], true);
  EXPECT_EQ(pod()["serviceAccountName"], object("ServiceAccount")["metadata"]["name"]);
  EXPECT_EQ(object("ServiceAccount")["automountServiceAccountToken"], false);
  json& security = agent_container()["securityContext"];
  EXPECT_EQ(security["privileged"], false);
  EXPECT_EQ(security["allowPrivilegeEscalation"], false);
  EXPECT_EQ(security["readOnlyRootFilesystem"], true);
  EXPECT_THAT(security["capabilities"]["drop"], ElementsAre("ALL"));
  EXPECT_THAT(security["capabilities"]["add"].get<std::vector<std::string>>(),
              UnorderedElementsAre("NET_ADMIN", "NET_RAW", "KILL", "SYS_ADMIN", "DAC_OVERRIDE", "SYS_PTRACE"));
}

TEST_F(KubernetesManifestsTest, TheCapabilitiesCoverTheSystemdUnits) {
  const std::string unit = read_text(fs::path(source_dir()) / "deploy/chaos-agent.service");
  const auto line_start = unit.find("\nCapabilityBoundingSet=");
  ASSERT_NE(line_start, std::string::npos);
  std::istringstream names(unit.substr(line_start + 23, unit.find('\n', line_start + 1) - line_start - 23));
  std::vector<std::string> unit_capabilities;
  for (std::string name; names >> name;) unit_capabilities.push_back(name.substr(4));  // without CAP_
  ASSERT_FALSE(unit_capabilities.empty());
  EXPECT_THAT(agent_container()["securityContext"]["capabilities"]["add"].get<std::vector<std::string>>(),
              IsSupersetOf(unit_capabilities));
}

TEST_F(KubernetesManifestsTest, MountsMatchTheAgentsConfig) {
  const toml::table config = agent_config();
  // The runtime socket: read-only, a Socket on the host, where the config looks.
  EXPECT_EQ(mount_of("runtime-socket")["readOnly"], true);
  EXPECT_EQ(volume("runtime-socket")["hostPath"]["type"], "Socket");
  EXPECT_EQ(mount_of("runtime-socket")["mountPath"], config["containers"]["containerd_socket"].value_or(std::string()));
  // mTLS from the Secret, read-only, where [tls] points.
  EXPECT_EQ(volume("tls")["secret"]["secretName"], "chaos-agent-tls");
  EXPECT_EQ(volume("tls")["secret"]["defaultMode"], 0400);
  EXPECT_EQ(mount_of("tls")["readOnly"], true);
  const std::string tls_dir = mount_of("tls")["mountPath"].get<std::string>() + "/";
  for (const char* key : {"cert", "key", "client_ca"}) {
    EXPECT_EQ(config["tls"][key].value_or(std::string()).rfind(tls_dir, 0), 0u) << key;
  }
  // The journal survives the pod: a hostPath at the config's state_dir.
  EXPECT_EQ(volume("state")["hostPath"]["path"], "/var/lib/chaos-agent");
  EXPECT_EQ(mount_of("state")["mountPath"], config["state_dir"].value_or(std::string()));
  EXPECT_EQ(mount_of("config")["mountPath"], "/etc/chaos-agent/agent.toml");
  EXPECT_EQ(volume("config")["configMap"]["name"], object("ConfigMap")["metadata"]["name"]);
  EXPECT_EQ(volume("cgroup")["hostPath"]["path"], "/sys/fs/cgroup");
  std::set<std::string> volumes;
  std::set<std::string> mounted;
  for (const json& declared : pod()["volumes"]) volumes.insert(declared["name"].get<std::string>());
  for (const json& mount : agent_container()["volumeMounts"]) mounted.insert(mount["name"].get<std::string>());
  EXPECT_EQ(volumes, mounted);
}

TEST_F(KubernetesManifestsTest, ProbesPortsAndResourcesMatchTheConfig) {
  const toml::table config = agent_config();
  EXPECT_EQ(config["listen"].value_or(std::string()), "0.0.0.0:9700");
  EXPECT_EQ(config["metrics_listen"].value_or(std::string()), "0.0.0.0:9701");
  EXPECT_EQ(agent_container()["livenessProbe"]["httpGet"]["port"], 9701);
  EXPECT_EQ(agent_container()["livenessProbe"]["httpGet"]["path"], "/metrics");
  EXPECT_EQ(agent_container()["readinessProbe"]["tcpSocket"]["port"], 9700);
  for (const char* bound : {"requests", "limits"}) {
    EXPECT_TRUE(agent_container()["resources"][bound].contains("cpu")) << bound;
    EXPECT_TRUE(agent_container()["resources"][bound].contains("memory")) << bound;
  }
  json& service = object("Service")["spec"];
  EXPECT_EQ(service["clusterIP"], "None");
  EXPECT_EQ(service["selector"], object("DaemonSet")["spec"]["selector"]["matchLabels"]);
  EXPECT_EQ(object("DaemonSet")["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"], "chaos-agent");
}

}  // namespace
}  // namespace chaos::deploy::testing
