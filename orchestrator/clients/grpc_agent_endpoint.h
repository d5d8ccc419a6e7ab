// The gRPC side of one agent client, for code that starts calls itself
// (agent_batch.cc runs a fan-out as async calls on one completion queue).
// Only gRPC clients have one; fakes and failing clients do not.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "chaos/v1/agent.grpc.pb.h"
#include "common/status.h"

namespace chaos::orchestrator {

struct GrpcAgentEndpoint {
  std::unique_ptr<v1::Agent::Stub> stub;
  std::string address;
  std::chrono::milliseconds deadline;  // per call
  std::string bearer_token;            // empty: none

  // The deadline and authorization header every call carries.
  void prepare(grpc::ClientContext& context) const;
};

// "agent ADDRESS: METHOD: message", with the gRPC code mapped to ours.
Status agent_call_status(const grpc::Status& status, const std::string& address, const char* method);

}  // namespace chaos::orchestrator
