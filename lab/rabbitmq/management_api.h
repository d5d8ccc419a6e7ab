// The few RabbitMQ management HTTP API calls the lab makes, as the lab
// user, to a node's management listener on its lab address.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "lab/http_check.h"

namespace chaos::lab {

// GET http://<ip>:15672<path>; a connection failure is UNAVAILABLE naming the URL.
StatusOr<HttpReply> management_get(const std::string& ip, const std::string& path,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
// PUT with a JSON body.
StatusOr<HttpReply> management_put(const std::string& ip, const std::string& path, const std::string& json_body,
                                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// "/api/queues/%2F/chaos-probe": the probe's queue in the default vhost.
std::string probe_queue_api_path();
// The queue's declaration: durable, quorum, 3 replicas (the probe declares
// the same, so either may come first).
std::string probe_queue_declaration();

}  // namespace chaos::lab
