#include "orchestrator/experiment/fault_spec_builder.h"

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>

#include "agent/targets/container_selector_checks.h"  // the agent's own checks
#include "orchestrator/experiment/byte_size.h"
#include "orchestrator/experiment/disk_fill_params.h"
#include "orchestrator/experiment/param_reader.h"
#include "orchestrator/experiment/proxy_fault_spec_builders.h"

namespace chaos::orchestrator {

namespace {

using Builder = std::function<Status(ParamReader&, v1::FaultSpec&)>;

Status set_duration(ParamReader& in, const std::string& name, google::protobuf::Duration* out,
                    bool required = false) {
  CHAOS_ASSIGN_OR_RETURN(auto value, in.duration(name));
  if (!value) return required ? in.missing(name) : Status{};
  set_proto_duration(*value, out);
  return {};
}

Status set_percent(ParamReader& in, const std::string& name, double& out, bool required = false) {
  CHAOS_ASSIGN_OR_RETURN(auto value, in.percent(name));
  if (!value) return required ? in.missing(name) : Status{};
  out = *value;
  return {};
}

StatusOr<v1::Direction> read_direction(ParamReader& in, v1::Direction fallback) {
  CHAOS_ASSIGN_OR_RETURN(auto index, in.choice("direction", {"egress", "ingress", "both"}));
  if (!index) return fallback;
  static const v1::Direction kDirections[] = {v1::DIRECTION_EGRESS, v1::DIRECTION_INGRESS,
                                              v1::DIRECTION_BOTH};
  return kDirections[*index];
}

// `with_direction` is false for partitions, whose direction lives on the
// partition itself (default both) rather than on the scope.
Status read_scope(ParamReader& in, v1::NetworkScope& scope, bool with_direction = true) {
  CHAOS_ASSIGN_OR_RETURN(auto interface, in.text("interface"));
  if (interface) scope.set_interface(*interface);
  CHAOS_ASSIGN_OR_RETURN(auto destinations, in.cidr_list("destination"));
  for (const auto& cidr : destinations) scope.add_destination_cidrs(cidr);
  CHAOS_ASSIGN_OR_RETURN(auto sources, in.cidr_list("source"));
  for (const auto& cidr : sources) scope.add_source_cidrs(cidr);
  CHAOS_ASSIGN_OR_RETURN(auto ports, in.port_list("ports"));
  for (auto port : ports) scope.add_ports(port);
  CHAOS_ASSIGN_OR_RETURN(auto protocol, in.choice("protocol", {"any", "tcp", "udp", "icmp"}));
  if (protocol) scope.set_protocol(static_cast<v1::NetworkScope::Protocol>(*protocol));
  if (with_direction) {
    CHAOS_ASSIGN_OR_RETURN(auto direction, read_direction(in, v1::DIRECTION_UNSPECIFIED));
    scope.set_direction(direction);
  }
  return {};
}

Status build_delay(ParamReader& in, v1::FaultSpec& spec) {
  auto& delay = *spec.mutable_network_delay();
  CHAOS_RETURN_IF_ERROR(set_duration(in, "delay", delay.mutable_delay(), true));
  CHAOS_RETURN_IF_ERROR(set_duration(in, "jitter", delay.mutable_jitter()));
  CHAOS_ASSIGN_OR_RETURN(auto distribution, in.choice("distribution", {"uniform", "normal", "pareto"}));
  if (distribution) delay.set_distribution(static_cast<v1::NetworkDelay::Distribution>(*distribution));
  double correlation = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "correlation", correlation));
  delay.set_correlation_percent(correlation);
  return read_scope(in, *delay.mutable_scope());
}

Status build_loss(ParamReader& in, v1::FaultSpec& spec) {
  auto& loss = *spec.mutable_network_loss();
  double value = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", value, true));
  loss.set_percent(value);
  value = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "correlation", value));
  loss.set_correlation_percent(value);
  if (in.has("burst_p") || in.has("burst_r") || in.has("burst_loss_bad") || in.has("burst_loss_good")) {
    auto& burst = *loss.mutable_burst();
    double p = 0, r = 0, bad = 100, good = 0;
    CHAOS_RETURN_IF_ERROR(set_percent(in, "burst_p", p, true));
    CHAOS_RETURN_IF_ERROR(set_percent(in, "burst_r", r, true));
    CHAOS_RETURN_IF_ERROR(set_percent(in, "burst_loss_bad", bad));
    // On the wire 0 means "unset", which the agent reads as 100 %.
    if (bad == 0) return in.error("burst_loss_bad", "must be above 0 (left out, the bad state loses 100 %)");
    CHAOS_RETURN_IF_ERROR(set_percent(in, "burst_loss_good", good));
    burst.set_p_percent(p);
    burst.set_r_percent(r);
    burst.set_loss_in_bad_percent(bad);
    burst.set_loss_in_good_percent(good);
  }
  return read_scope(in, *loss.mutable_scope());
}

