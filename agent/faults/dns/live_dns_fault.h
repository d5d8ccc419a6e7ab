// A live dns.fail: the running stub responder plus the nft table that
// redirects queries into it. Revert removes the redirect first (so no query
// is sent to a port nobody listens on) and then stops the responder.
//
// The effect check reads the table back with `nft list table` and sends one
// probe query (dns_probe.h) to the resolver clients use; it must come back
// from the stub with the fault's answer. The stub counts probes apart from
// user queries (queries_probe) and never forwards them upstream.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "agent/fault.h"
#include "agent/faults/dns/dns_fault_spec.h"
#include "agent/faults/dns/dns_redirect_rules.h"
#include "agent/faults/dns/dns_stub_responder.h"

namespace chaos::agent::dns {

// What apply() set up, as the checks need to know it.
struct LiveDnsFaultSetup {
  RedirectRules rules;              // as installed
  UpstreamResolver client_resolver;  // where clients send queries: the probe's target
  DnsFaultSpec spec;
  std::string detail;
  // The container's network namespace the stub and the redirect live in,
  // held open by the caller for the fault's life; -1: the agent's own. The
  // probes and the socket checks run there.
  int network_namespace_fd = -1;
};

class LiveDnsFault final : public LiveFault {
 public:
  LiveDnsFault(CommandRunner& commands, LiveDnsFaultSetup setup, std::unique_ptr<DnsStubResponder> responder,
               std::shared_ptr<std::atomic<bool>> live_flag);
  // A fault dropped without revert still leaves nothing behind.
  ~LiveDnsFault() override;

  std::string backend() const override { return "dns-stub"; }
  // The spec plus live counters: "nxdomain for *.lab, upstream 10.0.0.2;
  // 12 queries, 5 faulted, 7 forwarded".
  std::string detail() const override;
  nlohmann::json undo_record() const override;
  // Holds this fault's own revert lock across its `nft` command: only a
  // second revert of the same fault waits for it.
  Status revert() override;
  // ABORTED "engine_failed: ..." once a responder thread has failed.
  Status on_tick(SteadyTime now) override;
  // The table read back, then one probe through the redirect (at most
  // about a second).
  StatusOr<FaultEffect> verify_live() override;
  // The table read back and the stub's counters; no probe.
  StatusOr<FaultEffect> observe() override;
  // Table gone from `nft list tables`, the stub's sockets closed, and a
  // probe to the stub's former loopback address not answered faultily.
  StatusOr<std::string> verify_gone() override;

  const DnsStubResponder& responder() const { return *responder_; }

 private:
  // The read-back of the table for the probe's family, and a stopped
  // responder; the evidence line's first part.
  StatusOr<std::string> check_redirect_in_place();
  FaultEffect counters_effect() const;

  CommandRunner& commands_;
  const LiveDnsFaultSetup setup_;
  std::unique_ptr<DnsStubResponder> responder_;
  std::shared_ptr<std::atomic<bool>> live_flag_;
  // Serialises probes (each registers its source with the stub); never
  // held by revert().
  std::mutex probe_mutex_;
  std::atomic<bool> probe_verified_{false};
  std::mutex revert_mutex_;
  bool reverted_ = false;
};

}  // namespace chaos::agent::dns
