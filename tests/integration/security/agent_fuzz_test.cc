// Hostile bytes at the real agent: thousands of random and malformed
// protobuf bodies, oversized messages, huge strings, deep nesting and odd
// varints on every RPC through a raw generic stub. The agent must answer
// each with a status, stay up, keep its audit log one JSON object per line,
// and hold no fault afterwards.
//
// The agent runs with every capability dropped (setpriv), so it offers no
// fault kind: even a random body that happened to be a valid request could
// not touch this machine.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <random>
#include <thread>

#include "tests/integration/security/security_fixture.h"

namespace chaos::security_testing {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kMethods = {
    "/chaos.v1.Agent/Inject", "/chaos.v1.Agent/Revert",     "/chaos.v1.Agent/RevertAll",
    "/chaos.v1.Agent/List",   "/chaos.v1.Agent/RenewLease", "/chaos.v1.Agent/Capabilities",
    "/grpc.health.v1.Health/Check", "/chaos.v1.Agent/NoSuchMethod", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"};

class RawCaller {
 public:
  explicit RawCaller(std::shared_ptr<grpc::Channel> channel) : stub_(std::move(channel)) {}

  grpc::Status call(const std::string& method, const std::string& body, std::string* reply = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    auto reader = stub_.PrepareUnaryCall(&context, method, request, &queue_);
    reader->StartCall();
    reader->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    queue_.Next(&tag, &ok);
    if (reply != nullptr && status.ok()) {
      std::vector<grpc::Slice> slices;
      (void)response.Dump(&slices);
      reply->clear();
      for (const auto& part : slices) reply->append(reinterpret_cast<const char*>(part.begin()), part.size());
    }
    return status;
  }
  ~RawCaller() {
    queue_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) {
    }
  }

