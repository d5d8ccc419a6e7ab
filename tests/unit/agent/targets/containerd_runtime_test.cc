#include "agent/targets/runtime/containerd_runtime.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "agent/targets/container_selector_checks.h"
#include "containerd/services/containers/v1/containers.grpc.pb.h"
#include "containerd/services/namespaces/v1/namespace.grpc.pb.h"
#include "containerd/services/tasks/v1/tasks.grpc.pb.h"

namespace chaos::agent {
namespace {

namespace containers_api = containerd::services::containers::v1;
namespace namespaces_api = containerd::services::namespaces::v1;
namespace tasks_api = containerd::services::tasks::v1;
namespace types = containerd::v1::types;

struct FakeContainer {
  std::string id;
  std::map<std::string, std::string> labels;
  bool has_task = true;
  types::Status status = types::RUNNING;
  std::uint32_t pid = 0;
};

// What the fake daemon holds and what it was asked, shared by its services.
struct FakeDaemon {
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  bool hang_tasks_list = false;
  grpc::Status tasks_list_status = grpc::Status::OK;
  std::map<std::string, std::vector<FakeContainer>> namespaces;
  std::vector<std::string> calls;  // "<call> <namespace header>"

  // The namespace header of a call, recorded with the call.
  std::string namespace_of(grpc::ServerContext* context, const std::string& call) {
    const auto& metadata = context->client_metadata();
    const auto it = metadata.find("containerd-namespace");
    const std::string ns = it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
    calls.push_back(call + " " + ns);
    return ns;
  }
};

class FakeNamespaces final : public namespaces_api::Namespaces::Service {
 public:
  explicit FakeNamespaces(FakeDaemon& daemon) : daemon_(daemon) {}
  grpc::Status List(grpc::ServerContext* context, const namespaces_api::ListNamespacesRequest*,
                    namespaces_api::ListNamespacesResponse* response) override {
    std::lock_guard lock(daemon_.mutex);
    daemon_.namespace_of(context, "Namespaces/List");
    for (const auto& [name, containers] : daemon_.namespaces) response->add_namespaces()->set_name(name);
    return grpc::Status::OK;
  }

 private:
  FakeDaemon& daemon_;
};

class FakeContainers final : public containers_api::Containers::Service {
 public:
  explicit FakeContainers(FakeDaemon& daemon) : daemon_(daemon) {}
  grpc::Status List(grpc::ServerContext* context, const containers_api::ListContainersRequest*,
                    containers_api::ListContainersResponse* response) override {
    std::lock_guard lock(daemon_.mutex);
    const std::string ns = daemon_.namespace_of(context, "Containers/List");
    for (const auto& container : daemon_.namespaces[ns]) {
      auto* listed = response->add_containers();
      listed->set_id(container.id);
      listed->mutable_labels()->insert(container.labels.begin(), container.labels.end());
    }
    return grpc::Status::OK;
  }

 private:
  FakeDaemon& daemon_;
};

class FakeTasks final : public tasks_api::Tasks::Service {
 public:
  explicit FakeTasks(FakeDaemon& daemon) : daemon_(daemon) {}
  grpc::Status List(grpc::ServerContext* context, const tasks_api::ListTasksRequest*,
                    tasks_api::ListTasksResponse* response) override {
    std::unique_lock lock(daemon_.mutex);
    const std::string ns = daemon_.namespace_of(context, "Tasks/List");
    if (daemon_.hang_tasks_list) daemon_.released.wait(lock, [this] { return daemon_.release; });
    if (!daemon_.tasks_list_status.ok()) return daemon_.tasks_list_status;
    for (const auto& container : daemon_.namespaces[ns]) {
      if (!container.has_task) continue;
      auto* task = response->add_tasks();
      task->set_container_id(container.id);
      task->set_id(container.id);
      task->set_pid(container.pid);
      task->set_status(container.status);
    }
    return grpc::Status::OK;
  }
  grpc::Status Get(grpc::ServerContext* context, const tasks_api::GetRequest* request,
                   tasks_api::GetResponse* response) override {
    std::lock_guard lock(daemon_.mutex);
    const std::string ns = daemon_.namespace_of(context, "Tasks/Get");
    for (const auto& container : daemon_.namespaces[ns]) {
      if (container.id != request->container_id() || !container.has_task) continue;
      response->mutable_process()->set_container_id(container.id);
      response->mutable_process()->set_pid(container.pid);
      response->mutable_process()->set_status(container.status);
      return grpc::Status::OK;
    }
    return {grpc::StatusCode::NOT_FOUND, "no running task found"};
  }

