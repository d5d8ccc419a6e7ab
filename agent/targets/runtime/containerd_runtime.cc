#include "agent/targets/runtime/containerd_runtime.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <set>

#include "containerd/services/containers/v1/containers.grpc.pb.h"
#include "containerd/services/namespaces/v1/namespace.grpc.pb.h"
#include "containerd/services/tasks/v1/tasks.grpc.pb.h"

namespace chaos::agent {

namespace {

namespace containers_api = containerd::services::containers::v1;
namespace namespaces_api = containerd::services::namespaces::v1;
namespace tasks_api = containerd::services::tasks::v1;
namespace types = containerd::v1::types;

constexpr std::size_t kMaxIdentifier = 76;  // containerd's own limit
// containerd reads the namespace of every call from this gRPC header.
constexpr const char* kNamespaceHeader = "containerd-namespace";

// The calls of one list_running() or inspect(): one channel, one overall
// deadline, and messages naming the socket.
class Session {
 public:
  Session(const std::string& runtime, const std::string& socket_path, const ContainerdLimits& limits)
      : where_(runtime + " API at " + socket_path),
        limits_(limits),
        deadline_(std::chrono::system_clock::now() + limits.total_deadline) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(limits.max_message_bytes);
    arguments.SetMaxSendMessageSize(limits.max_message_bytes);
    channel_ = grpc::CreateCustomChannel("unix:" + socket_path, grpc::InsecureChannelCredentials(), arguments);
  }

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context for one call in `ns` (empty: no namespace header).
  std::unique_ptr<grpc::ClientContext> context(const std::string& ns) const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::min(std::chrono::system_clock::now() + limits_.call_deadline, deadline_));
    if (!ns.empty()) context->AddMetadata(kNamespaceHeader, ns);
    return context;
  }

  std::string where(const std::string& call, const std::string& ns) const {
    return where_ + ": " + call + (ns.empty() ? "" : " in namespace " + ns);
  }

  Status failed(const grpc::Status& status, const std::string& call, const std::string& ns) const {
    const std::string message = where(call, ns) + ": " + runtime_reply_excerpt(status.error_message());
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return unavailable(message + " (deadline)");
    return unavailable(message);
  }

  Status wrong(const std::string& call, const std::string& ns, const std::string& what) const {
    return internal_error(where(call, ns) + ": " + what);
  }

 private:
  std::string where_;
  const ContainerdLimits& limits_;
  std::chrono::system_clock::time_point deadline_;
  std::shared_ptr<grpc::Channel> channel_;
};

StatusOr<std::vector<std::string>> namespaces_of(Session& session, const std::vector<std::string>& configured,
                                                 const ContainerdLimits& limits) {
  if (!configured.empty()) return configured;
  const std::string call = "Namespaces/List";
  auto stub = namespaces_api::Namespaces::NewStub(session.channel());
  namespaces_api::ListNamespacesRequest request;
  namespaces_api::ListNamespacesResponse response;
  const auto context = session.context("");
  const grpc::Status status = stub->List(context.get(), request, &response);
  if (!status.ok()) return session.failed(status, call, "");
  if (static_cast<std::size_t>(response.namespaces_size()) > limits.max_namespaces) {
    return resource_exhausted(session.where(call, "") + ": " + std::to_string(response.namespaces_size()) +
                              " namespaces, more than the " + std::to_string(limits.max_namespaces) +
                              " the agent handles");
  }
  std::vector<std::string> names;
  for (const auto& ns : response.namespaces()) {
    if (!is_containerd_identifier(ns.name())) {
      return session.wrong(call, "", "namespace '" + runtime_reply_excerpt(ns.name()) + "' is not an identifier");
    }
    names.push_back(ns.name());
  }
  return names;
}

// The ids of the containers whose task is RUNNING in `ns`.
StatusOr<std::set<std::string>> running_tasks(Session& session, const std::string& ns,
                                              const ContainerdLimits& limits) {
  const std::string call = "Tasks/List";
  auto stub = tasks_api::Tasks::NewStub(session.channel());
  tasks_api::ListTasksRequest request;
  tasks_api::ListTasksResponse response;
  const auto context = session.context(ns);
  const grpc::Status status = stub->List(context.get(), request, &response);
  if (!status.ok()) return session.failed(status, call, ns);
  if (static_cast<std::size_t>(response.tasks_size()) > limits.max_containers) {
    return resource_exhausted(session.where(call, ns) + ": " + std::to_string(response.tasks_size()) +
                              " tasks, more than the " + std::to_string(limits.max_containers) +
                              " the agent handles");
  }
  std::set<std::string> running;
  for (const auto& task : response.tasks()) {
    if (task.status() == types::RUNNING) running.insert(task.container_id().empty() ? task.id() : task.container_id());
  }
  return running;
}

}  // namespace

