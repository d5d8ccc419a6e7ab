// Fan-out over gRPC runs as async calls, all in flight at once: with 100
// agents whose first 20 answer only once the other 80 have been served, a
// fan-out bounded by threads would stall until the deadline. An agent that
// never answers ends with its own deadline while the rest succeed, and the
// factory keeps one channel per address.
#include "orchestrator/clients/agent_batch.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <condition_variable>
#include <mutex>

#include "chaos/v1/agent.grpc.pb.h"
#include "orchestrator/clients/grpc_agent_endpoint.h"
#include "orchestrator/run/agent_pool.h"

namespace chaos::orchestrator {
namespace {

using namespace std::chrono_literals;

// Answers every call at once, or (held) only once `release_after` calls of
// the healthy server have been answered, or (black hole) never before the
// test ends.
class BatchTestAgent final : public v1::Agent::CallbackService {
 public:
  enum class Mode { kAnswer, kHold, kBlackHole };
  BatchTestAgent(Mode mode, std::atomic<int>& answered, int release_after)
      : mode_(mode), answered_(answered), release_after_(release_after) {}
  ~BatchTestAgent() override { release_all(); }

  grpc::ServerUnaryReactor* Inject(grpc::CallbackServerContext* context, const v1::InjectRequest* request,
                                   v1::InjectResponse* response) override {
    response->mutable_fault()->set_id("f-" + request->request_id());
    return handle(context);
  }
  grpc::ServerUnaryReactor* RevertAll(grpc::CallbackServerContext* context, const v1::RevertAllRequest*,
                                      v1::RevertAllResponse*) override {
    return handle(context);
  }
  grpc::ServerUnaryReactor* RenewLease(grpc::CallbackServerContext* context, const v1::RenewLeaseRequest*,
                                       v1::RenewLeaseResponse*) override {
    return handle(context);
  }

  void release_all() {
    std::vector<grpc::ServerUnaryReactor*> held;
    {
      std::lock_guard lock(mutex_);
      held.swap(held_);
    }
    for (auto* reactor : held) reactor->Finish(grpc::Status::OK);
  }
  // Called by the healthy server after each answer.
  void on_answered() {
    if (mode_ == Mode::kHold && answered_.load() >= release_after_) release_all();
  }

 private:
  grpc::ServerUnaryReactor* handle(grpc::CallbackServerContext* context) {
    auto* reactor = context->DefaultReactor();
    if (mode_ == Mode::kAnswer) {
      reactor->Finish(grpc::Status::OK);
      ++answered_;
      if (peer_) peer_->on_answered();
      return reactor;
    }
    {
      std::lock_guard lock(mutex_);
      held_.push_back(reactor);
    }
    on_answered();  // the healthy ones may all be done already
    return reactor;
  }

 public:
  BatchTestAgent* peer_ = nullptr;

 private:
  Mode mode_;
  std::atomic<int>& answered_;
  int release_after_;
  std::mutex mutex_;
  std::vector<grpc::ServerUnaryReactor*> held_;
};

struct BatchTestServer {
  explicit BatchTestServer(BatchTestAgent& service) {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~BatchTestServer() { server->Shutdown(std::chrono::system_clock::now() + 1s); }
  std::unique_ptr<grpc::Server> server;
};

// "held-N" and "hole-N" go to those servers, everything else to the healthy one.
class InProcessFactory final : public AgentClientFactory {
 public:
  InProcessFactory(grpc::Server& healthy, grpc::Server& held, grpc::Server& hole, std::chrono::milliseconds deadline)
      : healthy_(healthy), held_(held), hole_(hole), deadline_(deadline) {}
  std::unique_ptr<AgentClient> connect(const std::string& address) override {
    grpc::Server& server = address.rfind("held", 0) == 0 ? held_ : address.rfind("hole", 0) == 0 ? hole_ : healthy_;
    return make_grpc_agent_client(server.InProcessChannel(grpc::ChannelArguments()), address, deadline_);
  }

 private:
  grpc::Server& healthy_;
  grpc::Server& held_;
  grpc::Server& hole_;
  std::chrono::milliseconds deadline_;
};

class AgentBatchTest : public ::testing::Test {
 protected:
  static constexpr int kHeld = 20;
  static constexpr int kHealthy = 80;

