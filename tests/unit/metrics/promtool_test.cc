// Real output through the real `promtool check metrics` (parser + promlint),
// and the agent binary's live /metrics endpoint.
#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/process.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <thread>

#include "common/command_runner.h"
#include "metrics/metrics_server.h"
#include "metrics/text_format.h"
#include "lab/testbed/safe_kill.h"
#include "tests/support/free_loopback_port.h"

namespace chaos::metrics {
namespace {

CommandResult promtool_check(const std::string& text) {
  ProcessCommandRunner runner;
  RunOptions options;
  options.stdin_text = text;
  auto result = runner.run({"promtool", "check", "metrics"}, options);
  EXPECT_TRUE(result.ok()) << result.status().to_string();
  return result.ok() ? *result : CommandResult{-1, "", result.status().to_string()};
}

void fill_every_kind(Registry& registry) {
  registry.counter("chaos_injections_total", "Faults injected, by kind and result.", {"kind", "result"})
      .with({"network.delay", "ok"})
      .inc();
  registry.gauge("chaos_faults_active", "Live faults by kind.", {"kind"}).with({"process.pause"}).set(1);
  registry.gauge("chaos_weird_value", "Special values: \"quoted\" \\ help\nsecond line.", {"what"})
      .with({"nan \"q\" \\ \n"})
      .set(std::numeric_limits<double>::quiet_NaN());
  registry.gauge("chaos_weird_value_inf", "Infinity.").with({}).set(std::numeric_limits<double>::infinity());
  auto& latency = registry.histogram("chaos_inject_duration_seconds", "Inject latency.", {"kind"},
                                     default_latency_buckets());
  latency.with({"network.loss"}).observe(0.003);
  latency.with({"network.loss"}).observe(12);
}

TEST(Promtool, AcceptsEveryMetricKindWithHostileLabelValues) {
  Registry registry;
  fill_every_kind(registry);
  const auto text = serialize_text(registry);
  auto result = promtool_check(text);
  EXPECT_EQ(result.exit_code, 0) << text << "\n--- promtool:\n" << result.stdout_text << result.stderr_text;
}

TEST(Promtool, RejectsBrokenInputSoTheCheckIsReal) {
  // A counter without _total and a duplicated series: promtool must complain.
  auto result = promtool_check(
      "# HELP bad Bad.\n# TYPE bad counter\nbad 1\nbad 2\n");
  EXPECT_NE(result.exit_code, 0);
}

TEST(MetricsServer, ServesTheRegistryWithTheTextContentType) {
  Registry registry;
  fill_every_kind(registry);
  MetricsServer server(registry);
  ASSERT_TRUE(server.start("127.0.0.1", 0).ok());
  httplib::Client client("127.0.0.1", server.port());
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), kTextContentType);
  EXPECT_EQ(response->body, serialize_text(registry));
  server.stop();
}

// Two servers sharing a port (cpp-httplib's default SO_REUSEPORT) would each
// answer some of Prometheus's scrapes.
TEST(MetricsServer, PortInUseIsRefusedAndTheFirstServerKeepsServing) {
  Registry registry;
  fill_every_kind(registry);
  MetricsServer first(registry);
  ASSERT_TRUE(first.start("127.0.0.1", 0).ok());
  Registry other;
  MetricsServer second(other);
  const Status started = second.start("127.0.0.1", first.port());
  EXPECT_FALSE(started.ok()) << "a second server bound port " << first.port();
  EXPECT_NE(started.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << started.message();
  for (int scrape = 0; scrape < 8; ++scrape) {
    httplib::Client client("127.0.0.1", first.port());
    auto response = client.Get("/metrics");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->body, serialize_text(registry)) << "scrape " << scrape << " reached another server";
  }
  second.stop();
  first.stop();
}

TEST(AgentMetricsEndpoint, PromtoolAcceptsTheLiveAgentOutput) {
  const char* build_dir = std::getenv("CHAOS_BUILD_DIR");
  ASSERT_NE(build_dir, nullptr) << "run through ctest (CHAOS_BUILD_DIR)";
  const int port = ::chaos::test_support::free_loopback_port();
  namespace bp = boost::process;
  auto state_dir = std::string(::testing::TempDir()) + "/agent-metrics-test";
  bp::child agent(std::string(build_dir) + "/bin/chaos-agent",
                  bp::args({"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:" + std::to_string(port),
                            "--state-dir", state_dir, "--node-name", "metrics-test"}),
                  bp::std_out > bp::null, bp::std_err > bp::null);
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  for (int attempt = 0; attempt < 100 && !response; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    response = client.Get("/metrics");
  }
  ASSERT_TRUE(response) << "agent did not serve /metrics on port " << port;
  auto check = promtool_check(response->body);
  EXPECT_EQ(check.exit_code, 0) << response->body << "\n--- promtool:\n" << check.stdout_text
                                << check.stderr_text;
  EXPECT_NE(response->body.find("chaos_agent_build_info"), std::string::npos);
  ::chaos::test_support::safe_kill(agent.id(), SIGTERM);
  agent.wait();
  EXPECT_EQ(agent.exit_code(), 0) << "agent must exit cleanly on SIGTERM";
  std::error_code ignored;
  std::filesystem::remove_all(state_dir, ignored);
}

}  // namespace
}  // namespace chaos::metrics
