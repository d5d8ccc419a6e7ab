// http.* and nats.* through a real agent in namespace A against real servers
// in B: nats-server with libnats clients, and python3's http.server with
// raw HTTP/1.1 clients. Every effect is measured from the client side:
// which messages arrive and when, which status, body and headers come
// back. Connections opened before a fault keep their direct path; after
// revert new connections are direct again and A's ruleset is as before.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "lab/testbed/agent_test_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;
using chaos::testing::address_of;
using chaos::testing::kAddressB;
using chaos::testing::NamespaceEntry;
using Clock = std::chrono::steady_clock;

constexpr int kProtocolNatsPort = 4222;
constexpr int kProtocolHttpPort = 8080;

// Runs `work` on a thread inside `netns`; sockets made there stay there.
void protocol_in_namespace(const std::string& netns, const std::function<void()>& work) {
  std::thread worker([&] {
    NamespaceEntry entry(netns);
    work();
  });
  worker.join();
}

UniqueFd protocol_connect_to_b(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const auto address = address_of(kAddressB, port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fd.reset();
  return fd;
}

// A server process in B (through `ip netns exec`, which execs it), killed
// and reaped when the object goes, also when a test fails.
class ServerInB {
 public:
  ServerInB(const std::string& netns, const std::vector<std::string>& argv, int port) {
    pid_ = spawn(with_prefix({"/usr/sbin/ip", "netns", "exec", netns}, argv));
    ready_ = eventually(
        [&] {
          bool connected = false;
          protocol_in_namespace(netns, [&] { connected = protocol_connect_to_b(port).valid(); });
          return connected;
        },
        10s, 100ms);
  }
  ~ServerInB() {
    if (pid_ <= 0) return;
    safe_kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ServerInB(const ServerInB&) = delete;
  ServerInB& operator=(const ServerInB&) = delete;
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

v1::TcpScope protocol_scope(int port) {
  v1::TcpScope scope;
  scope.set_port(static_cast<std::uint32_t>(port));
  scope.set_address(kAddressB);
  scope.set_origin(v1::TcpScope::ORIGIN_LOCAL);
  return scope;
}

bool protocol_table_listed(AgentTestBed& bed) {
  return bed.network().run_in_a({"nft", "list", "tables"}).stdout_text.find("chaos_tcp_") != std::string::npos;
}

// The fault's counter once it reaches `wanted` (counters are refreshed
// about every second), or its last value after 10 s.
std::uint64_t protocol_counter(NamespacedAgent& agent, const std::string& name, std::uint64_t wanted) {
  std::uint64_t value = 0;
  for (const auto deadline = Clock::now() + 10s; value < wanted && Clock::now() < deadline;
       std::this_thread::sleep_for(100ms)) {
    v1::ListResponse listed;
    if (!agent.list(&listed).ok() || listed.faults_size() != 1) continue;
    const auto& counters = listed.faults(0).counters();
    if (counters.count(name) != 0) value = counters.at(name);
  }
  return value;
}

// ---------------------------------------------------------------- NATS

class NatsInbox {
 public:
  struct Arrival {
    std::string subject;
    std::string data;
    Clock::time_point at;
  };
  static void on_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    auto* inbox = static_cast<NatsInbox*>(closure);
    std::lock_guard lock(inbox->mutex_);
    const auto length = static_cast<std::size_t>(natsMsg_GetDataLength(message));
    inbox->arrivals_.push_back({natsMsg_GetSubject(message), std::string(natsMsg_GetData(message), length),
                                Clock::now()});
    natsMsg_Destroy(message);
  }
  // When `data` arrived, if it did.
  std::optional<Clock::time_point> arrival(const std::string& data) {
    std::lock_guard lock(mutex_);
    for (const auto& arrival : arrivals_) {
      if (arrival.data == data) return arrival.at;
    }
    return std::nullopt;
  }
  int count_prefixed(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    int count = 0;
    for (const auto& arrival : arrivals_) count += arrival.data.rfind(prefix, 0) == 0 ? 1 : 0;
    return count;
  }

 private:
  std::mutex mutex_;
  std::vector<Arrival> arrivals_;
};

// One libnats connection opened from a namespace, never reconnecting (a
// reconnect would be a new connection, possibly on another path).
class NatsClient {
 public:
  explicit NatsClient(const std::string& netns) {
    natsOptions* options = nullptr;
    const std::string url = "nats://" + std::string(kAddressB) + ":" + std::to_string(kProtocolNatsPort);
    natsStatus status = natsOptions_Create(&options);
    if (status == NATS_OK) status = natsOptions_SetURL(options, url.c_str());
    if (status == NATS_OK) status = natsOptions_SetAllowReconnect(options, false);
    if (status == NATS_OK) status = natsOptions_SetTimeout(options, 5000);
    if (status == NATS_OK) {
      protocol_in_namespace(netns, [&] { status = natsConnection_Connect(&connection_, options); });
    }
    natsOptions_Destroy(options);
    status_ = status;
  }
  ~NatsClient() {
    for (auto* subscription : subscriptions_) natsSubscription_Destroy(subscription);
    natsConnection_Destroy(connection_);
  }
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;

  natsStatus status() const { return status_; }
  natsStatus publish(const std::string& subject, const std::string& data) {
    return natsConnection_Publish(connection_, subject.c_str(), data.data(), static_cast<int>(data.size()));
  }
  natsStatus flush() { return natsConnection_FlushTimeout(connection_, 5000); }
  // Records every message on `subject` with the time it arrived.
  natsStatus record(const std::string& subject, NatsInbox& inbox);

 private:
  natsStatus status_ = NATS_ERR;
  natsConnection* connection_ = nullptr;
  std::vector<natsSubscription*> subscriptions_;
};

natsStatus NatsClient::record(const std::string& subject, NatsInbox& inbox) {
  natsSubscription* subscription = nullptr;
  const natsStatus status =
      natsConnection_Subscribe(&subscription, connection_, subject.c_str(), NatsInbox::on_message, &inbox);
  if (status == NATS_OK) subscriptions_.push_back(subscription);
  return status;
}

class AgentNatsFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("cag-nats-" + std::to_string(::getpid()));
    bed_ = std::make_unique<AgentTestBed>();
    ASSERT_EQ(bed_->error(), "");
    server_ = std::make_unique<ServerInB>(
        bed_->network().b(),
        std::vector<std::string>{"/usr/sbin/nats-server", "-a", kAddressB, "-p", std::to_string(kProtocolNatsPort)},
        kProtocolNatsPort);
    ASSERT_TRUE(server_->ready()) << "nats-server did not listen in B";
    agent_ = std::make_unique<NamespacedAgent>(bed_->a(), (*dir_ / "state").string(), (*dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->start()) << agent_->log();
    // The subscriber connects before any fault: deliveries come direct, so
    // what arrives is what the server got.
    subscriber_ = std::make_unique<NatsClient>(bed_->a());
    ASSERT_EQ(subscriber_->status(), NATS_OK);
    ASSERT_EQ(subscriber_->record("orders.*", inbox_), NATS_OK);
    ASSERT_EQ(subscriber_->record("audit.*", inbox_), NATS_OK);
    ASSERT_EQ(subscriber_->flush(), NATS_OK);
  }
  void TearDown() override {
    subscriber_.reset();
    if (agent_) agent_->stop();
    agent_.reset();
    server_.reset();
    bed_.reset();
    dir_.reset();
  }

  std::string inject(const v1::FaultSpec& spec) {
    v1::InjectResponse injected;
    const auto status = agent_->inject(inject_request(spec, "cag-nats"), &injected);
    EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
    EXPECT_EQ(injected.fault().backend(), "tcp-proxy");
    return injected.fault().id();
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<AgentTestBed> bed_;
  std::unique_ptr<ServerInB> server_;
  std::unique_ptr<NamespacedAgent> agent_;
  NatsInbox inbox_;
  std::unique_ptr<NatsClient> subscriber_;
};

TEST_F(AgentNatsFaultTest, DropLosesOnlyTheMatchedSubjectOnNewConnections) {
  auto baseline = bed_->snapshot();
  ASSERT_TRUE(baseline.ok()) << baseline.status().message();
  NatsClient before(bed_->a());
  ASSERT_EQ(before.status(), NATS_OK);

  v1::FaultSpec spec;
  *spec.mutable_nats_drop()->mutable_scope() = protocol_scope(kProtocolNatsPort);
  spec.mutable_nats_drop()->mutable_match()->add_subjects("orders.*");
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(protocol_table_listed(*bed_));

  NatsClient during(bed_->a());
  ASSERT_EQ(during.status(), NATS_OK) << "the proxy forwards INFO, CONNECT, PING and PONG";
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(during.publish("orders.created", "during-order-" + std::to_string(i)), NATS_OK);
    ASSERT_EQ(during.publish("audit.log", "during-audit-" + std::to_string(i)), NATS_OK);
    ASSERT_EQ(before.publish("orders.created", "before-order-" + std::to_string(i)), NATS_OK);
  }
  ASSERT_EQ(during.flush(), NATS_OK);
  ASSERT_EQ(before.flush(), NATS_OK);
  EXPECT_TRUE(eventually(
      [&] { return inbox_.count_prefixed("during-audit-") == 5 && inbox_.count_prefixed("before-order-") == 5; }, 5s))
      << "the other subject flows, and so does the connection opened before the fault";
  // The audit messages were published after the orders on the same
  // connection and have arrived: a forwarded order would have too.
  EXPECT_EQ(inbox_.count_prefixed("during-order-"), 0);
  EXPECT_EQ(protocol_counter(*agent_, "messages_dropped", 5), 5u);

  ASSERT_TRUE(agent_->revert(id).ok());
  EXPECT_FALSE(protocol_table_listed(*bed_));
  NatsClient after(bed_->a());
  ASSERT_EQ(after.status(), NATS_OK);
  ASSERT_EQ(after.publish("orders.created", "after-order"), NATS_OK);
  ASSERT_EQ(before.publish("orders.created", "before-order-late"), NATS_OK);
  ASSERT_EQ(after.flush(), NATS_OK);
  ASSERT_EQ(before.flush(), NATS_OK);
  EXPECT_TRUE(eventually([&] { return inbox_.arrival("after-order") && inbox_.arrival("before-order-late"); }, 5s));
  EXPECT_EQ(bed_->diff_from(*baseline), "");
}

TEST_F(AgentNatsFaultTest, DelayHoldsOnlyTheMatchedSubjectForAboutTheDelay) {
  auto baseline = bed_->snapshot();
  ASSERT_TRUE(baseline.ok()) << baseline.status().message();
  NatsClient before(bed_->a());
  ASSERT_EQ(before.status(), NATS_OK);
  // Long beside one unheld message's trip through the agent, so a thread
  // stalled on a loaded machine cannot look like the delay.
  constexpr std::chrono::milliseconds kDelay = 2s;

  v1::FaultSpec spec;
  *spec.mutable_nats_delay()->mutable_scope() = protocol_scope(kProtocolNatsPort);
  spec.mutable_nats_delay()->mutable_match()->add_subjects("orders.*");
  spec.mutable_nats_delay()->mutable_delay()->set_seconds(kDelay / 1s);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());

  NatsClient during(bed_->a());
  ASSERT_EQ(during.status(), NATS_OK);
  const auto sent = Clock::now();
  ASSERT_EQ(during.publish("orders.created", "slow-order"), NATS_OK);
  ASSERT_EQ(during.publish("audit.log", "fast-audit"), NATS_OK);
  ASSERT_EQ(during.flush(), NATS_OK);
  ASSERT_EQ(before.publish("orders.created", "direct-order"), NATS_OK);
  ASSERT_EQ(before.flush(), NATS_OK);
  ASSERT_TRUE(eventually([&] { return inbox_.arrival("slow-order") && inbox_.arrival("fast-audit"); }, 10s));
  const auto slow = *inbox_.arrival("slow-order");
  EXPECT_GE(slow - sent, kDelay * 9 / 10) << "the matched message is held for about the delay";
  EXPECT_LT(slow - sent, kDelay + 5s);
  EXPECT_LT(*inbox_.arrival("fast-audit"), slow) << "the later message on another subject overtakes it";
  ASSERT_TRUE(inbox_.arrival("direct-order").has_value());
  EXPECT_LT(*inbox_.arrival("direct-order"), slow) << "the connection opened before the fault is not held back";
  EXPECT_EQ(protocol_counter(*agent_, "messages_delayed", 1), 1u);

  ASSERT_TRUE(agent_->revert(id).ok());
  EXPECT_FALSE(protocol_table_listed(*bed_));
  NatsClient after(bed_->a());
  ASSERT_EQ(after.status(), NATS_OK);
  const auto resent = Clock::now();
  ASSERT_EQ(after.publish("orders.created", "after-order"), NATS_OK);
  ASSERT_EQ(after.flush(), NATS_OK);
  ASSERT_TRUE(eventually([&] { return inbox_.arrival("after-order").has_value(); }, 5s));
  EXPECT_LT(*inbox_.arrival("after-order") - resent, kDelay) << "direct again";
  EXPECT_EQ(bed_->diff_from(*baseline), "");
}

