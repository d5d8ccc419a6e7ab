// The lab's configuration files, rendered from a LabLayout. Pure functions:
// the unit tests check them without root, and `up` writes them to disk.
#pragma once

#include <string>

#include "lab/lab_layout.h"

namespace chaos::lab {

// `text` in double quotes, as the TOML, YAML and nats-server files want a
// string (the lab's paths and names hold no quote or backslash).
std::string quoted(const std::string& text);

// nats-server config for one node: cluster routes by lab host name (so DNS
// faults on a node break route resolution for real) and JetStream on disk.
std::string render_nats_config(const LabLayout& layout, int node);

// Prometheus scraping every agent and the probe each second, plus the
// broker's own jobs (RabbitMQ: job rabbitmq).
std::string render_prometheus_config(const LabLayout& layout);

// dnsmasq hosts file: "10.77.0.11 n1.lab n1".
std::string render_dns_hosts(const LabLayout& layout);

// resolv.conf for every node namespace: the bridge's dnsmasq only.
std::string render_resolv_conf(const LabLayout& layout);

// The inventory chaosctl reads: one [[agents]] entry per node. The node
// that leads the probe's stream or queue (if known) carries the broker's
// leader label (stream_leader or queue_leader) = "true", the others
// "false", so an experiment can target the leader by label.
std::string render_inventory(const LabLayout& layout, const std::string& leader_node = "");
// `stream_leader = "true"`: how render_inventory writes a node's leader
// label, and what `lab up` waits for.
std::string inventory_leader_label(const std::string& label, bool leader);

}  // namespace chaos::lab