bool is_containerd_identifier(const std::string& text) {
  if (text.empty() || text.size() > kMaxIdentifier) return false;
  // Runs of letters and digits joined by single separators.
  bool after_separator = true;
  for (unsigned char c : text) {
    const bool separator = c == '_' || c == '.' || c == '-';
    if (!separator && std::isalnum(c) == 0) return false;
    if (separator && after_separator) return false;
    after_separator = separator;
  }
  return !after_separator;
}

std::optional<ContainerInfo> containerd_container_info(const std::string& runtime, const std::string& id,
                                                       const std::map<std::string, std::string>& labels,
                                                       const ContainerdLimits& limits) {
  if (labels.size() > limits.max_labels) return std::nullopt;
  ContainerInfo info;
  info.runtime = runtime;
  info.id = id;
  info.name = id;
  for (const auto& [key, value] : labels) {
    if (key.size() > limits.max_label_text || value.size() > limits.max_label_text) continue;
    info.labels.emplace(key, value);
  }
  info.running = true;
  return info;
}

ContainerdRuntime::ContainerdRuntime(std::string name, std::string socket_path, std::vector<std::string> namespaces,
                                     ContainerdLimits limits)
    : name_(std::move(name)),
      socket_path_(std::move(socket_path)),
      namespaces_(std::move(namespaces)),
      limits_(limits) {}

StatusOr<std::vector<ContainerInfo>> ContainerdRuntime::list_running() {
  try {
    Session session(name_, socket_path_, limits_);
    CHAOS_ASSIGN_OR_RETURN(const auto namespaces, namespaces_of(session, namespaces_, limits_));
    std::vector<ContainerInfo> out;
    std::size_t seen = 0;
    for (const auto& ns : namespaces) {
      CHAOS_ASSIGN_OR_RETURN(const auto running, running_tasks(session, ns, limits_));
      if (running.empty()) continue;
      const std::string call = "Containers/List";
      auto stub = containers_api::Containers::NewStub(session.channel());
      containers_api::ListContainersRequest request;
      containers_api::ListContainersResponse response;
      const auto context = session.context(ns);
      const grpc::Status status = stub->List(context.get(), request, &response);
      if (!status.ok()) return session.failed(status, call, ns);
      seen += static_cast<std::size_t>(response.containers_size());
      if (seen > limits_.max_containers) {
        return resource_exhausted(session.where(call, ns) + ": more than the " +
                                  std::to_string(limits_.max_containers) + " containers the agent handles");
      }
      for (const auto& container : response.containers()) {
        if (!is_containerd_identifier(container.id())) {
          return session.wrong(call, ns,
                               "container id '" + runtime_reply_excerpt(container.id()) + "' is not an identifier");
        }
        if (running.count(container.id()) == 0) continue;
        const std::map<std::string, std::string> labels(container.labels().begin(), container.labels().end());
        auto info = containerd_container_info(name_, container.id(), labels, limits_);
        if (info) out.push_back(std::move(*info));
      }
    }
    return out;
  } catch (const std::exception& error) {
    return internal_error(name_ + " API at " + socket_path_ + ": " + error.what());
  }
}

StatusOr<ContainerInfo> ContainerdRuntime::inspect(const std::string& id) {
  if (!is_containerd_identifier(id)) {
    return invalid_argument("container id '" + runtime_reply_excerpt(id) + "' is not an identifier");
  }
  try {
    Session session(name_, socket_path_, limits_);
    CHAOS_ASSIGN_OR_RETURN(const auto namespaces, namespaces_of(session, namespaces_, limits_));
    const std::string call = "Tasks/Get " + id;
    ContainerInfo info;
    info.runtime = name_;
    info.id = id;
    info.name = id;
    std::string found_in;
    for (const auto& ns : namespaces) {
      auto stub = tasks_api::Tasks::NewStub(session.channel());
      tasks_api::GetRequest request;
      request.set_container_id(id);
      tasks_api::GetResponse response;
      const auto context = session.context(ns);
      const grpc::Status status = stub->Get(context.get(), request, &response);
      // No such container, or no task: not here, or not running.
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) continue;
      if (!status.ok()) return session.failed(status, call, ns);
      if (!found_in.empty()) {
        return failed_precondition(session.where(call, "") + ": the id has tasks in namespaces " + found_in +
                                   " and " + ns);
      }
      found_in = ns;
      const auto& process = response.process();
      if (process.pid() > static_cast<std::uint32_t>(INT_MAX)) {
        return session.wrong(call, ns, "pid " + std::to_string(process.pid()) + " is out of range");
      }
      info.running = process.status() == types::RUNNING && process.pid() > 0;
      info.pid = info.running ? static_cast<int>(process.pid()) : 0;
    }
    return info;
  } catch (const std::exception& error) {
    return internal_error(name_ + " API at " + socket_path_ + ": " + error.what());
  }
}

}  // namespace chaos::agent