Status build_partition(ParamReader& in, v1::FaultSpec& spec) {
  auto& partition = *spec.mutable_network_partition();
  CHAOS_ASSIGN_OR_RETURN(auto peers, in.cidr_list("peers"));
  if (peers.empty()) return in.missing("peers");
  for (const auto& cidr : peers) partition.add_cidrs(cidr);
  CHAOS_ASSIGN_OR_RETURN(auto direction, read_direction(in, v1::DIRECTION_BOTH));
  partition.set_direction(direction);
  return read_scope(in, *partition.mutable_scope(), /*with_direction=*/false);
}

Status build_bandwidth(ParamReader& in, v1::FaultSpec& spec) {
  auto& bandwidth = *spec.mutable_network_bandwidth();
  CHAOS_ASSIGN_OR_RETURN(auto rate, in.bit_rate("rate"));
  if (!rate) return in.missing("rate");
  bandwidth.set_rate_bits_per_second(*rate);
  CHAOS_ASSIGN_OR_RETURN(auto burst, in.unsigned_int("burst", std::numeric_limits<uint32_t>::max()));
  if (burst) bandwidth.set_burst_bytes(static_cast<uint32_t>(*burst));
  CHAOS_RETURN_IF_ERROR(set_duration(in, "latency", bandwidth.mutable_latency()));
  return read_scope(in, *bandwidth.mutable_scope());
}

Status build_duplicate(ParamReader& in, v1::FaultSpec& spec) {
  auto& duplicate = *spec.mutable_network_duplicate();
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", percent, true));
  duplicate.set_percent(percent);
  return read_scope(in, *duplicate.mutable_scope());
}

Status build_reorder(ParamReader& in, v1::FaultSpec& spec) {
  auto& reorder = *spec.mutable_network_reorder();
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", percent, true));
  reorder.set_percent(percent);
  CHAOS_RETURN_IF_ERROR(set_duration(in, "delay", reorder.mutable_delay()));
  return read_scope(in, *reorder.mutable_scope());
}

Status build_dns(ParamReader& in, v1::FaultSpec& spec) {
  auto& dns = *spec.mutable_dns();
  CHAOS_ASSIGN_OR_RETURN(auto patterns, in.list("patterns"));
  if (patterns.empty()) return in.missing("patterns");
  for (const auto& pattern : patterns) dns.add_patterns(pattern);
  CHAOS_ASSIGN_OR_RETURN(auto mode, in.choice("mode", {"nxdomain", "servfail", "refused", "timeout",
                                                       "delay", "spoof"}));
  if (!mode) return in.missing("mode");
  dns.set_mode(static_cast<v1::DnsFault::Mode>(*mode + 1));
  CHAOS_RETURN_IF_ERROR(set_duration(in, "delay", dns.mutable_delay()));
  if (dns.mode() == v1::DnsFault::MODE_DELAY && dns.delay().seconds() == 0 && dns.delay().nanos() == 0) {
    return in.missing("delay");
  }
  CHAOS_ASSIGN_OR_RETURN(auto addresses, in.cidr_list("addresses"));
  for (const auto& address : addresses) dns.add_spoof_addresses(address);
  if (dns.mode() == v1::DnsFault::MODE_SPOOF && addresses.empty()) return in.missing("addresses");
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", percent));
  dns.set_percent(percent);
  return {};
}

Status read_process_target(ParamReader& in, v1::ProcessTarget& target) {
  int selectors = 0;
  for (const char* name : {"name", "cmdline", "pid", "pidfile"}) selectors += in.has(name) ? 1 : 0;
  if (selectors != 1) {
    return in.error(in.has("name") ? "name" : "cmdline",
                    "exactly one of name, cmdline, pid, pidfile is required");
  }
  CHAOS_ASSIGN_OR_RETURN(auto name, in.text("name"));
  if (name) target.set_name(*name);
  CHAOS_ASSIGN_OR_RETURN(auto cmdline, in.text("cmdline"));
  if (cmdline) target.set_cmdline_regex(*cmdline);
  CHAOS_ASSIGN_OR_RETURN(auto pid, in.signed_int("pid"));
  if (pid) target.set_pid(static_cast<int32_t>(*pid));
  CHAOS_ASSIGN_OR_RETURN(auto pidfile, in.text("pidfile"));
  if (pidfile) target.set_pidfile(*pidfile);
  CHAOS_ASSIGN_OR_RETURN(auto count, in.unsigned_int("count", std::numeric_limits<uint32_t>::max()));
  if (count) target.set_count(static_cast<uint32_t>(*count));
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", percent));
  target.set_percent(percent);
  return {};
}

