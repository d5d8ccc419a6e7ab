// nats.* against a nats-server that requires TLS: the test makes a CA and
// a server certificate with openssl (in its temp dir), runs nats-server in
// B with a tls {} block (its INFO says tls_required), and libnats clients
// in A connect with TLS, verifying the chain and the host name. Debian's
// libnats is built with OpenSSL (natsOptions_SetSecure fails otherwise,
// which this test would report). Through an active nats.drop on the very
// subject it publishes, every message still arrives: the proxy cannot see
// inside TLS, passes the connection through, and the fault says so in its
// detail and counters. Revert leaves A's ruleset as before.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <fstream>

#include "tests/integration/agent/server_in_namespace.h"
#include "tests/integration/agent/tcp_echo_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace tcp_bed;

constexpr int kTlsNatsPort = 4222;
constexpr const char* kTlsServerName = "chaos-nats-tls.test";

// A CA and a server certificate for kTlsServerName signed by it, in `dir`;
// the first failure's message, or "".
std::string make_tls_certificates(const std::filesystem::path& dir) {
  std::ofstream(dir / "server.ext") << "subjectAltName=DNS:" << kTlsServerName << ",IP:" << kAddressB << "\n";
  const std::string d = dir.string() + "/";
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       d + "ca.key", "-out", d + "ca.pem", "-days", "1", "-subj", "/CN=chaos test CA"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       d + "server.key", "-out", d + "server.csr", "-subj", std::string("/CN=") + kTlsServerName},
      {"openssl", "x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.pem", "-CAkey", d + "ca.key",
       "-CAcreateserial", "-out", d + "server.pem", "-days", "1", "-extfile", d + "server.ext"},
  };
  ProcessCommandRunner commands;
  for (const auto& argv : steps) {
    auto result = commands.run_checked(argv);
    if (!result.ok()) return result.status().message();
  }
  return "";
}

// One TLS libnats connection from A, never reconnecting, counting what
// arrives on the subjects it subscribes to.
class TlsNatsClient {
 public:
  TlsNatsClient(const std::string& netns, const std::string& ca_file) {
    natsOptions* options = nullptr;
    const std::string url = "tls://" + std::string(kAddressB) + ":" + std::to_string(kTlsNatsPort);
    natsStatus status = natsOptions_Create(&options);
    if (status == NATS_OK) status = natsOptions_SetURL(options, url.c_str());
    if (status == NATS_OK) status = natsOptions_SetAllowReconnect(options, false);
    if (status == NATS_OK) status = natsOptions_SetTimeout(options, 5000);
    if (status == NATS_OK) status = step(natsOptions_SetSecure(options, true), "SetSecure (libnats without TLS?)");
    if (status == NATS_OK) status = step(natsOptions_LoadCATrustedCertificates(options, ca_file.c_str()), "CA");
    if (status == NATS_OK) status = natsOptions_SetExpectedHostname(options, kTlsServerName);
    if (status == NATS_OK) {
      in_namespace(netns, [&] { status = step(natsConnection_Connect(&connection_, options), "connect"); });
    }
    natsOptions_Destroy(options);
    status_ = status;
  }
  ~TlsNatsClient() {
    natsSubscription_Destroy(subscription_);
    natsConnection_Destroy(connection_);
  }
  TlsNatsClient(const TlsNatsClient&) = delete;
  TlsNatsClient& operator=(const TlsNatsClient&) = delete;

  natsStatus status() const { return status_; }
  const std::string& error() const { return error_; }
  natsStatus subscribe(const std::string& subject) {
    return natsConnection_Subscribe(&subscription_, connection_, subject.c_str(), &TlsNatsClient::on_message, this);
  }
  natsStatus publish(const std::string& subject, const std::string& data) {
    return natsConnection_Publish(connection_, subject.c_str(), data.data(), static_cast<int>(data.size()));
  }
  natsStatus flush() { return natsConnection_FlushTimeout(connection_, 5000); }
  int received() const { return received_.load(); }

 private:
  static void on_message(natsConnection*, natsSubscription*, natsMsg* message, void* closure) {
    ++static_cast<TlsNatsClient*>(closure)->received_;
    natsMsg_Destroy(message);
  }
  natsStatus step(natsStatus status, const std::string& what) {
    if (status != NATS_OK && error_.empty()) error_ = what + ": " + natsStatus_GetText(status) + ": " + nats_GetLastError(nullptr);
    return status;
  }

  natsStatus status_ = NATS_ERR;
  std::string error_;
  natsConnection* connection_ = nullptr;
  natsSubscription* subscription_ = nullptr;
  std::atomic<int> received_{0};
};

