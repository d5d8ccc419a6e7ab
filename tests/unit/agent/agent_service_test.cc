// The gRPC edge over an in-process channel: status codes and field names.
#include "agent/agent_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/faults/process/process_fault_kinds.h"
#include "tests/unit/agent/fake_fault_kind.h"
#include "tests/unit/agent/fake_process_table.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;

class AgentServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One dir per test: ctest runs tests of this fixture in parallel.
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("agent-service-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    journal_ = std::make_unique<FileFaultJournal>(dir_.string());
    ASSERT_TRUE(journal_->open().ok());
    FaultRegistryOptions options;
    options.node_name = "node-s";
    options.policy.max_duration = 10min;
    options.log = [](const std::string&) {};
    registry_ = std::make_unique<FaultRegistry>(clock_, *journal_, metrics_, options);
    registry_->add_kind(std::make_unique<testing::FakeFaultKind>(kind_state_));
    auto targeting = std::make_shared<ProcessTargeting>();
    targeting->table = &table_;
    targeting->clock = &clock_;
    for (auto& kind : make_process_fault_kinds(targeting)) registry_->add_kind(std::move(kind));
    service_ = std::make_unique<AgentService>(*registry_, AgentIdentity{"node-s", {{"zone", "a"}}, {"CAP_KILL"}});
    service_->set_ready(true);
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1::Agent::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override {
    server_->Shutdown();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path dir_;

  grpc::Status inject(const v1::InjectRequest& request, v1::InjectResponse* response = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::InjectResponse ignored;
    return stub_->Inject(&context, request, response ? response : &ignored);
  }

  static v1::InjectRequest valid_delay() {
    v1::InjectRequest request;
    request.set_experiment_id("exp");
    request.mutable_duration()->set_seconds(30);
    request.mutable_spec()->mutable_network_delay()->mutable_delay()->set_nanos(1'000'000);
    return request;
  }

  FakeClock clock_;
  testing::FakeProcessTable table_;
  metrics::Registry metric_registry_;
  AgentMetrics metrics_{metric_registry_, "node-s"};
  std::shared_ptr<testing::FakeKindState> kind_state_ = std::make_shared<testing::FakeKindState>();
  std::unique_ptr<FileFaultJournal> journal_;
  std::unique_ptr<FaultRegistry> registry_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Agent::Stub> stub_;
};

void expect_status(const grpc::Status& status, grpc::StatusCode code, const std::string& message_start) {
  EXPECT_EQ(status.error_code(), code) << status.error_message();
  EXPECT_EQ(status.error_message().rfind(message_start, 0), 0u) << status.error_message();
}

TEST_F(AgentServiceTest, InjectRevertAndList) {
  v1::InjectResponse injected;
  ASSERT_TRUE(inject(valid_delay(), &injected).ok());
  EXPECT_EQ(injected.fault().state(), v1::FAULT_STATE_ACTIVE);
  grpc::ClientContext list_context;
  v1::ListRequest list_request;
  v1::ListResponse listed;
  ASSERT_TRUE(stub_->List(&list_context, list_request, &listed).ok());
  ASSERT_EQ(listed.faults_size(), 1);
  grpc::ClientContext revert_context;
  v1::RevertRequest revert;
  revert.set_fault_id(injected.fault().id());
  v1::RevertResponse reverted;
  ASSERT_TRUE(stub_->Revert(&revert_context, revert, &reverted).ok());
  EXPECT_FALSE(reverted.already_reverted());
  EXPECT_EQ(reverted.fault().revert_reason(), "request");
}

TEST_F(AgentServiceTest, DryRunChecksEverythingAndAppliesNothing) {
  grpc::ClientContext capabilities_context;
  v1::CapabilitiesResponse capabilities;
  ASSERT_TRUE(stub_->Capabilities(&capabilities_context, v1::CapabilitiesRequest(), &capabilities).ok());
  EXPECT_TRUE(capabilities.dry_run()) << "clients dry-run only agents that say they can";

  auto request = valid_delay();
  request.set_dry_run(true);
  v1::InjectResponse answer;
  ASSERT_TRUE(inject(request, &answer).ok());
  EXPECT_TRUE(answer.fault().id().empty());
  {
    std::lock_guard lock(kind_state_->mutex);
    EXPECT_TRUE(kind_state_->applied.empty()) << "a dry run applies nothing";
  }
  EXPECT_TRUE(registry_->list("", true).empty()) << "a dry run reserves nothing";
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "journal") || !std::filesystem::exists(dir_ / "journal"));

  // The same refusals as a real inject: bounds, kind, spec.
  request.mutable_duration()->set_seconds(11 * 60);
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "duration: 11m exceeds");
  request = valid_delay();
  request.set_dry_run(true);
  request.mutable_spec()->mutable_stress_cpu();
  expect_status(inject(request), grpc::StatusCode::UNIMPLEMENTED, "spec: fault kind 'stress.cpu' is not available");
  kind_state_->validate_error = invalid_argument("network_delay.delay: must be positive");
  request = valid_delay();
  request.set_dry_run(true);
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "network_delay.delay: must be positive");
}