Status build_kill(ParamReader& in, v1::FaultSpec& spec) {
  auto& kill = *spec.mutable_process_kill();
  CHAOS_RETURN_IF_ERROR(read_process_target(in, *kill.mutable_target()));
  CHAOS_ASSIGN_OR_RETURN(auto signal, in.text("signal"));
  kill.set_signal(signal.value_or("KILL"));
  return set_duration(in, "interval", kill.mutable_interval());
}

Status build_pause(ParamReader& in, v1::FaultSpec& spec) {
  return read_process_target(in, *spec.mutable_process_pause()->mutable_target());
}

// stress.*: the target whose cgroup the workers join is optional; its
// selector params are the same as process.kill's.
template <class StressSpec>
Status read_optional_process_target(ParamReader& in, StressSpec& stress) {
  for (const char* name : {"name", "cmdline", "pid", "pidfile"}) {
    if (in.has(name)) return read_process_target(in, *stress.mutable_target());
  }
  return {};
}

Status build_stress_cpu(ParamReader& in, v1::FaultSpec& spec) {
  auto& stress = *spec.mutable_stress_cpu();
  CHAOS_ASSIGN_OR_RETURN(auto workers, in.unsigned_int("workers", 64));
  stress.set_workers(static_cast<uint32_t>(workers.value_or(1)));
  if (stress.workers() == 0) return in.error("workers", "must be at least 1");
  double load = 100;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "load", load));
  if (load <= 0) return in.error("load", "must be above 0");
  stress.set_load_percent(load);
  return read_optional_process_target(in, stress);
}

// "256MiB", "1.5GiB", "4096" (bytes), up to 1TiB; binary units only, so
// "MB" is never taken for a MiB.
StatusOr<std::optional<uint64_t>> read_memory_size(ParamReader& in, const std::string& name) {
  CHAOS_ASSIGN_OR_RETURN(auto text, in.text(name));
  if (!text) return std::optional<uint64_t>{};
  auto bytes = parse_byte_size(*text, 1ULL << 40, ByteUnits::kBinaryOnly);
  if (!bytes.ok()) return in.error(name, bytes.status().message());
  if (*bytes == 0) return in.error(name, "must be above 0");
  return std::optional<uint64_t>{*bytes};
}

Status build_stress_memory(ParamReader& in, v1::FaultSpec& spec) {
  auto& stress = *spec.mutable_stress_memory();
  if (in.has("size") == in.has("percent")) return in.error("size", "exactly one of size, percent is required");
  CHAOS_ASSIGN_OR_RETURN(auto size, read_memory_size(in, "size"));
  if (size) stress.set_bytes(*size);
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", percent));
  if (in.has("percent") && percent <= 0) return in.error("percent", "must be above 0");
  stress.set_percent(percent);
  CHAOS_ASSIGN_OR_RETURN(auto workers, in.unsigned_int("workers", 16));
  stress.set_workers(static_cast<uint32_t>(workers.value_or(1)));
  if (stress.workers() == 0) return in.error("workers", "must be at least 1");
  return read_optional_process_target(in, stress);
}

// path, at least one limit, and a process target (name, cmdline, pid or
// pidfile, as process.kill), or none: the container (FaultSpec.target). The
// agent checks the bounds and that a target is given.
Status build_disk_throttle(ParamReader& in, v1::FaultSpec& spec) {
  auto& throttle = *spec.mutable_disk_throttle();
  CHAOS_ASSIGN_OR_RETURN(auto path, in.text("path"));
  if (!path) return in.missing("path");
  throttle.set_path(*path);
  constexpr uint64_t kMaxRate = uint64_t{1} << 40;
  CHAOS_ASSIGN_OR_RETURN(auto read_bps, in.unsigned_int("read_bytes_per_second", kMaxRate));
  CHAOS_ASSIGN_OR_RETURN(auto write_bps, in.unsigned_int("write_bytes_per_second", kMaxRate));
  CHAOS_ASSIGN_OR_RETURN(auto read_iops, in.unsigned_int("read_iops", 10'000'000));
  CHAOS_ASSIGN_OR_RETURN(auto write_iops, in.unsigned_int("write_iops", 10'000'000));
  if (!read_bps && !write_bps && !read_iops && !write_iops) {
    return in.error("write_bytes_per_second",
                    "at least one of read_bytes_per_second, write_bytes_per_second, read_iops, write_iops is required");
  }
  throttle.set_read_bytes_per_second(read_bps.value_or(0));
  throttle.set_write_bytes_per_second(write_bps.value_or(0));
  throttle.set_read_iops(read_iops.value_or(0));
  throttle.set_write_iops(write_iops.value_or(0));
  for (const char* name : {"name", "cmdline", "pid", "pidfile"}) {
    if (in.has(name)) return read_process_target(in, *throttle.mutable_target());
  }
  return {};
}