TEST(AgentNatsTlsTest, DropPassesTlsConnectionsThroughAndSaysItCannotSeeInside) {
  TempDir dir("cag-tls-" + std::to_string(::getpid()));
  ASSERT_EQ(make_tls_certificates(dir.path()), "");
  std::ofstream(dir / "nats.conf") << "listen: \"" << kAddressB << ":" << kTlsNatsPort << "\"\n"
                                   << "tls {\n  cert_file: \"" << (dir / "server.pem").string() << "\"\n"
                                   << "  key_file: \"" << (dir / "server.key").string() << "\"\n}\n";
  AgentTestBed bed;
  ASSERT_EQ(bed.error(), "");
  ServerInNamespace server(bed.network().b(), {"/usr/sbin/nats-server", "-c", (dir / "nats.conf").string()}, [&] {
    bool connected = false;
    in_namespace(bed.a(), [&] {
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      const auto address = address_of(kAddressB, kTlsNatsPort);
      connected = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    });
    return connected;
  }, (dir / "nats.log").string());
  ASSERT_TRUE(server.ready()) << "nats-server with TLS did not listen in B";
  NamespacedAgent agent(bed.a(), (dir / "state").string(), (dir / "agent.log").string());
  ASSERT_TRUE(agent.start()) << agent.log();
  const std::string ca = (dir / "ca.pem").string();
  TlsNatsClient subscriber(bed.a(), ca);
  ASSERT_EQ(subscriber.status(), NATS_OK) << subscriber.error();
  ASSERT_EQ(subscriber.subscribe("orders.*"), NATS_OK);
  ASSERT_EQ(subscriber.flush(), NATS_OK);
  auto baseline = bed.snapshot();
  ASSERT_TRUE(baseline.ok()) << baseline.status().message();

  v1::FaultSpec spec;
  spec.mutable_nats_drop()->mutable_scope()->set_port(kTlsNatsPort);
  spec.mutable_nats_drop()->mutable_scope()->set_origin(v1::TcpScope::ORIGIN_LOCAL);
  spec.mutable_nats_drop()->mutable_match()->add_subjects("orders.*");
  v1::InjectResponse injected;
  const auto status = agent.inject(inject_request(spec, "cag-tls"), &injected);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << agent.log();

  TlsNatsClient publisher(bed.a(), ca);
  ASSERT_EQ(publisher.status(), NATS_OK) << "TLS through the proxy: " << publisher.error();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(publisher.publish("orders.created", "order-" + std::to_string(i)), NATS_OK);
  ASSERT_EQ(publisher.flush(), NATS_OK);
  EXPECT_TRUE(eventually([&] { return subscriber.received() == 5; }, 5s))
      << "the dropped subject still flows: " << subscriber.received() << " of 5";

  // The counters and the detail are refreshed about every second.
  v1::Fault fault;
  eventually(
      [&] {
        v1::ListResponse listed;
        if (!agent.list(&listed).ok() || listed.faults_size() != 1) return false;
        fault = listed.faults(0);
        return fault.counters().count("connections_tls") != 0 && fault.counters().at("connections_tls") >= 1;
      },
      10s, 100ms);
  EXPECT_EQ(fault.counters().count("connections_tls") ? fault.counters().at("connections_tls") : 0, 1u);
  EXPECT_EQ(fault.counters().count("connections_passed_through") ? fault.counters().at("connections_passed_through") : 0,
            1u);
  EXPECT_EQ(fault.counters().count("messages_dropped") ? fault.counters().at("messages_dropped") : 0, 0u);
  EXPECT_NE(fault.detail().find("1 connection passed through untouched (1 TLS)"), std::string::npos) << fault.detail();
  EXPECT_NE(fault.detail().find("TLS: cannot see inside (the server's INFO requires TLS)"), std::string::npos)
      << fault.detail();

  ASSERT_TRUE(agent.revert(injected.fault().id()).ok());
  EXPECT_FALSE(proxy_table_listed(bed));
  TlsNatsClient after(bed.a(), ca);
  ASSERT_EQ(after.status(), NATS_OK) << after.error();
  ASSERT_EQ(after.publish("orders.created", "after"), NATS_OK);
  ASSERT_EQ(after.flush(), NATS_OK);
  EXPECT_TRUE(eventually([&] { return subscriber.received() == 6; }, 5s)) << "direct again";
  EXPECT_EQ(bed.diff_from(*baseline), "");
}

}  // namespace
}  // namespace chaos::agent::integration
