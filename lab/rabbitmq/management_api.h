// The few RabbitMQ management HTTP API calls the lab makes, as the lab
// user, to a node's management listener on its lab address.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "common/status.h"
#include "lab/http_check.h"

namespace chaos::lab {

// The largest reply body read (the lab's replies are a few KB).
inline constexpr std::size_t kManagementMaxBody = 1 << 20;

// GET http://<ip>:15672<path>; `timeout` bounds the connect and the whole
// reply. A connection failure, a slower reply or a body over
// kManagementMaxBody is UNAVAILABLE naming the URL.
StatusOr<HttpReply> management_get(const std::string& ip, const std::string& path,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
// PUT with a JSON body.
StatusOr<HttpReply> management_put(const std::string& ip, const std::string& path, const std::string& json_body,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// The request behind both, to any port (tests use an ephemeral one); an
// empty `json_body` sends none.
StatusOr<HttpReply> management_request(const std::string& ip, int port, const std::string& method,
                                       const std::string& path, const std::string& json_body,
                                       std::chrono::milliseconds timeout);

// "/api/queues/%2F/chaos-probe": the probe's queue in the default vhost.
std::string probe_queue_api_path();
// The queue's declaration: durable, quorum, 3 replicas (the probe declares
// the same, so either may come first).
std::string probe_queue_declaration();

}  // namespace chaos::lab