// ---------------------------------------------------------------- HTTP

struct HttpReply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  Clock::duration took{};
};

// One GET with Connection: close from namespace A; status 0 on failure.
HttpReply protocol_http_get(const std::string& netns, const std::string& path) {
  HttpReply reply;
  protocol_in_namespace(netns, [&] {
    const auto started = Clock::now();
    UniqueFd fd = protocol_connect_to_b(kProtocolHttpPort);
    if (!fd.valid()) return;
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + kAddressB + "\r\nConnection: close\r\n\r\n";
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return;
    std::string text;
    char buffer[4096];
    for (ssize_t count; (count = ::recv(fd.get(), buffer, sizeof buffer, 0)) > 0;) {
      text.append(buffer, static_cast<std::size_t>(count));
    }
    reply.took = Clock::now() - started;
    const auto end = text.find("\r\n\r\n");
    if (text.rfind("HTTP/1.", 0) != 0 || text.size() < 12 || end == std::string::npos) return;
    reply.status = std::atoi(text.substr(9, 3).c_str());
    reply.head = text.substr(0, end);
    reply.body = text.substr(end + 4);
  });
  return reply;
}

class AgentHttpFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("cag-http-" + std::to_string(::getpid()));
    const auto site = *dir_ / "site";
    std::filesystem::create_directories(site / "blocked");
    std::ofstream(site / "ok.txt") << "fine";
    std::ofstream(site / "other.txt") << "other";
    std::ofstream(site / "slow.txt") << "slowly";
    std::ofstream(site / "blocked" / "x.txt") << "served";
    bed_ = std::make_unique<AgentTestBed>();
    ASSERT_EQ(bed_->error(), "");
    server_ = std::make_unique<ServerInB>(bed_->network().b(),
                                          std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind",
                                                                   kAddressB, "--directory", site.string(),
                                                                   std::to_string(kProtocolHttpPort)},
                                          kProtocolHttpPort);
    ASSERT_TRUE(server_->ready()) << "python3 -m http.server did not listen in B";
    agent_ = std::make_unique<NamespacedAgent>(bed_->a(), (*dir_ / "state").string(), (*dir_ / "agent.log").string());
    ASSERT_TRUE(agent_->start()) << agent_->log();
    auto baseline = bed_->snapshot();
    ASSERT_TRUE(baseline.ok()) << baseline.status().message();
    baseline_ = std::make_unique<chaos::testing::NodeStateSnapshot>(std::move(*baseline));
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    agent_.reset();
    server_.reset();
    bed_.reset();
    dir_.reset();
  }

  std::string inject(const v1::FaultSpec& spec) {
    v1::InjectResponse injected;
    const auto status = agent_->inject(inject_request(spec, "cag-http"), &injected);
    EXPECT_TRUE(status.ok()) << status.error_message() << "\n" << agent_->log();
    return injected.fault().id();
  }
  void revert_and_check_gone(const std::string& id) {
    ASSERT_TRUE(agent_->revert(id).ok());
    EXPECT_FALSE(protocol_table_listed(*bed_));
    EXPECT_EQ(bed_->diff_from(*baseline_), "");
  }
  HttpReply get(const std::string& path) { return protocol_http_get(bed_->a(), path); }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<AgentTestBed> bed_;
  std::unique_ptr<ServerInB> server_;
  std::unique_ptr<NamespacedAgent> agent_;
  std::unique_ptr<chaos::testing::NodeStateSnapshot> baseline_;
};

