#include "lab/probe/rabbitmq/amqp_url.h"

#include <charconv>

namespace chaos::lab::probe {
namespace {

constexpr std::string_view kAmqpScheme = "amqp://";

int amqp_url_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text`; nullopt-like failure is reported as an error text.
StatusOr<std::string> amqp_url_decode(std::string_view text, std::string_view what) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    const int high = i + 1 < text.size() ? amqp_url_hex_digit(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? amqp_url_hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0) return invalid_argument("bad percent-encoding in the " + std::string(what));
    decoded += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return decoded;
}

}  // namespace

StatusOr<AmqpServer> parse_amqp_url(std::string_view url) {
  if (url.substr(0, kAmqpScheme.size()) != kAmqpScheme) {
    return invalid_argument("must start with amqp:// (amqps is not supported)");
  }
  std::string_view rest = url.substr(kAmqpScheme.size());
  AmqpServer server;
  const auto slash = rest.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!path.empty()) {
      auto vhost = amqp_url_decode(path, "vhost");
      if (!vhost.ok()) return vhost.status();
      server.vhost = *vhost;
    }
  }
  const auto at = rest.rfind('@');
  if (at == std::string_view::npos) return invalid_argument("has no USER:PASS@ (the user and password are required)");
  const std::string_view credentials = rest.substr(0, at);
  std::string_view host_port = rest.substr(at + 1);
  const auto colon = credentials.find(':');
  if (colon == std::string_view::npos || colon == 0) return invalid_argument("needs USER:PASS before @");
  auto user = amqp_url_decode(credentials.substr(0, colon), "user");
  if (!user.ok()) return user.status();
  auto password = amqp_url_decode(credentials.substr(colon + 1), "password");
  if (!password.ok()) return password.status();
  server.user = *user;
  server.password = *password;
  if (!host_port.empty() && host_port.front() == '[') {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return invalid_argument("has an unclosed [ in the host");
    server.host = std::string(host_port.substr(1, close - 1));
    host_port = host_port.substr(close + 1);
    if (!host_port.empty() && host_port.front() != ':') return invalid_argument("has text after ] that is not :PORT");
  } else {
    const auto port_colon = host_port.rfind(':');
    server.host = std::string(host_port.substr(0, port_colon));
    host_port = port_colon == std::string_view::npos ? std::string_view{} : host_port.substr(port_colon);
  }
  if (server.host.empty()) return invalid_argument("has no host");
  if (!host_port.empty()) {
    const std::string_view digits = host_port.substr(1);
    int port = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535) {
      return invalid_argument("has a bad port '" + std::string(digits) + "' (1..65535)");
    }
    server.port = port;
  }
  return server;
}

std::string amqp_url_masked(std::string_view url) {
  const auto scheme_end = url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto slash = url.find('/', start);
  const std::string_view authority = url.substr(start, slash == std::string_view::npos ? url.npos : slash - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start + colon + 1)) + "***" + std::string(url.substr(start + at));
}

std::string amqp_host_port(const AmqpServer& server) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + server.host + "]" : server.host) + ":" + std::to_string(server.port);
}

}  // namespace chaos::lab::probe
