// Which processes make up a lab and with which arguments: dnsmasq on the
// bridge, the broker (lab_broker()) and chaos-agent in every node namespace, Prometheus
// and chaos-probe on the host. Pure: unit tests read the argv lists.
#pragma once

#include <string>
#include <vector>

#include "lab/lab_layout.h"
#include "lab/process_spec.h"

namespace chaos::lab {

// In start order: DNS first (routes are resolved by name), Prometheus last
// but one, the probe last (it needs the cluster).
std::vector<ProcessSpec> lab_process_specs(const LabLayout& layout, const std::string& bin_dir);

// nats-server of `node` (a plain process or a Podman container).
ProcessSpec nats_process_spec(const LabLayout& layout, int node);

// Config files the processes read, relative to the state dir.
std::string nats_config_path(const LabLayout& layout, int node);
// The podman lab's API socket, which its agents find containers through.
std::string podman_api_socket_path(const LabLayout& layout);
std::string prometheus_config_path(const LabLayout& layout);
std::string dns_hosts_path(const LabLayout& layout);

}  // namespace chaos::lab
