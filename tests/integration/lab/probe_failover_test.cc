// chaos-probe against two real nats-servers on loopback: with
// --failover-after, a server that stops answering (SIGSTOP keeps its TCP
// connection open, and a 10-minute ping interval hides it) is given up
// after N ack timeouts and the probe connects to the next server.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lab/http_check.h"
#include "lab/testbed/agent_harness.h"
#include "lab/testbed/safe_kill.h"
#include "tests/support/free_loopback_port.h"

namespace chaos::lab {
namespace {

using namespace std::chrono_literals;
using agent::integration::eventually;
using agent::integration::spawn;


// A child process killed (and continued, in case it was stopped) and
// reaped when the object goes, also when a test fails.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log) : pid_(spawn(argv, log)) {}
  ~ChildProcess() {
    if (pid_ <= 0) return;
    test_support::safe_kill(pid_, SIGKILL);
    test_support::safe_kill(pid_, SIGCONT);
    ::waitpid(pid_, nullptr, 0);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

std::string probe_failover_read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The value of an unlabelled sample on the probe's /metrics, -1 when absent.
double probe_metric(int port, const std::string& name) {
  auto reply = http_get("127.0.0.1", port, "/metrics");
  if (!reply.ok()) return -1;
  const auto at = reply->body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(reply->body.substr(at + name.size() + 2));
}

class ProbeFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/chaos-probe-failover-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ChildProcess> start_nats(const std::string& name, int port) {
    auto server = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", std::to_string(port), "-js",
                                 "-sd", dir_ + "/" + name, "-n", name},
        dir_ + "/" + name + ".log");
    EXPECT_TRUE(eventually([&] { return probe_failover_read(dir_ + "/" + name + ".log").find("Server is ready") !=
                                        std::string::npos; },
                           10s, 50ms))
        << name << " did not start";
    return server;
  }

  std::string dir_;
};

TEST_F(ProbeFailoverTest, AfterNFailedPublishesTheProbeMovesToTheNextServer) {
  const int port_a = ::chaos::test_support::free_loopback_port();
  const int port_b = ::chaos::test_support::free_loopback_port();
  const int metrics_port = ::chaos::test_support::free_loopback_port();
  auto server_a = start_nats("a", port_a);
  auto server_b = start_nats("b", port_b);
  const std::string url_a = "nats://127.0.0.1:" + std::to_string(port_a);
  const std::string url_b = "nats://127.0.0.1:" + std::to_string(port_b);
  const std::string probe_log = dir_ + "/probe.log";
  ChildProcess probe({std::string(getenv("CHAOS_BUILD_DIR")) + "/bin/chaos-probe", "--servers", url_a + "," + url_b,
                      "--replicas", "1", "--rate", "20", "--ack-timeout", "500ms", "--ack-wait", "1s",
                      "--loss-grace", "3s", "--ping-interval", "10m", "--failover-after", "2",
                      "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port)},
                     probe_log);
  ASSERT_TRUE(eventually([&] { return probe_metric(metrics_port, "chaos_probe_messages_received_total") >= 10; },
                         30s, 200ms))
      << probe_failover_read(probe_log);
  auto info = http_get("127.0.0.1", metrics_port, "/metrics");
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->body.find("failover_after=\"2\""), std::string::npos);
  EXPECT_NE(info->body.find("chaos_probe_server_info{server=\"" + url_a + "\"} 1"), std::string::npos) << info->body;
  EXPECT_EQ(probe_metric(metrics_port, "chaos_probe_failovers_total"), 0);

  ASSERT_EQ(::kill(server_a->pid(), SIGSTOP), 0);
  EXPECT_TRUE(eventually([&] { return probe_metric(metrics_port, "chaos_probe_failovers_total") >= 1; }, 30s, 200ms))
      << probe_failover_read(probe_log);
  const std::string log = probe_failover_read(probe_log);
  EXPECT_NE(log.find("failover after 2 failed publishes in a row: from " + url_a + " to " + url_b), std::string::npos)
      << log;
  // The new connection may still be completing its handshake when the
  // failover is counted; it must come up.
  EXPECT_TRUE(eventually([&] { return probe_metric(metrics_port, "chaos_probe_connected") == 1; }, 10s, 200ms))
      << probe_failover_read(probe_log);
  // The server a finding's client sat on: now b, and a's series is gone.
  std::string body;
  EXPECT_TRUE(eventually([&] {
    auto metrics = http_get("127.0.0.1", metrics_port, "/metrics");
    body = metrics.ok() ? metrics->body : "";
    return body.find("chaos_probe_server_info{server=\"" + url_b + "\"} 1") != std::string::npos &&
           body.find(url_a) == std::string::npos;
  }, 10s, 200ms)) << body;
  ::kill(server_a->pid(), SIGCONT);
}

}  // namespace
}  // namespace chaos::lab
