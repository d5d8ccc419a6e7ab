// Small HTTP GETs the lab uses to see whether its services answer
// (nats-server monitoring, agent and probe /metrics, Prometheus).
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"

namespace chaos::lab {

struct HttpReply {
  int status = 0;
  std::string body;
};

// GET http://host:port/path with short timeouts; a connection failure is
// an UNAVAILABLE status naming the URL.
StatusOr<HttpReply> http_get(const std::string& host, int port, const std::string& path,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

}  // namespace chaos::lab