 private:
  grpc::GenericStub stub_;
  grpc::CompletionQueue queue_;
};

std::string varint(std::uint64_t value) {
  std::string out;
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
  return out;
}

std::string length_delimited(int field, const std::string& payload) {
  return varint((static_cast<std::uint64_t>(field) << 3) | 2) + varint(payload.size()) + payload;
}

// Message nested `depth` times in field `field` (recursion limits).
std::string nested(int field, int depth) {
  std::string body;
  for (int i = 0; i < depth; ++i) body = length_delimited(field, body);
  return body;
}

std::string valid_inject() {
  v1::InjectRequest request;
  request.set_experiment_id("fuzz");
  request.mutable_duration()->set_seconds(1);
  request.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(1);
  return request.SerializeAsString();
}

std::vector<std::string> crafted_bodies() {
  return {
      "",
      std::string(1, '\xff'),
      std::string(10, '\xff') + '\x01',                             // overlong varint tag
      varint((1 << 3) | 2) + varint(1ULL << 62),                    // length far past the end
      length_delimited(1, std::string(200 * 1024, 'A')),            // huge id, under the size limit
      length_delimited(1, std::string("\xc3\x28\xa0\xa1", 4)),      // invalid UTF-8 in a string field
      nested(5, 5000),                                              // deep nesting
      nested(1, 200),
      varint((3 << 3) | 3) + varint((3 << 3) | 4),                  // empty group (deprecated wire type)
      varint((2 << 3) | 5) + "abcd",                                // fixed32 where a message belongs
      varint((4 << 3) | 0) + varint(~0ULL),                         // max varint
      valid_inject() + std::string(8, '\x00'),
      length_delimited(1000000, "unknown field"),
  };
}

std::string mutate(std::string body, std::mt19937& random) {
  const int flips = 1 + static_cast<int>(random() % 4);
  for (int i = 0; i < flips && !body.empty(); ++i) body[random() % body.size()] ^= static_cast<char>(1 << (random() % 8));
  return body;
}

std::string random_bytes(std::mt19937& random, std::size_t max_size) {
  std::string body(random() % max_size, '\0');
  for (char& c : body) c = static_cast<char>(random() & 0xff);
  return body;
}

TEST(AgentFuzzTest, MalformedAndOversizedRequestsGetErrorsAndTheAgentStaysUp) {
  const fs::path dir = fresh_dir("fuzz");
  {
    // No capabilities: no kind that touches the system is offered. The
    // policy refuses the kinds that need none (stress burns CPU and memory,
    // disk.fill fills the agent's own files' filesystem), so no random
    // request can start a fault.
    std::ofstream(dir / "agent.toml") << "[policy]\nallowed_kinds = [\"process.kill\"]\n";
    AgentProcess agent((dir / "state").string(), (dir / "agent.log").string(),
                       {"--config", (dir / "agent.toml").string()},
                       {"/usr/bin/setpriv", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"});
    ASSERT_TRUE(agent.start()) << agent.log();
    RawCaller caller(agent.channel());

    std::string reply;
    ASSERT_TRUE(caller.call("/chaos.v1.Agent/Capabilities", "", &reply).ok());
    v1::CapabilitiesResponse capabilities;
    ASSERT_TRUE(capabilities.ParseFromString(reply));
    ASSERT_EQ(std::vector<std::string>(capabilities.fault_kinds().begin(), capabilities.fault_kinds().end()),
              (std::vector<std::string>{"disk.fill", "stress.cpu", "stress.memory"}))
        << "the fuzz agent must offer only kinds that need no capability";
    EXPECT_NE(agent.log().find("not offering process.kill: needs CAP_KILL"), std::string::npos) << agent.log();
    std::vector<v1::FaultSpec> capless(3);
    capless[0].mutable_disk_fill()->set_path((dir / "fill").string());
    capless[0].mutable_disk_fill()->set_leave_bytes(1ULL << 30);
    capless[1].mutable_stress_cpu()->set_workers(1);
    capless[2].mutable_stress_memory()->set_bytes(1 << 20);
    for (const auto& spec : capless) {
      v1::InjectRequest request;
      request.set_experiment_id("fuzz");
      request.mutable_duration()->set_seconds(60);
      *request.mutable_spec() = spec;
      ASSERT_EQ(caller.call("/chaos.v1.Agent/Inject", request.SerializeAsString()).error_code(),
                grpc::StatusCode::PERMISSION_DENIED)
          << "the policy must refuse " << spec.ShortDebugString();
    }

    std::mt19937 random(20261123);
    std::map<grpc::StatusCode, int> codes;
    int calls = 0;
    for (const auto& body : crafted_bodies()) {
      for (const auto& method : kMethods) codes[caller.call(method, body).error_code()]++, ++calls;
    }
    const std::string seed = valid_inject();
    for (int i = 0; i < 3000; ++i) {
      const std::string& method = kMethods[random() % kMethods.size()];
      const std::string body = (i % 2 == 0) ? mutate(seed, random) : random_bytes(random, 512);
      codes[caller.call(method, body).error_code()]++;
      ++calls;
    }
    // The same from four clients at once: the audit log and registry locks
    // must hold under concurrency.
    std::vector<std::thread> clients;
    std::atomic<int> unanswered{0};
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        RawCaller own(agent.channel());
        std::mt19937 own_random(1000 + t);
        for (int i = 0; i < 250; ++i) {
          const auto code = own.call(kMethods[own_random() % kMethods.size()],
                                     (i % 2 == 0) ? mutate(seed, own_random) : random_bytes(own_random, 512))
                                .error_code();
          if (code == grpc::StatusCode::DEADLINE_EXCEEDED || code == grpc::StatusCode::UNAVAILABLE) ++unanswered;
        }
      });
    }
    for (auto& client : clients) client.join();
    EXPECT_EQ(unanswered.load(), 0);

    // Over the 256 KiB receive limit: refused before any parsing.
    const grpc::Status oversized = caller.call("/chaos.v1.Agent/Inject", length_delimited(1, std::string(1 << 20, 'B')));
    EXPECT_EQ(oversized.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << oversized.error_message();
    EXPECT_EQ(caller.call(kMethods.back(), "").error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << "no reflection service";

    EXPECT_GT(calls, 3000);
    EXPECT_GT(codes[grpc::StatusCode::INVALID_ARGUMENT] + codes[grpc::StatusCode::INTERNAL] +
                  codes[grpc::StatusCode::UNIMPLEMENTED],
              0);
    EXPECT_EQ(codes[grpc::StatusCode::DEADLINE_EXCEEDED], 0) << "the agent must answer every call";
    EXPECT_EQ(codes[grpc::StatusCode::UNAVAILABLE], 0) << "the agent must not go away";

    // Still up, still healthy, nothing live.
    EXPECT_FALSE(agent.exited());
    ASSERT_TRUE(caller.call("/grpc.health.v1.Health/Check", "", &reply).ok());
    grpc::ClientContext context;
    v1::ListResponse listed;
    ASSERT_TRUE(agent.stub().List(&context, v1::ListRequest{}, &listed).ok());
    EXPECT_EQ(listed.faults_size(), 0);
    EXPECT_EQ(agent.stop_with(SIGTERM), 0);
  }
  for (const auto& line : read_lines((dir / "state/audit.log").string())) {
    const auto parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << line;
    ASSERT_TRUE(parsed.contains("rpc") && parsed.contains("result")) << line;
    if (parsed["rpc"] == "Inject") {
      EXPECT_NE(parsed["result"], "ok") << line;  // nothing could be injected
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chaos::security_testing
