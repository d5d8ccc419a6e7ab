// chaos-probe's RabbitMQ driver against one real RabbitMQ node, booted once
// in a network namespace this test creates (its own loopback, so its own
// epmd on 4369 and AMQP on 5672 collide with nothing), with every file in a
// temp dir and HOME there (the Erlang cookie never lands in /root). The
// test's thread joins the namespace to talk to the node; everything in the
// namespace is killed and the namespace and dir removed afterwards, also
// when an assertion fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/command_runner.h"
#include "lab/http_check.h"
#include "lab/probe/probe_metrics.h"
#include "lab/probe/rabbitmq/amqp_connection.h"
#include "lab/probe/rabbitmq/amqp_frames.h"
#include "lab/probe/rabbitmq/rabbitmq_client.h"
#include "lab/testbed/agent_harness.h"
#include "lab/testbed/safe_kill.h"
#include "metrics/registry.h"

namespace chaos::lab::probe {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using agent::integration::eventually;
using agent::integration::spawn;

constexpr const char* kRabbitmqServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";
constexpr const char* kAmqpUrl = "amqp://chaos:chaos@127.0.0.1:5672";
constexpr auto kAckTimeout = 2s;

std::string rabbitmq_test_read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A child killed (continued first, in case it was stopped) and reaped when
// the object goes.
class RabbitmqTestChild {
 public:
  RabbitmqTestChild(const std::vector<std::string>& argv, const std::string& log) : pid_(spawn(argv, log)) {}
  ~RabbitmqTestChild() {
    if (pid_ <= 0) return;
    test_support::safe_kill(pid_, SIGKILL);
    test_support::safe_kill(pid_, SIGCONT);
    ::waitpid(pid_, nullptr, 0);
  }
  RabbitmqTestChild(const RabbitmqTestChild&) = delete;
  RabbitmqTestChild& operator=(const RabbitmqTestChild&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

class ProbeRabbitmqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/chaos-probe-rabbitmq-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    netns_ = "chaos-rmqprobe-" + std::to_string(::getpid());
    for (const char* sub : {"home", "mnesia", "log"}) fs::create_directories(dir_ + "/" + sub);
    std::ofstream(dir_ + "/rabbitmq.conf") << "listeners.tcp.1 = 127.0.0.1:5672\n"
                                              "loopback_users = none\n"
                                              "default_user = chaos\n"
                                              "default_pass = chaos\n"
                                              "log.console = true\n"
                                              "log.console.level = warning\n";
    std::ofstream(dir_ + "/enabled_plugins") << "[].\n";  // no plugins: the quickest boot
    std::ofstream(dir_ + "/rabbitmq-env.conf") << "";
    ASSERT_TRUE(commands_.run_checked({"ip", "netns", "add", netns_}).ok());
    created_netns_ = true;
    ASSERT_TRUE(commands_.run_checked({"ip", "-n", netns_, "link", "set", "lo", "up"}).ok());
    original_netns_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = ::open(("/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(original_netns_, 0);
    ASSERT_GE(target, 0);
    ASSERT_EQ(::setns(target, CLONE_NEWNET), 0);
    ::close(target);
    // Forked from this thread, the node (and the epmd it starts) lives in
    // the namespace.
    node_ = std::make_unique<RabbitmqTestChild>(
        std::vector<std::string>{"/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                                 "HOME=" + dir_ + "/home", "RABBITMQ_NODENAME=rabbit@localhost",
                                 "RABBITMQ_MNESIA_BASE=" + dir_ + "/mnesia", "RABBITMQ_LOG_BASE=" + dir_ + "/log",
                                 "RABBITMQ_CONFIG_FILE=" + dir_ + "/rabbitmq.conf",
                                 "RABBITMQ_ENABLED_PLUGINS_FILE=" + dir_ + "/enabled_plugins",
                                 "RABBITMQ_PID_FILE=" + dir_ + "/rabbitmq.pid",
                                 "RABBITMQ_CONF_ENV_FILE=" + dir_ + "/rabbitmq-env.conf", "RUNNING_UNDER_SYSTEMD=true",
                                 "ERL_CRASH_DUMP=" + dir_ + "/log/erl_crash.dump", kRabbitmqServer},
        node_log());
  }

  void TearDown() override {
    if (original_netns_ >= 0) {
      (void)::setns(original_netns_, CLONE_NEWNET);
      ::close(original_netns_);
    }
    probe_.reset();
    node_.reset();
    if (created_netns_) {
      // epmd, erl_child_setup, inet_gethost: whatever is left in the namespace.
      const auto still_there = [&] {
        auto pids = commands_.run({"ip", "netns", "pids", netns_});
        if (!pids.ok()) return false;
        std::istringstream list(pids->stdout_text);
        bool any = false;
        for (pid_t pid = 0; list >> pid;) {
          any = true;
          test_support::safe_kill(pid, SIGKILL);
          test_support::safe_kill(pid, SIGCONT);
        }
        return any;
      };
      EXPECT_TRUE(eventually([&] { return !still_there(); }, 10s, 50ms)) << "processes left in " << netns_;
      EXPECT_TRUE(commands_.run_checked({"ip", "netns", "del", netns_}).ok());
    }
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::string node_log() const { return dir_ + "/node.log"; }
  SessionSettings session() const {
    SessionSettings session;
    session.servers = {kAmqpUrl};
    return session;
  }

  ProcessCommandRunner commands_;
  std::string dir_;
  std::string netns_;
  bool created_netns_ = false;
  int original_netns_ = -1;
  std::unique_ptr<RabbitmqTestChild> node_;
  std::unique_ptr<RabbitmqTestChild> probe_;
};

// Every body fetched within `timeout`, until `count` arrived.
std::vector<Delivered> fetch_at_least(RabbitMqClient& client, std::size_t count, std::chrono::milliseconds timeout) {
  std::vector<Delivered> all;
  eventually(
      [&] {
        auto batch = client.fetch(10, 200ms);
        if (batch.ok()) all.insert(all.end(), batch->begin(), batch->end());
        return all.size() >= count;
      },
      timeout, 1ms);
  return all;
}

double rabbitmq_probe_metric(const std::string& body, const std::string& name) {
  const auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

TEST_F(ProbeRabbitmqTest, ConfirmsConsumesAndSurvivesAPausedNode) {
  metrics::Registry registry;
  ProbeMetrics metrics(registry);
  RabbitMqSettings settings;
  settings.queue = "chaos-probe-test";
  RabbitMqClient client(metrics, session(), settings);
  // Readiness: the first successful connect (it declares the queue).
  ASSERT_TRUE(eventually([&] { return client.connect().ok(); }, 60s, 100ms)) << rabbitmq_test_read(node_log());

  // The queue is a quorum queue: declaring it classic is refused, and the
  // error carries the server's reply.
  AmqpConnection raw;
  ASSERT_TRUE(raw.open(*parse_amqp_url(kAmqpUrl), AmqpConnectionOptions{}).ok());
  amqp_table_entry_t classic{amqp_cstring_bytes("x-queue-type"), {}};
  classic.value.kind = AMQP_FIELD_KIND_UTF8;
  classic.value.value.bytes = amqp_cstring_bytes("classic");
  amqp_queue_declare(raw.state(), AmqpConnection::kChannel, amqp_cstring_bytes(settings.queue.c_str()), 0, 1, 0, 0,
                     amqp_table_t{1, &classic});
  const Status mismatch = raw.check(amqp_get_rpc_reply(raw.state()), "queue.declare");
  EXPECT_NE(mismatch.message().find("406 PRECONDITION_FAILED"), std::string::npos) << mismatch.message();
  EXPECT_NE(mismatch.message().find("'quorum'"), std::string::npos) << mismatch.message();
  raw.close();

  auto subscribed = client.subscribe();
  ASSERT_TRUE(subscribed.ok()) << subscribed.status().message();
  EXPECT_EQ(*subscribed, Subscribed::kBound) << "connect() declared it";
  for (const char* body : {"m1", "m2", "m3"}) {
    const Status published = client.publish(body, kAckTimeout, std::string("id-") + body);
    ASSERT_TRUE(published.ok()) << published.message();
  }
  EXPECT_EQ(client.current_server(), "127.0.0.1:5672");
  const auto delivered = fetch_at_least(client, 3, 10s);
  ASSERT_EQ(delivered.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(delivered[i].body, "m" + std::to_string(i + 1));
    EXPECT_FALSE(delivered[i].redelivered);
  }

  // A paused node keeps its sockets open: the publish must still return,
  // as "no confirm in time", not hang.
  ASSERT_EQ(::kill(node_->pid(), SIGSTOP), 0);
  const auto before = std::chrono::steady_clock::now();
  const Status paused = client.publish("while-paused", kAckTimeout, "");
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_EQ(paused.code(), StatusCode::kDeadlineExceeded) << paused.message();
  EXPECT_LT(took, kAckTimeout + 3s) << "generous: the ack timeout plus scheduling";
  // The consumer's connection, silent as long, is dropped on its heartbeat
  // timeout too instead of waiting out the fetch.
  const auto consumer_lost = client.fetch(10, 3s);
  ASSERT_FALSE(consumer_lost.ok());
  EXPECT_NE(consumer_lost.status().message().find("missed two heartbeats"), std::string::npos)
      << consumer_lost.status().message();

  ASSERT_EQ(::kill(node_->pid(), SIGCONT), 0);
  Status resumed;
  ASSERT_TRUE(eventually([&] { return (resumed = client.publish("after", kAckTimeout, "")).ok(); }, 30s, 100ms))
      << resumed.message();
  bool seen_after = false;
  eventually(
      [&] {
        auto batch = client.fetch(10, 200ms);
        if (batch.ok()) {
          for (const auto& message : *batch) seen_after = seen_after || message.body == "after";
        }
        return seen_after;
      },
      30s, 1ms);
  EXPECT_TRUE(seen_after) << "the consumer reconnected and got the publish made after SIGCONT";
  EXPECT_GE(metrics.disconnects.value(), 1) << "the paused node's connection was dropped";
  EXPECT_GE(metrics.reconnects.value(), 1);
  EXPECT_EQ(metrics.connected.value(), 1);
  // A forced failover with one server reopens the publisher on it; it is
  // not a reconnect after a loss.
  const double reconnects = metrics.reconnects.value();
  auto moved = client.fail_over();
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->from, "127.0.0.1:5672");
  EXPECT_EQ(moved->to, "127.0.0.1:5672");
  EXPECT_EQ(metrics.reconnects.value(), reconnects);
  const Status after_failover = client.publish("moved", kAckTimeout, "");
  EXPECT_TRUE(after_failover.ok()) << after_failover.message();

  // A deleted queue. The publisher meets the missing queue first: its
  // publish comes back unroutable, the next one re-declares the queue. The
  // consumer, dropped by the server (RabbitMQ 3.10 sent it no basic.cancel
  // here), learns it from the publisher's return and subscribes again.
  const double recreations = metrics.consumer_recreations.value();
  AmqpConnection deleter;
  ASSERT_TRUE(deleter.open(*parse_amqp_url(kAmqpUrl), AmqpConnectionOptions{}).ok());
  amqp_queue_delete(deleter.state(), AmqpConnection::kChannel, amqp_cstring_bytes(settings.queue.c_str()), 0, 0);
  ASSERT_TRUE(deleter.check(amqp_get_rpc_reply(deleter.state()), "queue.delete").ok());
  deleter.close();
  const Status unroutable = client.publish("into-the-void", kAckTimeout, "");
  EXPECT_EQ(unroutable.code(), StatusCode::kNotFound) << unroutable.message();
  const Status redeclared = client.publish("back", kAckTimeout, "");
  ASSERT_TRUE(redeclared.ok()) << redeclared.message();
  EXPECT_EQ(metrics.consumer_recreations.value(), recreations + 1) << "the re-creation is counted once";
  bool seen_back = false;
  std::string fetched;
  eventually(
      [&] {
        auto batch = client.fetch(10, 200ms);
        if (batch.ok()) {
          for (const auto& message : *batch) {
            seen_back = seen_back || message.body == "back";
            fetched += message.body + " ";
          }
        } else {
          fetched += "[" + batch.status().message() + "] ";
        }
        return seen_back;
      },
      10s, 1ms);
  EXPECT_TRUE(seen_back) << "the cancelled consumer subscribed to the re-created queue; fetched: " << fetched;
  client.drop_subscription();

  // The binary end to end: --broker rabbitmq picks this driver.
  const std::string probe_log = dir_ + "/probe.log";
  probe_ = std::make_unique<RabbitmqTestChild>(
      std::vector<std::string>{std::string(getenv("CHAOS_BUILD_DIR")) + "/bin/chaos-probe", "--broker", "rabbitmq",
                               "--servers", kAmqpUrl, "--queue", settings.queue, "--rate", "50", "--loss-grace",
                               "3s", "--metrics-listen", "127.0.0.1:19801"},
      probe_log);
  std::string metrics_text;
  ASSERT_TRUE(eventually(
      [&] {
        auto reply = http_get("127.0.0.1", 19801, "/metrics");
        if (reply.ok()) metrics_text = reply->body;
        return rabbitmq_probe_metric(metrics_text, "chaos_probe_messages_received_total") >= 20;
      },
      30s, 100ms))
      << rabbitmq_test_read(probe_log) << metrics_text;
  EXPECT_NE(metrics_text.find("chaos_probe_config_info{broker=\"rabbitmq\""), std::string::npos) << metrics_text;
  EXPECT_EQ(rabbitmq_probe_metric(metrics_text, "chaos_probe_publish_errors_total"), 0) << rabbitmq_test_read(probe_log);
  EXPECT_EQ(rabbitmq_probe_metric(metrics_text, "chaos_probe_messages_lost_total"), 0);
}

}  // namespace
}  // namespace chaos::lab::probe