// tcp.* (issue 19): the connections a proxy fault intercepts.
Status read_tcp_scope(ParamReader& in, v1::TcpScope& scope) {
  CHAOS_RETURN_IF_ERROR(read_proxy_scope(in, scope));
  double percent = 0;
  CHAOS_RETURN_IF_ERROR(set_percent(in, "percent", percent));
  scope.set_percent(percent);
  CHAOS_ASSIGN_OR_RETURN(auto direction, in.choice("direction", {"client_to_server", "server_to_client", "both"}));
  if (direction) scope.set_direction(static_cast<v1::TcpDirection>(*direction + 1));
  return {};
}

Status build_tcp_latency(ParamReader& in, v1::FaultSpec& spec) {
  auto& latency = *spec.mutable_tcp_latency();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *latency.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(set_duration(in, "delay", latency.mutable_delay(), true));
  CHAOS_RETURN_IF_ERROR(set_duration(in, "jitter", latency.mutable_jitter()));
  CHAOS_ASSIGN_OR_RETURN(auto reorder, in.choice("allow_reorder", {"false", "true"}));
  latency.set_allow_reorder(reorder.value_or(0) == 1);
  return {};
}

Status build_tcp_reset_peer(ParamReader& in, v1::FaultSpec& spec) {
  auto& reset = *spec.mutable_tcp_reset_peer();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *reset.mutable_scope()));
  CHAOS_RETURN_IF_ERROR(set_duration(in, "after", reset.mutable_after()));
  CHAOS_ASSIGN_OR_RETURN(auto bytes, in.unsigned_int("after_bytes", uint64_t{1} << 40));
  if (bytes) reset.set_after_bytes(*bytes);
  if (!in.has("after") && !bytes) return in.missing("after");
  return {};
}

Status build_tcp_limit_data(ParamReader& in, v1::FaultSpec& spec) {
  auto& limit = *spec.mutable_tcp_limit_data();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *limit.mutable_scope()));
  CHAOS_ASSIGN_OR_RETURN(auto bytes, in.unsigned_int("bytes", uint64_t{1} << 40));
  if (!bytes) return in.missing("bytes");
  if (*bytes == 0) return in.error("bytes", "must be at least 1");
  limit.set_bytes(*bytes);
  return {};
}

Status build_tcp_bandwidth(ParamReader& in, v1::FaultSpec& spec) {
  auto& bandwidth = *spec.mutable_tcp_bandwidth();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *bandwidth.mutable_scope()));
  CHAOS_ASSIGN_OR_RETURN(auto rate, in.unsigned_int("bytes_per_second", uint64_t{1} << 34));
  if (!rate) return in.missing("bytes_per_second");
  if (*rate == 0) return in.error("bytes_per_second", "must be at least 1");
  bandwidth.set_bytes_per_second(*rate);
  return {};
}

Status build_tcp_slow_close(ParamReader& in, v1::FaultSpec& spec) {
  auto& slow_close = *spec.mutable_tcp_slow_close();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *slow_close.mutable_scope()));
  return set_duration(in, "delay", slow_close.mutable_delay(), true);
}

Status build_tcp_timeout(ParamReader& in, v1::FaultSpec& spec) {
  auto& timeout = *spec.mutable_tcp_timeout();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *timeout.mutable_scope()));
  return set_duration(in, "timeout", timeout.mutable_timeout());
}

