#include "agent/targets/runtime/docker_api_runtime.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <nlohmann/json.hpp>

namespace chaos::agent {

namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 64;
constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxNameLength = 253;

bool is_container_id(const std::string& id) {
  return !id.empty() && id.size() <= kMaxIdLength &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string strip_slash(std::string name) {
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

// Parse errors are reported, never thrown; nesting is bounded so a hostile
// body cannot build a pathologically deep value.
StatusOr<json> parse_json(const std::string& body, const std::string& where) {
  bool too_deep = false;
  json parsed = json::parse(
      body,
      [&too_deep](int depth, json::parse_event_t, json&) {
        if (depth > kMaxJsonDepth) too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep) return internal_error(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  if (parsed.is_discarded()) return internal_error(where + ": malformed JSON: " + runtime_reply_excerpt(body));
  return parsed;
}

// Reads one entry's labels (object or null); wrong types are errors, and
// the bounds of DockerApiLimits apply.
class EntryReader {
 public:
  EntryReader(const DockerApiLimits& limits, std::string where) : limits_(limits), where_(std::move(where)) {}

  StatusOr<std::string> id(const json& entry, const char* key) const {
    const auto it = entry.find(key);
    if (it == entry.end() || !it->is_string()) return wrong(std::string(key) + " is not a string");
    const auto& id = it->get_ref<const std::string&>();
    if (!is_container_id(id)) {
      return wrong(std::string(key) + " '" + runtime_reply_excerpt(id) + "' is not a hex container id");
    }
    return id;
  }

  StatusOr<std::string> name(const json& value, const std::string& key) const {
    if (!value.is_string()) return wrong(key + " is not a string");
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > kMaxNameLength + 1) return wrong(key + " is longer than " + std::to_string(kMaxNameLength));
    return strip_slash(text);
  }

  // nullopt (no error) when the container has more labels than allowed.
  StatusOr<std::optional<std::map<std::string, std::string>>> labels(const json* value, const std::string& key) const {
    std::map<std::string, std::string> out;
    if (value == nullptr || value->is_null()) return std::optional(out);
    if (!value->is_object()) return wrong(key + " is not an object");
    if (value->size() > limits_.max_labels) return std::optional<std::map<std::string, std::string>>();
    for (const auto& [label, text] : value->items()) {
      if (!text.is_string()) return wrong(key + "." + runtime_reply_excerpt(label) + " is not a string");
      const auto& content = text.get_ref<const std::string&>();
      if (label.size() > limits_.max_label_text || content.size() > limits_.max_label_text) continue;
      out.emplace(label, content);
    }
    return std::optional(out);
  }

  Status wrong(const std::string& what) const { return internal_error(where_ + ": " + what); }

 private:
  const DockerApiLimits& limits_;
  std::string where_;
};

const json* member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

StatusOr<std::optional<ContainerInfo>> listed_container(const json& entry, const EntryReader& reader,
                                                        const std::string& runtime) {
  if (!entry.is_object()) return reader.wrong("a list entry is not an object");
  ContainerInfo info;
  info.runtime = runtime;
  CHAOS_ASSIGN_OR_RETURN(info.id, reader.id(entry, "Id"));
  if (const json* names = member(entry, "Names"); names != nullptr && !names->is_null()) {
    if (!names->is_array()) return reader.wrong("Names is not an array");
    if (!names->empty()) {
      CHAOS_ASSIGN_OR_RETURN(info.name, reader.name(names->front(), "Names[0]"));
    }
  }
  if (const json* state = member(entry, "State"); state != nullptr && !state->is_null()) {
    if (!state->is_string()) return reader.wrong("State is not a string");
    if (state->get_ref<const std::string&>() != "running") return std::optional<ContainerInfo>();
  }
  CHAOS_ASSIGN_OR_RETURN(auto labels, reader.labels(member(entry, "Labels"), "Labels"));
  if (!labels) return std::optional<ContainerInfo>();
  info.labels = std::move(*labels);
  info.running = true;
  return std::optional(std::move(info));
}

}  // namespace

DockerApiRuntime::DockerApiRuntime(std::string name, std::string socket_path, DockerApiLimits limits)
    : name_(std::move(name)), socket_path_(std::move(socket_path)), limits_(limits) {}

StatusOr<std::string> DockerApiRuntime::get(const std::string& endpoint) const {
  const std::string where = name_ + " API at " + socket_path_ + ": GET " + endpoint;
  httplib::Client client(socket_path_);
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(limits_.connect_timeout);
  client.set_read_timeout(limits_.read_timeout);
  client.set_write_timeout(limits_.read_timeout);
  client.set_keep_alive(false);
  std::string body;
  bool oversized = false;
  bool overdue = false;
  const auto deadline = std::chrono::steady_clock::now() + limits_.call_deadline;
  // Go's server refuses a Host header holding a path (httplib's default
  // over a unix socket).
  const httplib::Headers headers{{"Host", "localhost"}};
  auto result = client.Get(endpoint, headers, [&](const char* data, std::size_t length) {
    if (std::chrono::steady_clock::now() > deadline) {
      overdue = true;
      return false;
    }
    if (body.size() + length > limits_.max_body_bytes) {
      oversized = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  if (oversized) {
    return internal_error(where + ": response larger than " + std::to_string(limits_.max_body_bytes) + " bytes");
  }
  if (overdue) {
    return unavailable(where + ": no complete response within " + std::to_string(limits_.call_deadline.count()) +
                       " ms");
  }
  if (!result) return unavailable(where + ": " + httplib::to_string(result.error()));
  if (result->status != 200) {
    return unavailable(where + ": HTTP " + std::to_string(result->status) + ": " + runtime_reply_excerpt(body));
  }
  return body;
}

StatusOr<std::vector<ContainerInfo>> DockerApiRuntime::list_running() {
  const std::string endpoint = "/v1.40/containers/json";
  const std::string where = name_ + " API at " + socket_path_ + ": GET " + endpoint;
  try {
    CHAOS_ASSIGN_OR_RETURN(const std::string body, get(endpoint));
    CHAOS_ASSIGN_OR_RETURN(const json list, parse_json(body, where));
    if (!list.is_array()) return internal_error(where + ": expected a JSON array of containers");
    if (list.size() > limits_.max_containers) {
      return resource_exhausted(where + ": " + std::to_string(list.size()) + " containers, more than the " +
                                std::to_string(limits_.max_containers) + " the agent handles");
    }
    const EntryReader reader(limits_, where);
    std::vector<ContainerInfo> out;
    for (const auto& entry : list) {
      CHAOS_ASSIGN_OR_RETURN(auto info, listed_container(entry, reader, name_));
      if (info) out.push_back(std::move(*info));
    }
    return out;
  } catch (const std::exception& error) {
    return internal_error(where + ": " + error.what());
  }
}

StatusOr<ContainerInfo> DockerApiRuntime::inspect(const std::string& id) {
  if (!is_container_id(id)) return invalid_argument("container id '" + runtime_reply_excerpt(id) + "' is not hex");
  const std::string endpoint = "/v1.40/containers/" + id + "/json";
  const std::string where = name_ + " API at " + socket_path_ + ": GET " + endpoint;
  try {
    CHAOS_ASSIGN_OR_RETURN(const std::string body, get(endpoint));
    CHAOS_ASSIGN_OR_RETURN(const json entry, parse_json(body, where));
    const EntryReader reader(limits_, where);
    if (!entry.is_object()) return reader.wrong("expected a JSON object");
    ContainerInfo info;
    info.runtime = name_;
    CHAOS_ASSIGN_OR_RETURN(info.id, reader.id(entry, "Id"));
    if (const json* name = member(entry, "Name"); name != nullptr) {
      CHAOS_ASSIGN_OR_RETURN(info.name, reader.name(*name, "Name"));
    }
    const json* state = member(entry, "State");
    if (state == nullptr || !state->is_object()) return reader.wrong("State is not an object");
    const json* running = member(*state, "Running");
    if (running == nullptr || !running->is_boolean()) return reader.wrong("State.Running is not a boolean");
    const json* pid = member(*state, "Pid");
    if (pid == nullptr || !pid->is_number_integer()) return reader.wrong("State.Pid is not an integer");
    const auto pid_value = pid->get<std::int64_t>();
    if (pid_value < 0 || pid_value > INT_MAX)
      return reader.wrong("State.Pid " + std::to_string(pid_value) + " is out of range");
    info.running = running->get<bool>();
    info.pid = static_cast<int>(pid_value);
    const json* config = member(entry, "Config");
    if (config != nullptr && !config->is_null() && !config->is_object()) return reader.wrong("Config is not an object");
    const json* labels = (config == nullptr || config->is_null()) ? nullptr : member(*config, "Labels");
    CHAOS_ASSIGN_OR_RETURN(auto parsed_labels, reader.labels(labels, "Config.Labels"));
    if (!parsed_labels)
      return resource_exhausted(where + ": more than " + std::to_string(limits_.max_labels) + " labels");
    info.labels = std::move(*parsed_labels);
    return info;
  } catch (const std::exception& error) {
    return internal_error(where + ": " + error.what());
  }
}

}  // namespace chaos::agent
