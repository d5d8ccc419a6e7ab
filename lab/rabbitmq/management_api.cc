#include "lab/rabbitmq/management_api.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "lab/rabbitmq/rabbitmq_config.h"

namespace chaos::lab {

namespace {

httplib::Client management_client(const std::string& ip, std::chrono::milliseconds timeout) {
  httplib::Client client(ip, kRabbitmqManagementPort);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_basic_auth(kRabbitmqUser, kRabbitmqPassword);
  return client;
}

std::string management_url(const std::string& ip, const std::string& path) {
  return "http://" + ip + ":" + std::to_string(kRabbitmqManagementPort) + path;
}

}  // namespace

StatusOr<HttpReply> management_get(const std::string& ip, const std::string& path, std::chrono::milliseconds timeout) {
  auto client = management_client(ip, timeout);
  auto result = client.Get(path);
  if (!result) return unavailable("GET " + management_url(ip, path) + ": " + httplib::to_string(result.error()));
  return HttpReply{result->status, result->body};
}

StatusOr<HttpReply> management_put(const std::string& ip, const std::string& path, const std::string& json_body,
                                   std::chrono::milliseconds timeout) {
  auto client = management_client(ip, timeout);
  auto result = client.Put(path, json_body, "application/json");
  if (!result) return unavailable("PUT " + management_url(ip, path) + ": " + httplib::to_string(result.error()));
  return HttpReply{result->status, result->body};
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
