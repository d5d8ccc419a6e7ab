#include "agent/targets/runtime/runtime_container_finder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/targets/namespaces/namespace_handle.h"
#include "common/proc_reader.h"

namespace chaos::agent {
namespace {

// A runtime whose containers are this test process itself, so the finder's
// /proc reads work without root.
class FakeRuntime final : public ContainerRuntime {
 public:
  FakeRuntime(std::string name, std::vector<ContainerInfo> listing)
      : name_(std::move(name)), where_("/fake/" + name_ + ".sock"), listing_(std::move(listing)) {}
  const std::string& name() const override { return name_; }
  const std::string& where() const override { return where_; }
  StatusOr<std::vector<ContainerInfo>> list_running() override {
    if (!list_error.ok()) return list_error;
    return listing_;
  }
  StatusOr<ContainerInfo> inspect(const std::string& id) override {
    inspected.push_back(id);
    for (auto info : listing_) {
      if (info.id != id) continue;
      info.pid = pid;
      info.running = running;
      return info;
    }
    return not_found("no such container " + id);
  }

  Status list_error;
  int pid = ::getpid();
  bool running = true;
  std::vector<std::string> inspected;

 private:
  std::string name_;
  std::string where_;
  std::vector<ContainerInfo> listing_;
};

ContainerInfo listed(std::string id, std::string name, std::map<std::string, std::string> labels = {}) {
  ContainerInfo info;
  info.id = std::move(id);
  info.name = std::move(name);
  info.labels = std::move(labels);
  info.running = true;
  return info;
}

struct Finder {
  FakeRuntime* podman = nullptr;
  std::unique_ptr<RuntimeContainerFinder> finder;
};

Finder podman_finder(std::vector<ContainerInfo> listing) {
  auto runtime = std::make_unique<FakeRuntime>("podman", std::move(listing));
  Finder out;
  out.podman = runtime.get();
  std::vector<std::unique_ptr<ContainerRuntime>> runtimes;
  runtimes.push_back(std::move(runtime));
  out.finder = std::make_unique<RuntimeContainerFinder>(std::move(runtimes));
  return out;
}

TEST(RuntimeContainerFinder, ResolvesOnlyTheChosenContainersToPidStartTimeAndNetns) {
  auto finder = podman_finder(
      {listed("aaaa1111", "nats-1", {{"io.kubernetes.pod.namespace", "prod"}, {"io.kubernetes.pod.name", "nats-0"}}),
       listed("bbbb2222", "web-1")});
  v1::ContainerSelector selector;
  selector.set_pod_namespace("prod");
  auto refs = finder.finder->find(selector, "target", 7);
  ASSERT_TRUE(refs.ok()) << refs.status().to_string();
  ASSERT_EQ(refs->size(), 1u);
  const auto& ref = refs->front();
  EXPECT_EQ(ref.runtime(), "podman");
  EXPECT_EQ(ref.id(), "aaaa1111");
  EXPECT_EQ(ref.name(), "nats-1");
  EXPECT_EQ(ref.pid(), ::getpid());
  EXPECT_EQ(ref.pid_start_time(), ProcReader().stat(::getpid())->start_time);
  EXPECT_EQ(ref.network_namespace(), namespace_of(::getpid(), "net")->to_string("net"));
  EXPECT_EQ(ref.pod_namespace(), "prod");
  EXPECT_EQ(ref.pod_name(), "nats-0");
  EXPECT_EQ(finder.podman->inspected, std::vector<std::string>{"aaaa1111"});
}

TEST(RuntimeContainerFinder, ARuntimeWithoutASocketNamesTheConfigKey) {
  auto finder = podman_finder({listed("aaaa1111", "nats-1")});
  v1::ContainerSelector selector;
  selector.set_runtime("docker");
  selector.set_name("nats-1");
  auto refs = finder.finder->find(selector, "target", 1);
  EXPECT_EQ(refs.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refs.status().message(),
            "target.runtime: this agent has no docker socket; set [containers] docker_socket in its config");

  RuntimeContainerFinder none({});
  selector.clear_runtime();
  EXPECT_EQ(none.find(selector, "target", 1).status().code(), StatusCode::kFailedPrecondition);
}

TEST(RuntimeContainerFinder, ARuntimeThatCannotAnswerFailsTheWholeFind) {
  auto finder = podman_finder({listed("aaaa1111", "nats-1")});
  finder.podman->list_error = unavailable("podman API at /fake/podman.sock: GET /v1.40/containers/json: refused");
  v1::ContainerSelector selector;
  selector.set_name("nats-1");
  auto refs = finder.finder->find(selector, "target", 1);
  EXPECT_EQ(refs.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refs.status().message().find("/fake/podman.sock"), std::string::npos);
}

TEST(RuntimeContainerFinder, AContainerThatStoppedMeanwhileIsNotFound) {
  auto finder = podman_finder({listed("aaaa1111", "nats-1")});
  finder.podman->running = false;
  v1::ContainerSelector selector;
  selector.set_name("nats-1");
  auto refs = finder.finder->find(selector, "target", 1);
  EXPECT_EQ(refs.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(refs.status().message(), "target: podman container nats-1 (aaaa1111) stopped while the agent resolved it");
  selector.set_name("nats-2");
  EXPECT_EQ(finder.finder->find(selector, "target", 1).status().message(),
            "target: no running container matches any runtime container name=nats-2");
}

}  // namespace
}  // namespace chaos::agent
