// One entry of chaos-probe's --servers for RabbitMQ:
// amqp://USER:PASS@HOST:PORT[/VHOST]. Pure parsing, no client library, so
// the flags validate (and unit tests run) without librabbitmq.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace chaos::lab::probe {

struct AmqpServer {
  std::string user;
  std::string password;
  std::string host;
  int port = 5672;
  std::string vhost = "/";
};

// The AMQP default port when the URL gives none.
inline constexpr int kAmqpDefaultPort = 5672;

// Accepts "amqp://USER:PASS@HOST:PORT", the port optional (5672) and an
// optional "/VHOST" path (percent-encoded, "%2F" is "/"; no path is the
// default vhost "/"). USER and PASS are required: RabbitMQ's guest user
// only logs in from localhost, so a lab URL without them would fail late.
// Errors describe what is wrong with `url` (the caller names the flag).
StatusOr<AmqpServer> parse_amqp_url(std::string_view url);

// `url` for error messages: the password of USER:PASS@ replaced by "***"
// (any text, parsed or not; text without credentials comes back as is).
std::string amqp_url_masked(std::string_view url);

// "HOST:PORT" for messages and metrics (never the password).
std::string amqp_host_port(const AmqpServer& server);

}  // namespace chaos::lab::probe
