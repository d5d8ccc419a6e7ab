// The NFQUEUE engine bound to a queue with our iptables steering in front of
// it, for one interface and protocol: the engine path of a network fault
// without the fault registry, so a 0 ms "fault" (which the agent refuses as
// a spec) can be measured against no fault at all.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "agent/faults/network/engine/nfqueue_engine.h"
#include "agent/faults/network/rules/iptables_steering.h"
#include "agent/faults/network/rules/object_names.h"

namespace chaos::bench {

class SteeredEngine {
 public:
  static constexpr std::uint16_t kQueue = 31888;

  SteeredEngine(CommandRunner& commands, const std::string& interface, agent::network::Protocol protocol,
                const agent::network::ImpairmentSpec& impairment, bool ingress = false,
                bool reinject = true, bool resend_gso_whole = true)
      : commands_(commands) {
    using namespace agent::network;
    EngineOptions options{kQueue, impairment, 1, 1 << 16, kBypassMark, 10, interface, reinject};
    options.resend_gso_whole = resend_gso_whole;
    auto engine = NfqueueEngine::start(options);
    if (!engine.ok()) throw std::runtime_error(engine.status().to_string());
    engine_ = std::move(engine).value();
    TrafficScope scope;
    scope.interface = interface;
    scope.protocol = protocol;
    scope.egress = !ingress;
    scope.ingress = ingress;
    auto status = install_steering(commands_, SteeringPlan{kEgress, kIngress, scope, {},
                                                           SteeringTarget{SteeringTarget::Kind::kQueue, kQueue, ""}});
    if (!status.ok()) throw std::runtime_error(status.to_string());
  }
  ~SteeredEngine() { (void)agent::network::remove_steering(commands_, kEgress, kIngress); }
  SteeredEngine(const SteeredEngine&) = delete;
  SteeredEngine& operator=(const SteeredEngine&) = delete;

  const agent::network::NfqueueEngine& engine() const { return *engine_; }

 private:
  static constexpr const char* kEgress = "CHAOS-bench-O";
  static constexpr const char* kIngress = "CHAOS-bench-I";
  CommandRunner& commands_;
  std::unique_ptr<agent::network::NfqueueEngine> engine_;
};

}  // namespace chaos::bench
