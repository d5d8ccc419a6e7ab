// A live proxy fault (tcp.*, http.*, nats.*): the proxy engine plus the nft table that redirects
// new connections in scope into it. Revert deletes the table first (new
// connections go direct again at once), then stops the proxy, which closes
// the connections it still carries: their clients see the connection end
// (FIN, or RST where bytes were in flight); they are not drained, because
// draining would keep the fault's delays and limits alive past revert.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "agent/fault.h"
#include "agent/faults/proxy/proxy_engine.h"
#include "agent/faults/proxy/proxy_redirect_rules.h"
#include "agent/faults/proxy/proxy_fault_plan.h"

namespace chaos::agent::proxy {

struct LiveProxyFaultSetup {
  ProxyRedirectRules rules;  // as installed
  std::string description;
  std::function<ProxyFaultReport()> report;
  // The namespace the table and the proxy live in, held open by the
  // caller for the fault's life; -1: the agent's own.
  int network_namespace_fd = -1;
};

// Whether /proc/net/tcp (the text) lists a socket listening on `port`.
bool tcp_table_lists_listener(std::string_view proc_net_tcp, std::uint16_t port);

class LiveProxyFault final : public LiveFault {
 public:
  LiveProxyFault(CommandRunner& commands, LiveProxyFaultSetup setup, std::unique_ptr<ProxyEngine> engine,
                 std::shared_ptr<std::atomic<bool>> claim);
  // A fault dropped without revert still leaves nothing behind.
  ~LiveProxyFault() override;

  std::string backend() const override { return "tcp-proxy"; }
  std::string detail() const override;
  nlohmann::json undo_record() const override;
  Status revert() override;
  // ABORTED "engine_failed: ..." once the proxy's event thread has failed.
  Status on_tick(SteadyTime now) override;
  // The table read back, the listener seen in /proc/net/tcp, the counters
  // (the proxy's and the kind's own) and the kind's note.
  StatusOr<FaultEffect> verify_live() override;
  // Table gone from `nft list tables`, no listener on the proxy's port.
  StatusOr<std::string> verify_gone() override;

  const ProxyEngine& engine() const { return *engine_; }

 private:
  // Which of the proxy's listeners /proc/net/tcp and tcp6 list.
  struct Listeners {
    bool ipv4 = false;
    bool ipv6 = false;
  };
  StatusOr<Listeners> proxy_listeners() const;
  FaultEffect counters_effect(const ProxyFaultReport& report) const;
  // "3 connections proxied, 2 faulted[; <note>]"
  std::string summary(const ProxyFaultReport& report) const;

  CommandRunner& commands_;
  const LiveProxyFaultSetup setup_;
  std::unique_ptr<ProxyEngine> engine_;
  std::shared_ptr<std::atomic<bool>> claim_;
  std::mutex revert_mutex_;  // this fault's own: only a second revert waits
  bool reverted_ = false;
};

}  // namespace chaos::agent::proxy