  std::vector<std::string> fleet(int held, int healthy, int holes) {
    std::vector<std::string> addresses;
    for (int i = 0; i < holes; ++i) addresses.push_back("hole-" + std::to_string(i) + ":9700");
    for (int i = 0; i < held; ++i) addresses.push_back("held-" + std::to_string(i) + ":9700");
    for (int i = 0; i < healthy; ++i) addresses.push_back("10.2.0." + std::to_string(i) + ":9700");
    return addresses;
  }

  std::atomic<int> answered_{0};
  BatchTestAgent healthy_{BatchTestAgent::Mode::kAnswer, answered_, 0};
  BatchTestAgent held_{BatchTestAgent::Mode::kHold, answered_, kHealthy};
  BatchTestAgent hole_{BatchTestAgent::Mode::kBlackHole, answered_, 0};
  BatchTestServer healthy_server_{healthy_};
  BatchTestServer held_server_{held_};
  BatchTestServer hole_server_{hole_};
  void SetUp() override { healthy_.peer_ = &held_; }
  void TearDown() override {
    held_.release_all();
    hole_.release_all();
  }
};

TEST_F(AgentBatchTest, EveryInjectIsInFlightAtOnceSoAgentsWaitingForTheOthersAllAnswer) {
  InProcessFactory factory(*healthy_server_.server, *held_server_.server, *hole_server_.server, 20s);
  AgentPool pool(factory);
  const auto addresses = fleet(kHeld, kHealthy, 0);
  std::vector<v1::InjectRequest> requests(addresses.size());
  for (std::size_t i = 0; i < requests.size(); ++i) requests[i].set_request_id(std::to_string(i));
  const auto faults = pool.inject(addresses, requests);
  ASSERT_EQ(faults.size(), addresses.size());
  for (std::size_t i = 0; i < faults.size(); ++i) {
    ASSERT_TRUE(faults[i].ok()) << addresses[i] << ": " << faults[i].status().message();
    EXPECT_EQ(faults[i]->id(), "f-" + std::to_string(i));  // answers stay in the order asked
  }
}

TEST_F(AgentBatchTest, AnAgentThatNeverAnswersFailsWithItsOwnDeadlineAndTheOthersSucceed) {
  InProcessFactory factory(*healthy_server_.server, *held_server_.server, *hole_server_.server, 300ms);
  AgentPool pool(factory);
  const auto addresses = fleet(0, 10, 1);
  const auto reverted = pool.revert_all(addresses, "exp-1");
  ASSERT_EQ(reverted.size(), 11u);
  ASSERT_FALSE(reverted[0].ok());
  EXPECT_EQ(reverted[0].status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(reverted[0].status().message().find("agent hole-0:9700: RevertAll"), std::string::npos)
      << reverted[0].status().message();
  for (std::size_t i = 1; i < reverted.size(); ++i) EXPECT_TRUE(reverted[i].ok()) << reverted[i].status().message();
  const auto renewed = pool.renew_lease({addresses[1], addresses[2]}, "lease-1", 30s);
  EXPECT_TRUE(renewed[0].ok() && renewed[1].ok());
}

TEST(GrpcAgentClientFactoryTest, KeepsOneChannelPerAddressAcrossClients) {
  GrpcAgentClientFactory factory(100ms);
  auto first = factory.connect("127.0.0.1:1");
  auto second = factory.connect("127.0.0.1:1");
  auto other = factory.connect("127.0.0.1:2");
  ASSERT_NE(first->grpc_endpoint(), nullptr);
  EXPECT_EQ(factory.open_channels(), 2u);
}

// A suite runs for hours: a token (or certificate) replaced meanwhile is
// read again by the next run instead of the first run's channel being kept.
TEST(GrpcAgentClientFactoryTest, AChannelIsReopenedWhenItsSecurityFilesChange) {
  const std::string dir = ::testing::TempDir() + "/factory-token-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string token = dir + "/token";
  std::ofstream(token) << "first\n";
  AgentEndpoint agent{"127.0.0.1:1", "n1", {}};
  agent.security.token_file = token;
  GrpcAgentClientFactory factory(100ms);
  factory.trust({agent});
  (void)factory.connect(agent.address);
  factory.trust({agent});
  EXPECT_EQ(factory.open_channels(), 1u) << "unchanged files keep the channel";
  std::ofstream(token) << "the rotated token\n";
  factory.trust({agent});
  EXPECT_EQ(factory.open_channels(), 0u) << "the channel opened with the old token was kept";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chaos::orchestrator
