#include "orchestrator/experiment/fault_spec_builder.h"

#include <gtest/gtest.h>

namespace chaos::orchestrator {
namespace {

ParamMap cli(const std::vector<std::string>& assignments) {
  ParamMap params;
  for (const auto& assignment : assignments) {
    const Status status = add_cli_param(assignment, params);
    EXPECT_TRUE(status.ok()) << status.message();
  }
  return params;
}

TEST(FaultSpecBuilder, DelayWithScopeFromCliParams) {
  auto spec = build_fault_spec("network.delay",
                               cli({"delay=50ms", "jitter=10ms", "distribution=normal", "correlation=25",
                                    "destination=10.77.0.0/24,10.78.0.1", "ports=4222,6222",
                                    "protocol=tcp", "direction=both"}),
                               "test");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const auto& delay = spec->network_delay();
  EXPECT_EQ(delay.delay().nanos(), 50'000'000);
  EXPECT_EQ(delay.jitter().nanos(), 10'000'000);
  EXPECT_EQ(delay.distribution(), v1::NetworkDelay::DISTRIBUTION_NORMAL);
  EXPECT_DOUBLE_EQ(delay.correlation_percent(), 25);
  ASSERT_EQ(delay.scope().destination_cidrs_size(), 2);
  EXPECT_EQ(delay.scope().destination_cidrs(1), "10.78.0.1");
  ASSERT_EQ(delay.scope().ports_size(), 2);
  EXPECT_EQ(delay.scope().ports(0), 4222u);
  EXPECT_EQ(delay.scope().protocol(), v1::NetworkScope::PROTOCOL_TCP);
  EXPECT_EQ(delay.scope().direction(), v1::DIRECTION_BOTH);
}

TEST(FaultSpecBuilder, MissingRequiredParamIsNamed) {
  auto spec = build_fault_spec("network.delay", cli({"jitter=1ms"}), "exp.toml:7:8");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "exp.toml:7:8: network.delay needs param 'delay'");
}

TEST(FaultSpecBuilder, UnknownParamIsAnErrorNamingIt) {
  auto spec = build_fault_spec("network.loss", cli({"percent=5", "precent=5"}), "test");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(), "--param precent: network.loss param 'precent': unknown parameter for this fault kind");
}

TEST(FaultSpecBuilder, RejectsBadValues) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
      {"network.delay", {"delay=50"}},                 // unit-less duration
      {"network.delay", {"delay=-5ms"}},
      {"network.loss", {"percent=101"}},
      {"network.loss", {"percent=abc"}},
      {"network.partition", {"peers=10.0.0.0/33"}},
      {"network.partition", {"peers=not-an-ip"}},
      {"network.delay", {"delay=1ms", "ports=0"}},
      {"network.delay", {"delay=1ms", "ports=70000"}},
      {"network.delay", {"delay=1ms", "protocol=sctp"}},
      {"network.bandwidth", {"rate=fast"}},
      {"network.bandwidth", {"rate=-1mbit"}},
      {"dns.fail", {"patterns=*.lab", "mode=explode"}},
      {"dns.fail", {"patterns=*.lab", "mode=delay"}},  // delay mode needs delay
      {"process.kill", {"name=a", "pid=3"}},           // two selectors
      {"process.kill", {"signal=TERM"}},               // no selector
      {"process.pause", {"pid=12x"}},
      {"process.kill", {"name=a,b"}},                  // list for a scalar
  };
  for (const auto& [kind, params] : bad) {
    auto spec = build_fault_spec(kind, cli(params), "test");
    EXPECT_FALSE(spec.ok()) << kind << " " << params.front() << " " << spec->ShortDebugString();
  }
}

TEST(FaultSpecBuilder, UnknownKindListsKnownKinds) {
  auto spec = build_fault_spec("network.teleport", {}, "here");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("unknown fault kind 'network.teleport'"), std::string::npos);
  EXPECT_NE(spec.status().message().find("process.pause"), std::string::npos);
}

