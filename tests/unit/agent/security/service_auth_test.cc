// The service's auth and audit hooks over an in-process channel: a missing
// or wrong bearer token is UNAUTHENTICATED and audited; an accepted inject
// and a policy refusal are audited too; reads are audited only when refused.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <new>

#include "agent/agent_service.h"
#include "metrics/text_format.h"
#include "tests/unit/agent/fake_fault_kind.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "unit-test-token-0123456789";

struct MemorySink : AuditSink {
  std::vector<AuditRecord> records;
  bool fail = false;  // throws, as on bad_alloc
  bool full = false;  // not written, as on a full disk
  bool record(const AuditRecord& record) override {
    if (fail) throw std::bad_alloc();
    if (full) return false;
    records.push_back(record);
    return true;
  }
};

class ServiceAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("service-auth-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    journal_ = std::make_unique<FileFaultJournal>(dir_.string());
    ASSERT_TRUE(journal_->open().ok());
    FaultRegistryOptions options;
    options.node_name = "node-a";
    options.policy.max_duration = 10min;
    options.log = [](const std::string&) {};
    registry_ = std::make_unique<FaultRegistry>(clock_, *journal_, metrics_, options);
    registry_->add_kind(std::make_unique<testing::FakeFaultKind>(kind_state_));
    service_ = std::make_unique<AgentService>(*registry_, AgentIdentity{"node-a", {}, {}},
                                              ServiceSecurity{&authenticator_, &trail_});
    service_->set_ready(true);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1::Agent::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  grpc::Status inject(const v1::InjectRequest& request, const std::string& authorization) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    v1::InjectResponse response;
    return stub_->Inject(&context, request, &response);
  }

  grpc::Status capabilities(const std::string& authorization) {
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    v1::CapabilitiesResponse response;
    return stub_->Capabilities(&context, v1::CapabilitiesRequest{}, &response);
  }

  static v1::InjectRequest delay(int seconds) {
    v1::InjectRequest request;
    request.set_experiment_id("exp-auth");
    request.mutable_duration()->set_seconds(seconds);
    request.mutable_spec()->mutable_network_delay()->mutable_delay()->set_nanos(1'000'000);
    return request;
  }

  std::string metric_text() { return metrics::serialize_text(metric_registry_); }

  std::filesystem::path dir_;
  FakeClock clock_;
  metrics::Registry metric_registry_;
  AgentMetrics metrics_{metric_registry_, "node-a"};
  std::shared_ptr<testing::FakeKindState> kind_state_ = std::make_shared<testing::FakeKindState>();
  RequestAuthenticator authenticator_{std::string(kToken)};
  MemorySink sink_;
  AuditTrail trail_{sink_, [this](const std::string& rpc, const std::string& result) { metrics_.audit_event(rpc, result); },
                    [this](const std::string& rpc) { metrics_.audit_record_lost(rpc); }};
  std::unique_ptr<FileFaultJournal> journal_;
  std::unique_ptr<FaultRegistry> registry_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

TEST_F(ServiceAuthTest, MissingOrWrongTokenIsUnauthenticatedAndAudited) {
  EXPECT_EQ(inject(delay(30), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(inject(delay(30), "Bearer wrong-token-0123456789").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(capabilities("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(kind_state_->applied.empty());
  ASSERT_EQ(sink_.records.size(), 3u);
  EXPECT_EQ(sink_.records[0].rpc, "Inject");
  EXPECT_EQ(sink_.records[0].result, "unauthenticated");
  EXPECT_EQ(sink_.records[0].message, "missing bearer token (authorization metadata)");
  EXPECT_EQ(sink_.records[0].caller, "plaintext");
  EXPECT_EQ(sink_.records[0].request["experiment_id"], "exp-auth");
  EXPECT_EQ(sink_.records[1].message, "invalid bearer token");
  EXPECT_EQ(sink_.records[2].rpc, "Capabilities");
  EXPECT_NE(metric_text().find("chaos_agent_audit_events_total{rpc=\"Inject\",result=\"unauthenticated\"} 2"),
            std::string::npos)
      << metric_text();
}

TEST_F(ServiceAuthTest, AcceptedInjectAndBoundRefusalAreAuditedReadsAreNot) {
  const std::string bearer = std::string("Bearer ") + kToken;
  ASSERT_TRUE(inject(delay(30), bearer).ok());
  EXPECT_EQ(inject(delay(3600), bearer).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(capabilities(bearer).ok());
  ASSERT_EQ(sink_.records.size(), 2u);
  EXPECT_EQ(sink_.records[0].result, "ok");
  EXPECT_EQ(sink_.records[0].message.rfind("fault ", 0), 0u) << sink_.records[0].message;
  EXPECT_EQ(sink_.records[0].request["spec"].contains("network_delay"), true);
  EXPECT_EQ(sink_.records[1].result, "invalid_argument");
  EXPECT_NE(sink_.records[1].message.find("max_duration"), std::string::npos);
  EXPECT_NE(metric_text().find("chaos_agent_audit_events_total{rpc=\"Inject\",result=\"ok\"} 1"), std::string::npos);
}

// An audit that throws neither crosses into gRPC (UNKNOWN) nor changes
// the answer: the call's own status comes back and the loss is counted.
TEST_F(ServiceAuthTest, AnAuditThatThrowsLeavesTheAnswerAndIsCounted) {
  sink_.fail = true;
  ASSERT_TRUE(inject(delay(30), std::string("Bearer ") + kToken).ok());
  EXPECT_EQ(inject(delay(30), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(service_->audit_failures(), 2u);
  EXPECT_EQ(kind_state_->applied.size(), 1u);
  EXPECT_NE(metric_text().find("chaos_agent_audit_records_lost_total{rpc=\"Inject\"} 2"), std::string::npos)
      << metric_text();
}

// A record the sink could not write (a full disk) leaves the answer too,
// and is counted as lost, not as an event in the log.
TEST_F(ServiceAuthTest, ARecordTheSinkCannotWriteIsCountedLost) {
  sink_.full = true;
  ASSERT_TRUE(inject(delay(30), std::string("Bearer ") + kToken).ok());
  EXPECT_NE(metric_text().find("chaos_agent_audit_records_lost_total{rpc=\"Inject\"} 1"), std::string::npos)
      << metric_text();
  EXPECT_EQ(metric_text().find("chaos_agent_audit_events_total{rpc=\"Inject\""), std::string::npos);
}

}  // namespace
}  // namespace chaos::agent
