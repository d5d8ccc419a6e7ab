// chaosctl inject's container target flags, and how chaosctl prints the
// containers a fault acts in.
#include "orchestrator/commands/container_target_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <utility>

#include "orchestrator/commands/command_support.h"

namespace chaos::orchestrator {
namespace {

using ::testing::HasSubstr;

StatusOr<std::optional<v1::ContainerSelector>> selector_from(const std::string& arguments) {
  CLI::App app;
  ContainerTargetFlags flags;
  add_container_target_options(app, flags);
  app.parse(arguments, false);
  return container_selector_from_flags(flags);
}

TEST(ContainerTargetFlags, WithoutThemTheFaultActsOnTheHost) {
  auto selector = selector_from("");
  ASSERT_TRUE(selector.ok()) << selector.status().message();
  EXPECT_FALSE(selector->has_value());
}

TEST(ContainerTargetFlags, BecomeTheSelector) {
  auto selector = selector_from(
      "--runtime podman --container-name nats-1 --container-id 3f2a9c --container-label app=nats "
      "--container-label tier=broker");
  ASSERT_TRUE(selector.ok()) << selector.status().message();
  ASSERT_TRUE(selector->has_value());
  const v1::ContainerSelector& target = **selector;
  EXPECT_EQ(target.runtime(), "podman");
  EXPECT_EQ(target.name(), "nats-1");
  EXPECT_EQ(target.id_prefix(), "3f2a9c");
  EXPECT_EQ(target.labels().size(), 2u);
  EXPECT_EQ(target.labels().at("tier"), "broker");

  auto pod = selector_from("--pod-namespace messaging --pod-name nats-0 --pod-label app=nats "
                           "--container-name-in-pod nats");
  ASSERT_TRUE(pod.ok()) << pod.status().message();
  EXPECT_EQ((*pod)->pod_namespace(), "messaging");
  EXPECT_EQ((*pod)->pod_name(), "nats-0");
  EXPECT_EQ((*pod)->pod_labels().at("app"), "nats");
  EXPECT_EQ((*pod)->container_name(), "nats");
}

TEST(ContainerTargetFlags, ErrorsNameTheFlag) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--container-id 3f2", "--container-id: 4 to 64 hex characters"},
      {"--container-id 3f2g9c", "--container-id: 4 to 64 hex characters"},
      {"--pod-name nats-0", "--pod-namespace: required with pod_name, pod_labels or container_name"},
      {"--runtime lxc --container-name a", "--runtime: 'lxc' is not one of podman, docker, containerd"},
      {"--runtime podman",
       "--runtime: give --container-name, --container-id, --container-label or --pod-namespace too (a runtime "
       "alone would match every container on the node)"},
      {"--container-label app", "--container-label 'app': expected key=value"},
      {"--container-label a=1 --container-label a=2", "--container-label a: given twice"},
      {"--pod-namespace m --pod-label =x", "--pod-label '=x': expected key=value"},
  };
  for (const auto& [arguments, message] : bad) {
    auto selector = selector_from(arguments);
    ASSERT_FALSE(selector.ok()) << arguments;
    EXPECT_EQ(selector.status().message(), message) << arguments;
  }
}

TEST(FaultLine, NamesEachContainerTheFaultActsIn) {
  v1::Fault fault;
  fault.set_id("f-7");
  fault.set_kind("network.delay");
  fault.set_state(v1::FAULT_STATE_ACTIVE);
  std::ostringstream host;
  print_fault_line(host, fault);
  EXPECT_THAT(host.str(), ::testing::Not(HasSubstr("in:")));
  v1::ContainerRef& container = *fault.add_containers();
  container.set_runtime("podman");
  container.set_id("3f2a9c1b7e44d0c1aa");
  container.set_name("nats-1");
  container.set_pid(4242);
  container.set_network_namespace("net:[4026532301]");
  v1::ContainerRef& pod = *fault.add_containers();
  pod.set_runtime("docker");
  pod.set_id("77aa00bb11cc22dd");
  pod.set_name("k8s_nats_nats-0");
  pod.set_pid(99);
  pod.set_pod_namespace("messaging");
  pod.set_pod_name("nats-0");
  std::ostringstream out;
  print_fault_line(out, fault);
  EXPECT_THAT(out.str(), HasSubstr("\n    in: podman nats-1 (3f2a9c1b7e44) pid 4242 net:[4026532301]\n"
                                   "    in: docker k8s_nats_nats-0 (77aa00bb11cc) pid 99 pod messaging/nats-0\n"));
}

}  // namespace
}  // namespace chaos::orchestrator