TEST(FaultSpecBuilder, BandwidthRatesInBitsPerSecond) {
  auto mbit = build_fault_spec("network.bandwidth", cli({"rate=1mbit", "burst=32000"}), "test");
  ASSERT_TRUE(mbit.ok()) << mbit.status().message();
  EXPECT_EQ(mbit->network_bandwidth().rate_bits_per_second(), 1'000'000u);
  EXPECT_EQ(mbit->network_bandwidth().burst_bytes(), 32000u);
  auto plain = build_fault_spec("network.bandwidth", cli({"rate=640000"}), "test");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->network_bandwidth().rate_bits_per_second(), 640'000u);
  auto kbit = build_fault_spec("network.bandwidth", cli({"rate=500kbit"}), "test");
  ASSERT_TRUE(kbit.ok());
  EXPECT_EQ(kbit->network_bandwidth().rate_bits_per_second(), 500'000u);
}

// On the wire a bad-state loss of 0 means "unset", which the agent applies
// as 100 %: an explicit 0 is refused rather than turned into its opposite.
TEST(FaultSpecBuilder, BurstLossBadStateDefaultsTo100AndRefusesZero) {
  auto defaulted = build_fault_spec("network.loss", cli({"percent=1", "burst_p=1", "burst_r=30"}), "test");
  ASSERT_TRUE(defaulted.ok()) << defaulted.status().message();
  EXPECT_EQ(defaulted->network_loss().burst().loss_in_bad_percent(), 100);
  auto zero = build_fault_spec("network.loss", cli({"percent=1", "burst_p=1", "burst_r=30", "burst_loss_bad=0"}),
                               "test");
  ASSERT_FALSE(zero.ok());
  // Located where the value came from (here the flag; in a file, its line).
  EXPECT_EQ(zero.status().message(),
            "--param burst_loss_bad: network.loss param 'burst_loss_bad': must be above 0 (left out, the bad state "
            "loses 100 %)");
}

TEST(FaultSpecBuilder, PartitionDefaultsToBothDirections) {
  auto spec = build_fault_spec("network.partition", cli({"peers=10.77.0.12,10.77.0.13", "ports=6222"}), "t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->network_partition().direction(), v1::DIRECTION_BOTH);
  EXPECT_EQ(spec->network_partition().cidrs_size(), 2);
  EXPECT_EQ(spec->network_partition().scope().ports(0), 6222u);
}

TEST(FaultSpecBuilder, ProcessKillDefaultsToSigkill) {
  auto spec = build_fault_spec("process.kill", cli({"name=nats-server", "count=1", "interval=5s"}), "t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->process_kill().signal(), "KILL");
  EXPECT_EQ(spec->process_kill().target().name(), "nats-server");
  EXPECT_EQ(spec->process_kill().target().count(), 1u);
  EXPECT_EQ(spec->process_kill().interval().seconds(), 5);
}

TEST(FaultSpecBuilder, StressCpuDefaultsToOneWorkerAtFullLoad) {
  auto defaults = build_fault_spec("stress.cpu", {}, "t");
  ASSERT_TRUE(defaults.ok()) << defaults.status().message();
  EXPECT_EQ(defaults->stress_cpu().workers(), 1u);
  EXPECT_DOUBLE_EQ(defaults->stress_cpu().load_percent(), 100);
  auto two = build_fault_spec("stress.cpu", cli({"workers=2", "load=80"}), "t");
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_EQ(two->stress_cpu().workers(), 2u);
  EXPECT_DOUBLE_EQ(two->stress_cpu().load_percent(), 80);
  EXPECT_EQ(build_fault_spec("stress.cpu", cli({"workers=65"}), "t").status().message(),
            "--param workers: stress.cpu param 'workers': '65' is not an integer between 0 and 64");
  EXPECT_EQ(build_fault_spec("stress.cpu", cli({"workers=0"}), "t").status().message(),
            "--param workers: stress.cpu param 'workers': must be at least 1");
  EXPECT_FALSE(build_fault_spec("stress.cpu", cli({"load=0"}), "t").ok());
}

TEST(FaultSpecBuilder, DiskThrottleNeedsAPathAndALimitAndTakesAProcessTarget) {
  auto spec = build_fault_spec("disk.throttle", cli({"path=/var/lib/nats", "write_bytes_per_second=1048576",
                                                     "write_iops=50", "name=nats-server"}), "t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->disk_throttle().path(), "/var/lib/nats");
  EXPECT_EQ(spec->disk_throttle().write_bytes_per_second(), 1048576u);
  EXPECT_EQ(spec->disk_throttle().write_iops(), 50u);
  EXPECT_EQ(spec->disk_throttle().read_bytes_per_second(), 0u);
  EXPECT_EQ(spec->disk_throttle().target().name(), "nats-server");
  auto container = build_fault_spec("disk.throttle", cli({"path=/data", "read_iops=100"}), "t");
  ASSERT_TRUE(container.ok()) << container.status().message();
  EXPECT_FALSE(container->disk_throttle().has_target());
  EXPECT_EQ(build_fault_spec("disk.throttle", cli({"path=/data"}), "t").status().message(),
            "t: disk.throttle param 'write_bytes_per_second': at least one of "
            "read_bytes_per_second, write_bytes_per_second, read_iops, write_iops is required");
  EXPECT_FALSE(build_fault_spec("disk.throttle", cli({"write_iops=5"}), "t").ok());
  EXPECT_FALSE(build_fault_spec("disk.throttle", cli({"path=/data", "write_iops=5", "name=a", "pid=3"}), "t").ok());
}

TEST(FaultSpecBuilder, StressCpuTakesAnOptionalProcessTarget) {
  auto placed = build_fault_spec("stress.cpu", cli({"workers=4", "name=nats-server"}), "t");
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_EQ(placed->stress_cpu().target().name(), "nats-server");
  EXPECT_FALSE(build_fault_spec("stress.cpu", {}, "t")->stress_cpu().has_target());
}

TEST(FaultSpecBuilder, StressMemoryTakesASizeOrAPercent) {
  auto sized = build_fault_spec("stress.memory", cli({"size=256MiB", "workers=2", "pid=412"}), "t");
  ASSERT_TRUE(sized.ok()) << sized.status().message();
  EXPECT_EQ(sized->stress_memory().bytes(), 256ULL << 20);
  EXPECT_EQ(sized->stress_memory().workers(), 2u);
  EXPECT_EQ(sized->stress_memory().target().pid(), 412);
  EXPECT_EQ(build_fault_spec("stress.memory", cli({"size=1.5GiB"}), "t")->stress_memory().bytes(), 3ULL << 29);
  EXPECT_EQ(build_fault_spec("stress.memory", cli({"size=4096"}), "t")->stress_memory().bytes(), 4096u);
  auto percent = build_fault_spec("stress.memory", cli({"percent=25"}), "t");
  ASSERT_TRUE(percent.ok()) << percent.status().message();
  EXPECT_DOUBLE_EQ(percent->stress_memory().percent(), 25);
  EXPECT_EQ(percent->stress_memory().workers(), 1u);
  EXPECT_FALSE(percent->stress_memory().has_target());
  EXPECT_EQ(build_fault_spec("stress.memory", {}, "t").status().message(),
            "t: stress.memory param 'size': exactly one of size, percent is required");
  EXPECT_EQ(build_fault_spec("stress.memory", cli({"size=2TiB"}), "t").status().message(),
            "--param size: stress.memory param 'size': '2TiB' is more than 1099511627776 bytes");
  EXPECT_EQ(build_fault_spec("stress.memory", cli({"size=12MB"}), "t").status().message(),
            "--param size: stress.memory param 'size': '12MB': MB is not taken here (it is read as powers of 1000 "
            "elsewhere): use KiB, MiB, GiB, TiB or a number of bytes");
  EXPECT_EQ(build_fault_spec("stress.memory", cli({"size=0MiB"}), "t").status().message(),
            "--param size: stress.memory param 'size': must be above 0");
  EXPECT_EQ(build_fault_spec("stress.memory", cli({"size=64 mib"}), "t")->stress_memory().bytes(), 64ULL << 20);
  EXPECT_FALSE(build_fault_spec("stress.memory", cli({"size=64MiB", "workers=17"}), "t").ok());
}

TEST(FaultSpecBuilder, TcpKindsReadTheScopeAndTheirOwnParams) {
  auto latency = build_fault_spec("tcp.latency", cli({"port=4222", "delay=50ms", "jitter=5ms", "origin=local",
                                                      "direction=server_to_client", "percent=50"}), "t");
  ASSERT_TRUE(latency.ok()) << latency.status().message();
  EXPECT_EQ(latency->tcp_latency().scope().port(), 4222u);
  EXPECT_EQ(latency->tcp_latency().scope().origin(), v1::TcpScope::ORIGIN_LOCAL);
  EXPECT_EQ(latency->tcp_latency().scope().direction(), v1::TCP_DIRECTION_SERVER_TO_CLIENT);
  EXPECT_DOUBLE_EQ(latency->tcp_latency().scope().percent(), 50);
  EXPECT_EQ(latency->tcp_latency().delay().nanos(), 50'000'000);
  EXPECT_EQ(build_fault_spec("tcp.latency", cli({"delay=50ms"}), "t").status().message(),
            "t: tcp.latency needs param 'port'");
  auto reset = build_fault_spec("tcp.reset_peer", cli({"port=80", "after_bytes=100"}), "t");
  ASSERT_TRUE(reset.ok()) << reset.status().message();
  EXPECT_EQ(reset->tcp_reset_peer().after_bytes(), 100u);
  EXPECT_FALSE(build_fault_spec("tcp.reset_peer", cli({"port=80"}), "t").ok());
  auto limit = build_fault_spec("tcp.limit_data", cli({"port=80", "bytes=1000"}), "t");
  ASSERT_TRUE(limit.ok()) << limit.status().message();
  EXPECT_EQ(limit->tcp_limit_data().bytes(), 1000u);
}

TEST(FaultSpecBuilder, BuildsTheShapingTcpKinds) {
  auto bandwidth = build_fault_spec("tcp.bandwidth", cli({"port=4222", "bytes_per_second=5000"}), "t");
  ASSERT_TRUE(bandwidth.ok()) << bandwidth.status().message();
  EXPECT_EQ(bandwidth->tcp_bandwidth().bytes_per_second(), 5000u);
  EXPECT_EQ(build_fault_spec("tcp.bandwidth", cli({"port=4222"}), "t").status().message(),
            "t: tcp.bandwidth needs param 'bytes_per_second'");
  EXPECT_EQ(build_fault_spec("tcp.bandwidth", cli({"port=4222", "bytes_per_second=0"}), "t").status().message(),
            "--param bytes_per_second: tcp.bandwidth param 'bytes_per_second': must be at least 1");

  auto slow_close =
      build_fault_spec("tcp.slow_close", cli({"port=80", "delay=2s", "direction=client_to_server"}), "t");
  ASSERT_TRUE(slow_close.ok()) << slow_close.status().message();
  EXPECT_EQ(slow_close->tcp_slow_close().delay().seconds(), 2);
  EXPECT_EQ(slow_close->tcp_slow_close().scope().direction(), v1::TCP_DIRECTION_CLIENT_TO_SERVER);
  EXPECT_EQ(build_fault_spec("tcp.slow_close", cli({"port=80"}), "t").status().message(),
            "t: tcp.slow_close needs param 'delay'");

  auto timeout = build_fault_spec("tcp.timeout", cli({"port=80"}), "t");
  ASSERT_TRUE(timeout.ok()) << timeout.status().message();
  EXPECT_EQ(timeout->tcp_timeout().timeout().seconds(), 0) << "no timeout: held until revert";
  EXPECT_EQ(timeout->tcp_timeout().timeout().nanos(), 0);
  timeout = build_fault_spec("tcp.timeout", cli({"port=80", "timeout=5s", "reset_existing=true"}), "t");
  ASSERT_TRUE(timeout.ok()) << timeout.status().message();
  EXPECT_EQ(timeout->tcp_timeout().timeout().seconds(), 5);
  EXPECT_TRUE(timeout->tcp_timeout().scope().reset_existing());

  auto slicer =
      build_fault_spec("tcp.slicer", cli({"port=80", "average_size=64", "size_variation=16", "delay=5ms"}), "t");
  ASSERT_TRUE(slicer.ok()) << slicer.status().message();
  EXPECT_EQ(slicer->tcp_slicer().average_size(), 64u);
  EXPECT_EQ(slicer->tcp_slicer().size_variation(), 16u);
  EXPECT_EQ(slicer->tcp_slicer().delay().nanos(), 5'000'000);
  EXPECT_FALSE(slicer->tcp_slicer().scope().reset_existing());
  EXPECT_EQ(build_fault_spec("tcp.slicer", cli({"port=80", "average_size=8", "size_variation=8"}), "t")
                .status()
                .message(),
            "--param size_variation: tcp.slicer param 'size_variation': must be below average_size");
  EXPECT_EQ(build_fault_spec("tcp.slicer", cli({"port=80", "average_size=8", "reset_existing=maybe"}), "t")
                .status()
                .message(),
            "--param reset_existing: tcp.slicer param 'reset_existing': 'maybe' is not one of false|true");
}

TEST(FaultSpecBuilder, DnsSpoofNeedsAddresses) {
  EXPECT_FALSE(build_fault_spec("dns.fail", cli({"patterns=*.lab", "mode=spoof"}), "t").ok());
  auto spec = build_fault_spec("dns.fail", cli({"patterns=*.lab,nats.example", "mode=spoof",
                                                "addresses=192.0.2.1,2001:db8::1"}), "t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->dns().mode(), v1::DnsFault::MODE_SPOOF);
  EXPECT_EQ(spec->dns().spoof_addresses_size(), 2);
  EXPECT_EQ(spec->dns().patterns(1), "nats.example");
}

TEST(FaultSpecBuilder, ContainerTargetIsCheckedLikeTheAgentChecksIt) {
  auto spec = build_fault_spec("network.loss", cli({"percent=5"}), "t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  v1::ContainerSelector target;
  target.set_runtime("podman");
  target.set_id_prefix("3f2a9c");
  ASSERT_TRUE(set_container_target(target, "--container-*", *spec).ok());
  EXPECT_EQ(spec->target().id_prefix(), "3f2a9c");
  EXPECT_TRUE(spec->has_network_loss());

  v1::FaultSpec untouched;
  target.set_id_prefix("3f2");
  EXPECT_EQ(set_container_target(target, "method[2].target", untouched).message(),
            "method[2].target.id_prefix: 4 to 64 hex characters");
  EXPECT_FALSE(untouched.has_target());
  EXPECT_EQ(set_container_target(v1::ContainerSelector(), "target", untouched).message(),
            "target: name, id_prefix, labels or pod_namespace required (an empty selector would match every "
            "container on the node)");
}

TEST(FaultSpecBuilder, ContainerTargetIsDescribedWithItsSampling) {
  v1::ContainerSelector target;
  target.set_runtime("podman");
  (*target.mutable_labels())["app"] = "nats";
  EXPECT_EQ(describe_container_target(target), "podman container labels{app=nats}");
  target.set_count(1);
  EXPECT_EQ(describe_container_target(target), "podman container labels{app=nats}, at most 1");
  target.set_count(0);
  target.set_percent(12.5);
  EXPECT_EQ(describe_container_target(target), "podman container labels{app=nats}, 12.5% of them");
}

TEST(FaultSpecBuilder, ContainerPauseTakesNoParamsAndNeedsATarget) {
  auto spec = build_fault_spec("container.pause", {}, "t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_TRUE(spec->has_container_pause());
  EXPECT_EQ(check_container_target_given(*spec, "container.pause", "exp.toml:3:8: method[0]").message(),
            "exp.toml:3:8: method[0]: container.pause needs a target (the containers to act in)");
  v1::ContainerSelector target;
  target.set_name("nats-1");
  ASSERT_TRUE(set_container_target(target, "target", *spec).ok());
  EXPECT_TRUE(check_container_target_given(*spec, "container.pause", "t").ok());
  EXPECT_TRUE(check_container_target_given(v1::FaultSpec(), "network.delay", "t").ok());  // host faults
  EXPECT_FALSE(build_fault_spec("container.pause", cli({"pid=1"}), "t").ok());
}

TEST(CliParams, RejectMalformedAndDuplicateAssignments) {
  ParamMap params;
  EXPECT_FALSE(add_cli_param("novalue", params).ok());
  EXPECT_FALSE(add_cli_param("=5", params).ok());
  EXPECT_TRUE(add_cli_param("delay=5ms", params).ok());
  EXPECT_FALSE(add_cli_param("delay=6ms", params).ok());
}

}  // namespace
}  // namespace chaos::orchestrator