TEST_F(AgentHttpFaultTest, AbortAnswersTheMatchingPathOnly) {
  ASSERT_EQ(get("/blocked/x.txt").status, 200);
  v1::FaultSpec spec;
  *spec.mutable_http_abort()->mutable_scope() = protocol_scope(kProtocolHttpPort);
  spec.mutable_http_abort()->mutable_match()->set_path("/blocked/*");
  spec.mutable_http_abort()->set_status(503);
  spec.mutable_http_abort()->set_body("chaos says no");
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());

  const HttpReply aborted = get("/blocked/x.txt");
  EXPECT_EQ(aborted.status, 503) << aborted.head;
  EXPECT_EQ(aborted.body, "chaos says no");
  const HttpReply other = get("/ok.txt");
  EXPECT_EQ(other.status, 200) << other.head;
  EXPECT_EQ(other.body, "fine");
  EXPECT_EQ(protocol_counter(*agent_, "requests_aborted", 1), 1u);

  // Every proxy kind claims the port: a tcp.* fault on it would never see
  // a connection, so it is refused.
  v1::FaultSpec latency;
  *latency.mutable_tcp_latency()->mutable_scope() = protocol_scope(kProtocolHttpPort);
  latency.mutable_tcp_latency()->mutable_delay()->set_nanos(10'000'000);
  v1::InjectResponse refused;
  const auto second = agent_->inject(inject_request(latency, "cag-http"), &refused);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << second.error_message();
  EXPECT_NE(second.error_message().find("another proxy fault"), std::string::npos) << second.error_message();

  revert_and_check_gone(id);
  const HttpReply after = get("/blocked/x.txt");
  EXPECT_EQ(after.status, 200) << after.head;
  EXPECT_EQ(after.body, "served");
}

