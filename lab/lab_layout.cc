#include "lab/lab_layout.h"

#include <re2/re2.h>

namespace chaos::lab {

namespace {

// Interface names are at most 15 bytes; "<prefix>-v9" must fit.
constexpr std::size_t kMaxPrefixLength = 12;

bool valid_prefix(const std::string& prefix) {
  static const RE2 pattern("[a-z][a-z0-9]*");
  return !prefix.empty() && prefix.size() <= kMaxPrefixLength && RE2::FullMatch(prefix, pattern);
}

bool valid_subnet(const std::string& subnet) {
  static const RE2 pattern(R"((\d{1,3})\.(\d{1,3})\.(\d{1,3}))");
  int octets[3] = {0, 0, 0};
  if (!RE2::FullMatch(subnet, pattern, &octets[0], &octets[1], &octets[2])) return false;
  for (int octet : octets) {
    if (octet > 255) return false;
  }
  // Loopback and multicast/reserved ranges would be routed in surprising ways.
  const int first = octets[0];
  return first != 0 && first != 127 && first < 224;
}

bool valid_port(int port) { return port > 0 && port < 65536; }

}  // namespace

StatusOr<LabLayout> LabLayout::create(LabParams params) {
  if (!valid_prefix(params.prefix)) {
    return invalid_argument("lab --prefix '" + params.prefix + "': must be 1-" +
                            std::to_string(kMaxPrefixLength) +
                            " characters, lowercase letters and digits, starting with a letter");
  }
  if (!valid_subnet(params.subnet)) {
    return invalid_argument("lab --subnet '" + params.subnet +
                            "': must be the first three octets of a /24, e.g. 10.77.0");
  }
  if (params.nodes < 1 || params.nodes > kMaxNodes) {
    return invalid_argument("lab --nodes " + std::to_string(params.nodes) + ": must be 1.." +
                            std::to_string(kMaxNodes));
  }
  if (params.state_dir.empty() || params.state_dir.front() != '/' || params.state_dir == "/") {
    return invalid_argument("lab --state-dir '" + params.state_dir +
                            "': must be an absolute path other than /");
  }
  if (!valid_port(params.prometheus_port) || !valid_port(params.probe_port) ||
      params.prometheus_port == params.probe_port) {
    return invalid_argument("lab ports: --prometheus-port and --probe-port must be distinct, 1..65535");
  }
  if (params.runtime != kRuntimeProcess && params.runtime != kRuntimePodman) {
    return invalid_argument("lab --runtime '" + params.runtime + "': must be " + kRuntimeProcess + " or " +
                            kRuntimePodman);
  }
  if (params.broker != kBrokerNats && params.broker != kBrokerRabbitmq) {
    return invalid_argument("lab --broker '" + params.broker + "': must be " + kBrokerNats + " or " +
                            kBrokerRabbitmq);
  }
  if (params.broker == kBrokerRabbitmq && params.runtime == kRuntimePodman) {
    // The podman flavour copies one static binary into a minimal root
    // filesystem; RabbitMQ needs the whole Erlang runtime.
    return invalid_argument("lab --broker rabbitmq with --runtime podman: not supported yet (the broker "
                            "containers hold a static nats-server; Erlang is not static); use --runtime process");
  }
  while (params.state_dir.size() > 1 && params.state_dir.back() == '/') params.state_dir.pop_back();
  return LabLayout(std::move(params));
}

std::string LabLayout::node_name(int node) const { return "n" + std::to_string(node); }
std::string LabLayout::node_host(int node) const { return node_name(node) + "." + kDomain; }
std::string LabLayout::netns(int node) const { return params_.prefix + "-" + node_name(node); }
std::string LabLayout::host_link(int node) const { return params_.prefix + "-v" + std::to_string(node); }
std::string LabLayout::bridge() const { return params_.prefix + "0"; }
std::string LabLayout::bridge_ip() const { return params_.subnet + ".1"; }
std::string LabLayout::node_ip(int node) const { return params_.subnet + "." + std::to_string(10 + node); }
std::string LabLayout::cidr() const { return params_.subnet + ".0/24"; }

std::string LabLayout::nats_urls() const {
  std::string urls;
  for (int node = 1; node <= node_count(); ++node) {
    if (!urls.empty()) urls += ',';
    urls += "nats://" + node_ip(node) + ":" + std::to_string(kNatsClientPort);
  }
  return urls;
}

std::string LabLayout::prometheus_url() const {
  return "http://127.0.0.1:" + std::to_string(params_.prometheus_port);
}

std::string LabLayout::probe_metrics_address() const {
  return "127.0.0.1:" + std::to_string(params_.probe_port);
}

std::string LabLayout::path(const std::string& relative) const { return params_.state_dir + "/" + relative; }
std::string LabLayout::node_dir(int node) const { return path("nodes/" + node_name(node)); }
std::string LabLayout::pidfile(const std::string& process) const { return path("run/" + process + ".pid"); }
std::string LabLayout::logfile(const std::string& process) const { return path("logs/" + process + ".log"); }
std::string LabLayout::inventory_path() const { return path("inventory.toml"); }
std::string LabLayout::supervisor_pidfile() const { return pidfile("supervisor"); }
std::string LabLayout::runtime_path() const { return path("runtime"); }
std::string LabLayout::broker_path() const { return path("broker"); }
std::string LabLayout::rootfs_dir() const { return path("rootfs"); }
std::string LabLayout::container_name(int node) const {
  return params_.prefix + "-nats-" + std::to_string(node);
}
std::string LabLayout::netns_etc_dir(int node) const { return params_.netns_etc_root + "/" + netns(node); }

}  // namespace chaos::lab
