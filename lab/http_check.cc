#include "lab/http_check.h"

#include <httplib.h>

namespace chaos::lab {

StatusOr<HttpReply> http_get(const std::string& host, int port, const std::string& path,
                             std::chrono::milliseconds timeout) {
  httplib::Client client(host, port);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  auto result = client.Get(path);
  const std::string url = "http://" + host + ":" + std::to_string(port) + path;
  if (!result) return unavailable("GET " + url + ": " + httplib::to_string(result.error()));
  return HttpReply{result->status, result->body};
}

}  // namespace chaos::lab