Status build_tcp_slicer(ParamReader& in, v1::FaultSpec& spec) {
  auto& slicer = *spec.mutable_tcp_slicer();
  CHAOS_RETURN_IF_ERROR(read_tcp_scope(in, *slicer.mutable_scope()));
  CHAOS_ASSIGN_OR_RETURN(auto average, in.unsigned_int("average_size", 64 * 1024));
  if (!average) return in.missing("average_size");
  if (*average == 0) return in.error("average_size", "must be at least 1");
  slicer.set_average_size(static_cast<uint32_t>(*average));
  CHAOS_ASSIGN_OR_RETURN(auto variation, in.unsigned_int("size_variation", 64 * 1024));
  if (variation && *variation >= *average) return in.error("size_variation", "must be below average_size");
  slicer.set_size_variation(static_cast<uint32_t>(variation.value_or(0)));
  return set_duration(in, "delay", slicer.mutable_delay());
}

// The whole container is the target (FaultSpec.target): no parameters.
Status build_container_pause(ParamReader&, v1::FaultSpec& spec) {
  spec.mutable_container_pause();
  return {};
}

const std::map<std::string, Builder>& builders() {
  static const std::map<std::string, Builder> table = {
      {"network.delay", build_delay},         {"network.loss", build_loss},
      {"network.partition", build_partition}, {"network.bandwidth", build_bandwidth},
      {"network.duplicate", build_duplicate}, {"network.reorder", build_reorder},
      {"dns.fail", build_dns},                {"process.kill", build_kill},
      {"process.pause", build_pause},         {"stress.cpu", build_stress_cpu},
      {"container.pause", build_container_pause},
      {"disk.throttle", build_disk_throttle},
      {"disk.fill", build_disk_fill},
      {"stress.memory", build_stress_memory},
      {"tcp.latency", build_tcp_latency},     {"tcp.reset_peer", build_tcp_reset_peer},
      {"tcp.limit_data", build_tcp_limit_data},
      {"tcp.bandwidth", build_tcp_bandwidth},   {"tcp.slow_close", build_tcp_slow_close},
      {"tcp.timeout", build_tcp_timeout},       {"tcp.slicer", build_tcp_slicer},
      {"http.abort", build_http_abort},       {"http.delay", build_http_delay},
      {"http.headers", build_http_headers},   {"nats.delay", build_nats_delay},
      {"nats.drop", build_nats_drop},
  };
  return table;
}

}  // namespace

void set_proto_duration(std::chrono::nanoseconds value, google::protobuf::Duration* out) {
  out->set_seconds(value.count() / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(value.count() % 1'000'000'000));
}

std::chrono::nanoseconds duration_from_proto(const google::protobuf::Duration& duration) {
  return std::chrono::seconds(duration.seconds()) + std::chrono::nanoseconds(duration.nanos());
}

std::optional<WallTime> wall_time_from_proto(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() == 0 && timestamp.nanos() == 0) return std::nullopt;
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(timestamp.seconds()) +
                                                                 std::chrono::nanoseconds(timestamp.nanos())));
}

StatusOr<v1::FaultSpec> build_fault_spec(const std::string& kind, const ParamMap& params,
                                         const std::string& origin) {
  const auto builder = builders().find(kind);
  if (builder == builders().end()) {
    std::string known;
    for (const auto& [name, unused] : builders()) known += (known.empty() ? "" : ", ") + name;
    return invalid_argument(origin + ": unknown fault kind '" + kind + "' (known: " + known + ")");
  }
  v1::FaultSpec spec;
  ParamReader reader(params, kind, origin);
  CHAOS_RETURN_IF_ERROR(builder->second(reader, spec));
  CHAOS_RETURN_IF_ERROR(reader.check_all_used());
  return spec;
}

Status check_container_target(const v1::ContainerSelector& target, const std::string& field) {
  return agent::validate_container_selector(target, field);
}

Status set_container_target(const v1::ContainerSelector& target, const std::string& field, v1::FaultSpec& spec) {
  CHAOS_RETURN_IF_ERROR(check_container_target(target, field));
  *spec.mutable_target() = target;
  return {};
}

std::string describe_container_target(const v1::ContainerSelector& target) {
  std::string out = agent::describe_selector(target);
  if (target.count() > 0) out += ", at most " + std::to_string(target.count());
  if (target.percent() > 0) {
    char percent[32];
    std::snprintf(percent, sizeof percent, "%g", target.percent());
    out += ", " + std::string(percent) + "% of them";
  }
  return out;
}

Status check_container_target_given(const v1::FaultSpec& spec, const std::string& kind, const std::string& origin) {
  if (spec.kind_case() != v1::FaultSpec::kContainerPause || spec.has_target()) return {};
  return invalid_argument(origin + ": " + kind + " needs a target (the containers to act in)");
}

}  // namespace chaos::orchestrator
