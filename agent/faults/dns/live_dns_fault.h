// A live dns.fail: the running stub responder plus the nft table that
// redirects queries into it. Revert removes the redirect first (so no query
// is sent to a port nobody listens on) and then stops the responder.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "agent/fault.h"
#include "agent/faults/dns/dns_stub_responder.h"

namespace chaos::agent::dns {

class LiveDnsFault final : public LiveFault {
 public:
  LiveDnsFault(CommandRunner& commands, std::string table, std::string detail,
               std::unique_ptr<DnsStubResponder> responder, std::shared_ptr<std::atomic<bool>> live_flag);
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
  // Placeholder until the probe query lands (issue 15).
  StatusOr<FaultEffect> verify_live() override { return unimplemented("dns.fail: no effect check yet"); }
  StatusOr<std::string> verify_gone() override { return unimplemented("dns.fail: no gone check yet"); }

  const DnsStubResponder& responder() const { return *responder_; }

 private:
  CommandRunner& commands_;
  const std::string table_;
  const std::string detail_;
  std::unique_ptr<DnsStubResponder> responder_;
  std::shared_ptr<std::atomic<bool>> live_flag_;
  std::mutex revert_mutex_;
  bool reverted_ = false;
};

}  // namespace chaos::agent::dns