 private:
  FakeDaemon& daemon_;
};

// A containerd stand-in on a unix socket in a temp dir: a plain ctr
// container, a stopped one and one without a task in "default", a CRI
// sandbox and workload in "k8s.io".
class ContainerdRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Short: a unix socket path has at most 107 bytes, and TMPDIR may be long.
    static int tests = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("chaos-ctrd-" + std::to_string(::getpid()) + "-" + std::to_string(++tests));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    socket_ = (dir_ / "c.sock").string();
    daemon_.namespaces["default"] = {{"web", {{"app", "web"}}, true, types::RUNNING, 100},
                                     {"stopped", {{"app", "web"}}, true, types::STOPPED, 0},
                                     {"created", {{"app", "web"}}, false, types::UNKNOWN, 0}};
    daemon_.namespaces["k8s.io"] = {
        {"5a5a5a5a", {{"io.cri-containerd.kind", "sandbox"}, {"io.kubernetes.pod.name", "nats-0"}}, true,
         types::RUNNING, 200},
        {"6b6b6b6b", {{"io.cri-containerd.kind", "container"}, {"io.kubernetes.container.name", "nats"}}, true,
         types::RUNNING, 201}};
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&namespaces_);
    builder.RegisterService(&containers_);
    builder.RegisterService(&tasks_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    {
      std::lock_guard lock(daemon_.mutex);
      daemon_.release = true;
    }
    daemon_.released.notify_all();
    if (server_) server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> calls() {
    std::lock_guard lock(daemon_.mutex);
    return daemon_.calls;
  }

  std::filesystem::path dir_;
  std::string socket_;
  FakeDaemon daemon_;
  FakeNamespaces namespaces_{daemon_};
  FakeContainers containers_{daemon_};
  FakeTasks tasks_{daemon_};
  std::unique_ptr<grpc::Server> server_;
};

std::vector<std::string> ids_of(const std::vector<ContainerInfo>& containers) {
  std::vector<std::string> ids;
  for (const auto& container : containers) ids.push_back(container.id);
  return ids;
}

TEST_F(ContainerdRuntimeTest, ListsTheContainersWithARunningTaskInEveryNamespaceNamedByTheirId) {
  ContainerdRuntime runtime("containerd", socket_);
  const auto listed = runtime.list_running();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(ids_of(*listed), (std::vector<std::string>{"web", "5a5a5a5a", "6b6b6b6b"}));
  const ContainerInfo& web = listed->front();
  EXPECT_EQ(web.runtime, "containerd");
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.labels, (std::map<std::string, std::string>{{"app", "web"}}));
  EXPECT_TRUE(web.running);
  EXPECT_EQ(listed->at(2).labels.at("io.kubernetes.container.name"), "nats");
  EXPECT_EQ(calls(), (std::vector<std::string>{"Namespaces/List ", "Tasks/List default", "Containers/List default",
                                               "Tasks/List k8s.io", "Containers/List k8s.io"}));
}

TEST_F(ContainerdRuntimeTest, ConfiguredNamespacesAreTheOnlyOnesAsked) {
  ContainerdRuntime runtime("containerd", socket_, {"k8s.io"});
  const auto listed = runtime.list_running();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  EXPECT_EQ(ids_of(*listed), (std::vector<std::string>{"5a5a5a5a", "6b6b6b6b"}));
  EXPECT_EQ(calls(), (std::vector<std::string>{"Tasks/List k8s.io", "Containers/List k8s.io"}));
}

TEST_F(ContainerdRuntimeTest, InspectGivesTheRunningTasksPidFromItsNamespace) {
  ContainerdRuntime runtime("containerd", socket_);
  auto nats = runtime.inspect("6b6b6b6b");
  ASSERT_TRUE(nats.ok()) << nats.status().to_string();
  EXPECT_TRUE(nats->running);
  EXPECT_EQ(nats->pid, 201);
  EXPECT_EQ(nats->name, "6b6b6b6b");
  for (const char* id : {"stopped", "created", "gone"}) {
    auto inspected = runtime.inspect(id);
    ASSERT_TRUE(inspected.ok()) << inspected.status().to_string();
    EXPECT_FALSE(inspected->running) << id;
    EXPECT_EQ(inspected->pid, 0) << id;
  }
  EXPECT_EQ(runtime.inspect("../etc").status().code(), StatusCode::kInvalidArgument);
  {
    std::lock_guard lock(daemon_.mutex);
    daemon_.namespaces["moby"] = {{"web", {}, true, types::RUNNING, 300}};
  }
  const auto twice = runtime.inspect("web");
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.status().message(), "containerd API at " + socket_ +
                                          ": Tasks/Get web: the id has tasks in namespaces default and moby");
}

