// chaos-probe's command line: the flags, their --help text, and the
// validation that turns the strings into settings (errors name the flag).
// Defaults are the probe's behaviour before the client options existed, so
// experiments written earlier keep their meaning.
#pragma once

#include <CLI/CLI.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "lab/probe/probe_loops.h"
#include "lab/probe/broker_client.h"
#include "lab/probe/nats/nats_settings.h"

namespace chaos::lab::probe {

// Which broker the probe speaks to (--broker).
enum class Broker { kNats, kRabbitMq };

inline constexpr const char* kDefaultNatsServer = "nats://127.0.0.1:4222";
inline constexpr const char* kDefaultAmqpServer = "amqp://guest:guest@127.0.0.1:5672";

// How the probe's connection behaves (used by both drivers; max_pings_out
// is NATS only, ping_interval is the AMQP heartbeat for RabbitMQ).
struct SessionSettings {
  std::vector<std::string> servers;  // already rotated to start at --first-server
  bool randomize = false;
  Duration ping_interval = std::chrono::seconds(1);
  int max_pings_out = 2;
};

// Raw flag values as typed, then the validated settings.
struct ProbeFlags {
  std::string broker_name = "nats";
  Broker broker = Broker::kNats;
  std::string servers;  // empty: the broker's default (kDefaultNatsServer or kDefaultAmqpServer)
  std::string metrics_listen = "127.0.0.1:19800";
  std::string ack_timeout = "2s";
  std::string ack_wait = "5s";
  std::string loss_grace = "15s";
  std::string ping_interval = "1s";
  int first_server = 1;
  StreamSettings stream{"CHAOS_PROBE", "chaos.probe", 3};
  ConsumerSettings consumer;
  std::string queue = "chaos-probe";  // RabbitMQ only
  ProbeSettings settings;
  SessionSettings session;
  // Broker-specific flags given on the command line (filled while parsing),
  // so the other broker's flags are refused instead of silently ignored.
  std::set<std::string> given;
};

const char* broker_name(Broker broker);

void add_probe_flags(CLI::App& app, ProbeFlags& flags);
// Parses durations and the server list and checks every bound; fills
// flags.broker, flags.settings, flags.consumer and flags.session. Refuses
// the flags of the other broker, naming them.
Status resolve_probe_flags(ProbeFlags& flags);
std::vector<std::string> split_servers(const std::string& list);
// The labels of chaos_probe_config_info, durations normalised ("60s" -> "1m").
std::vector<std::pair<std::string, std::string>> config_info_labels(const ProbeFlags& flags);

}  // namespace chaos::lab::probe