TEST_F(AgentServiceTest, BadRequestsAreInvalidArgumentNamingTheField) {
  auto request = valid_delay();
  request.clear_duration();
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "duration:");
  request = valid_delay();
  request.mutable_duration()->set_seconds(-5);
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "duration:");
  request = valid_delay();
  request.mutable_duration()->set_nanos(-5);  // sign differs from seconds
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "duration:");
  request = valid_delay();
  request.clear_spec();
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "spec:");
  request = valid_delay();
  request.mutable_lease_ttl()->set_seconds(-1);
  request.set_lease_id("l");
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "lease_ttl:");
  request = valid_delay();
  request.set_experiment_id(std::string(100000, 'x'));
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT, "experiment_id:");

  v1::InjectRequest kill;
  kill.mutable_duration()->set_seconds(10);
  kill.mutable_spec()->mutable_process_kill()->mutable_target()->set_cmdline_regex("([a-z");
  expect_status(inject(kill), grpc::StatusCode::INVALID_ARGUMENT, "process_kill.target.cmdline_regex: invalid regex");
  kill.mutable_spec()->mutable_process_kill()->mutable_target()->set_pid(-3);
  expect_status(inject(kill), grpc::StatusCode::INVALID_ARGUMENT, "process_kill.target.pid:");
  kill.mutable_spec()->mutable_process_kill()->clear_target();
  expect_status(inject(kill), grpc::StatusCode::INVALID_ARGUMENT, "process_kill.target:");
  kill.mutable_spec()->mutable_process_kill()->mutable_target()->set_pid(77);
  kill.mutable_spec()->mutable_process_kill()->set_signal("SIGWHAT");
  expect_status(inject(kill), grpc::StatusCode::INVALID_ARGUMENT, "process_kill.signal:");
  EXPECT_TRUE(kind_state_->applied.empty());
  EXPECT_EQ(registry_->live_count(), 0u);
}

TEST_F(AgentServiceTest, PolicyAndMissingKindsAndNoMatchHaveTheirOwnCodes) {
  auto request = valid_delay();
  request.mutable_duration()->set_seconds(3600);
  expect_status(inject(request), grpc::StatusCode::INVALID_ARGUMENT,
                "duration: 1h exceeds this agent's limit of 10m (policy.max_duration)");
  v1::InjectRequest dns;
  dns.mutable_duration()->set_seconds(10);
  dns.mutable_spec()->mutable_dns()->add_patterns("*.lab");
  expect_status(inject(dns), grpc::StatusCode::UNIMPLEMENTED, "spec: fault kind 'dns.fail'");
  v1::InjectRequest pause;
  pause.mutable_duration()->set_seconds(10);
  pause.mutable_spec()->mutable_process_pause()->mutable_target()->set_name("nothing-like-this");
  expect_status(inject(pause), grpc::StatusCode::NOT_FOUND, "process_pause.target: no process matches");
  pause.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(1);
  table_.add(1, "init", "/sbin/init");
  expect_status(inject(pause), grpc::StatusCode::PERMISSION_DENIED, "process_pause.target: refusing to signal pid 1");
}

TEST_F(AgentServiceTest, RenewLeaseAndCapabilities) {
  auto request = valid_delay();
  request.set_lease_id("lease-9");
  request.mutable_lease_ttl()->set_seconds(5);
  ASSERT_TRUE(inject(request).ok());
  grpc::ClientContext renew_context;
  v1::RenewLeaseRequest renew;
  renew.set_lease_id("lease-9");
  renew.mutable_ttl()->set_seconds(10);
  v1::RenewLeaseResponse renewed;
  ASSERT_TRUE(stub_->RenewLease(&renew_context, renew, &renewed).ok());
  EXPECT_EQ(renewed.live_faults(), 1u);
  grpc::ClientContext missing_context;
  renew.set_lease_id("other");
  EXPECT_EQ(stub_->RenewLease(&missing_context, renew, &renewed).error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext caps_context;
  v1::CapabilitiesResponse caps;
  ASSERT_TRUE(stub_->Capabilities(&caps_context, v1::CapabilitiesRequest(), &caps).ok());
  EXPECT_EQ(caps.api_version(), 1u);
  EXPECT_EQ(caps.node_name(), "node-s");
  EXPECT_EQ(caps.labels().at("zone"), "a");
  EXPECT_EQ(caps.network_backend(), "fake");
  EXPECT_EQ(caps.max_fault_duration().seconds(), 600);
  std::vector<std::string> kinds(caps.fault_kinds().begin(), caps.fault_kinds().end());
  EXPECT_EQ(kinds, (std::vector<std::string>{"network.delay", "process.kill", "process.pause"}));
}

TEST_F(AgentServiceTest, NotReadyMeansUnavailable) {
  service_->set_ready(false);
  expect_status(inject(valid_delay()), grpc::StatusCode::UNAVAILABLE, "agent is starting");
}

}  // namespace
}  // namespace chaos::agent