TEST_F(AgentHttpFaultTest, DelayHoldsTheMatchingRequest) {
  // Long beside one unheld request's trip through the agent, so a thread
  // stalled on a loaded machine cannot look like the delay.
  constexpr std::chrono::milliseconds kDelay = 2s;
  v1::FaultSpec spec;
  *spec.mutable_http_delay()->mutable_scope() = protocol_scope(kProtocolHttpPort);
  spec.mutable_http_delay()->mutable_match()->set_path("/slow.txt");
  spec.mutable_http_delay()->mutable_delay()->set_seconds(kDelay / 1s);
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());

  const HttpReply slow = get("/slow.txt");
  EXPECT_EQ(slow.status, 200) << slow.head;
  EXPECT_EQ(slow.body, "slowly");
  EXPECT_GE(slow.took, kDelay * 9 / 10);
  const HttpReply other = get("/ok.txt");
  EXPECT_EQ(other.status, 200) << other.head;
  EXPECT_LT(other.took, kDelay) << "an unmatched path is not held";
  EXPECT_EQ(protocol_counter(*agent_, "requests_delayed", 1), 1u);

  revert_and_check_gone(id);
  const HttpReply after = get("/slow.txt");
  EXPECT_EQ(after.status, 200) << after.head;
  EXPECT_LT(after.took, kDelay) << "direct again";
}