TEST_F(ContainerdRuntimeTest, BoundsLeaveOutOrRefuseWhatIsTooLarge) {
  ContainerdLimits limits;
  limits.max_labels = 1;
  limits.max_label_text = 8;
  {
    std::lock_guard lock(daemon_.mutex);
    daemon_.namespaces["default"][0].labels["a-very-long-key"] = "x";
  }
  auto listed = ContainerdRuntime("containerd", socket_, {"default", "k8s.io"}, limits).list_running();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  EXPECT_EQ(ids_of(*listed), std::vector<std::string>{}) << "every container has more than one label";
  limits = {};
  limits.max_label_text = 8;
  listed = ContainerdRuntime("containerd", socket_, {"default"}, limits).list_running();
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(ids_of(*listed), std::vector<std::string>{"web"});
  EXPECT_EQ(listed->front().labels, (std::map<std::string, std::string>{{"app", "web"}}));
  limits = {};
  limits.max_containers = 4;
  const auto too_many = ContainerdRuntime("containerd", socket_, {}, limits).list_running();
  EXPECT_EQ(too_many.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(too_many.status().message(), "containerd API at " + socket_ +
                                             ": Containers/List in namespace k8s.io: more than the 4 containers "
                                             "the agent handles");
}

TEST_F(ContainerdRuntimeTest, ErrorsNameTheSocketTheCallAndTheNamespace) {
  {
    std::lock_guard lock(daemon_.mutex);
    daemon_.tasks_list_status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no");
  }
  const auto refused = ContainerdRuntime("containerd", socket_).list_running();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "containerd API at " + socket_ + ": Tasks/List in namespace default: no");

  const std::string absent = (dir_ / "absent.sock").string();
  const auto nobody = ContainerdRuntime("containerd", absent).list_running();
  EXPECT_EQ(nobody.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(nobody.status().message().rfind("containerd API at " + absent + ": Namespaces/List: ", 0), 0u)
      << nobody.status().message();
}

TEST_F(ContainerdRuntimeTest, AServerThatNeverAnswersEndsAtTheCallDeadline) {
  {
    std::lock_guard lock(daemon_.mutex);
    daemon_.hang_tasks_list = true;
  }
  ContainerdLimits limits;
  limits.call_deadline = std::chrono::milliseconds(50);
  const auto hung = ContainerdRuntime("containerd", socket_, {"default"}, limits).list_running();
  EXPECT_EQ(hung.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(hung.status().message().find("Tasks/List in namespace default"), std::string::npos)
      << hung.status().message();
  EXPECT_NE(hung.status().message().find("(deadline)"), std::string::npos) << hung.status().message();
}

TEST(ContainerdIdentifiers, AreContainerdsOwnRules) {
  EXPECT_TRUE(is_containerd_identifier("k8s.io"));
  EXPECT_TRUE(is_containerd_identifier("chaos-test_1"));
  EXPECT_TRUE(is_containerd_identifier(std::string(76, 'a')));
  EXPECT_FALSE(is_containerd_identifier(std::string(77, 'a')));
  EXPECT_FALSE(is_containerd_identifier(""));
  EXPECT_FALSE(is_containerd_identifier("-x"));
  EXPECT_FALSE(is_containerd_identifier("a/b"));
  EXPECT_FALSE(is_containerd_identifier("a..b"));
  EXPECT_FALSE(is_containerd_identifier("a-"));
}

TEST(ContainerdSelectors, NameTheContainerdRuntime) {
  v1::ContainerSelector selector;
  selector.set_runtime("containerd");
  selector.set_name("web");
  EXPECT_TRUE(validate_container_selector(selector, "target").ok());
  selector.set_runtime("cri-o");
  EXPECT_EQ(validate_container_selector(selector, "target").message(),
            "target.runtime: 'cri-o' is not one of podman, docker, containerd");
}

TEST(ContainerdRuntimeDefaults, AreTheDocumentedBounds) {
  const ContainerdLimits limits;
  EXPECT_EQ(limits.call_deadline, std::chrono::milliseconds(2000));
  EXPECT_EQ(limits.total_deadline, std::chrono::milliseconds(10000));
  EXPECT_EQ(limits.max_message_bytes, 8 << 20);
  EXPECT_EQ(limits.max_containers, 4096u);
}

}  // namespace
}  // namespace chaos::agent
