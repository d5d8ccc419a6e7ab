#include "lab/rabbitmq/management_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "lab/rabbitmq/rabbitmq_config.h"

namespace chaos::lab {

namespace {

httplib::Client management_client(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  httplib::Client client(ip, port);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_basic_auth(kRabbitmqUser, kRabbitmqPassword);
  return client;
}

std::string management_url(const std::string& ip, int port, const std::string& path) {
  return "http://" + ip + ":" + std::to_string(port) + path;
}

}  // namespace

// Reads the reply body within `timeout` in all (a per-read timeout alone lets
// a server that trickles bytes hold the caller forever) and at most
// kManagementMaxBody bytes.
StatusOr<HttpReply> management_request(const std::string& ip, int port, const std::string& method,
                                       const std::string& path, const std::string& json_body,
                                       std::chrono::milliseconds timeout) {
  auto client = management_client(ip, port, timeout);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string body;
  std::string refused;
  httplib::Request request;
  request.method = method;
  request.path = path;
  if (!json_body.empty()) {
    request.body = json_body;
    request.headers.emplace("Content-Type", "application/json");
  }
  request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (body.size() + length > kManagementMaxBody) {
      refused = "reply body over " + std::to_string(kManagementMaxBody) + " bytes";
    } else if (std::chrono::steady_clock::now() > deadline) {
      refused = "reply not complete within " + std::to_string(timeout.count()) + " ms";
    } else {
      body.append(data, length);
    }
    return refused.empty();
  };
  auto result = client.send(request);
  const std::string what = method + " " + management_url(ip, port, path) + ": ";
  if (!refused.empty()) return unavailable(what + refused);
  if (!result) return unavailable(what + httplib::to_string(result.error()));
  return HttpReply{result->status, std::move(body)};
}

StatusOr<HttpReply> management_get(const std::string& ip, const std::string& path, std::chrono::milliseconds timeout) {
  return management_request(ip, kRabbitmqManagementPort, "GET", path, "", timeout);
}

StatusOr<HttpReply> management_put(const std::string& ip, const std::string& path, const std::string& json_body,
                                   std::chrono::milliseconds timeout) {
  return management_request(ip, kRabbitmqManagementPort, "PUT", path, json_body, timeout);
}

std::string probe_queue_api_path() { return std::string("/api/queues/%2F/") + kProbeQueue; }

std::string probe_queue_declaration() {
  const nlohmann::json body = {
      {"durable", true},
      {"auto_delete", false},
      {"arguments", {{"x-queue-type", "quorum"}, {"x-quorum-initial-group-size", 3}}}};
  return body.dump();
}

}  // namespace chaos::lab