TEST_F(AgentHttpFaultTest, HeadersAreSetOnTheMatchingResponsesOnly) {
  v1::FaultSpec spec;
  *spec.mutable_http_headers()->mutable_scope() = protocol_scope(kProtocolHttpPort);
  spec.mutable_http_headers()->mutable_match()->set_path("/ok.txt");
  auto* header = spec.mutable_http_headers()->add_response_headers();
  header->set_name("X-Chaos-Injected");
  header->set_value("yes");
  const std::string id = inject(spec);
  ASSERT_FALSE(id.empty());

  const HttpReply matched = get("/ok.txt");
  EXPECT_EQ(matched.status, 200) << matched.head;
  EXPECT_NE(matched.head.find("\r\nX-Chaos-Injected: yes"), std::string::npos) << matched.head;
  EXPECT_EQ(matched.body, "fine") << "the body is forwarded unchanged";
  const HttpReply other = get("/other.txt");
  EXPECT_EQ(other.status, 200) << other.head;
  EXPECT_EQ(other.head.find("X-Chaos-Injected"), std::string::npos) << other.head;

  revert_and_check_gone(id);
  const HttpReply after = get("/ok.txt");
  EXPECT_EQ(after.status, 200) << after.head;
  EXPECT_EQ(after.head.find("X-Chaos-Injected"), std::string::npos) << after.head;
}

}  // namespace
}  // namespace chaos::agent::integration
