#include "agent/faults/dns/live_dns_fault.h"

#include "agent/faults/dns/dns_redirect_rules.h"
#include "common/crash_point.h"

namespace chaos::agent::dns {

LiveDnsFault::LiveDnsFault(CommandRunner& commands, std::string table, std::string detail,
                           std::unique_ptr<DnsStubResponder> responder,
                           std::shared_ptr<std::atomic<bool>> live_flag)
    : commands_(commands),
      table_(std::move(table)),
      detail_(std::move(detail)),
      responder_(std::move(responder)),
      live_flag_(std::move(live_flag)) {}

LiveDnsFault::~LiveDnsFault() { (void)revert(); }

std::string LiveDnsFault::detail() const {
  const ResponderCounters& counters = responder_->counters();
  return detail_ + "; " + std::to_string(counters.queries.load()) + " queries, " +
         std::to_string(counters.faulted.load()) + " faulted, " + std::to_string(counters.forwarded.load()) +
         " forwarded" +
         (counters.overflowed.load() > 0 ? ", " + std::to_string(counters.overflowed.load()) + " overflowed" : "");
}

nlohmann::json LiveDnsFault::undo_record() const {
  return {{"nft_family", "inet"}, {"nft_table", table_}, {"stub_port", responder_->port()}};
}

Status LiveDnsFault::revert() {
  std::lock_guard lock(revert_mutex_);
  if (reverted_) return {};
  // Redirect first: stopping the stub while the rule still points at it
  // would turn the fault into "connection refused" for a moment.
  CHAOS_RETURN_IF_ERROR(remove_redirect(commands_, table_));
  crash_point("dns: stop stub responder");
  responder_->stop();
  reverted_ = true;
  live_flag_->store(false);
  return {};
}

}  // namespace chaos::agent::dns

namespace chaos::agent::dns {

Status LiveDnsFault::on_tick(SteadyTime now) {
  (void)now;
  const std::string failure = responder_->failure();
  if (failure.empty()) return {};
  return aborted("engine_failed: dns stub responder: " + failure);
}

}  // namespace chaos::agent::dns
