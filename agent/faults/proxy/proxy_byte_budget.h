// What all proxy faults of one agent may hold in memory at once: the bytes
// queued in their connections (emitted by a filter and delayed, or not yet
// taken by a slow reader) and what their filters hold back (a NATS message
// waiting for the rest of its payload). Each connection has its own bound
// per direction (ProxyEngineOptions::max_queued_bytes), but 1,024
// connections per fault, two directions and a filter's message each are
// gigabytes: no bound a node that runs a broker can afford. One budget per
// agent, shared by every proxy engine; each connection's share is a
// ProxyByteCharge its engine keeps up to date.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace chaos::agent::proxy {

// The agent's limit is its config's [proxy] max_buffered_bytes
// (agent_config.h).
class ProxyByteBudget {
 public:
  explicit ProxyByteBudget(std::size_t limit) : limit_(limit) {}
  ProxyByteBudget(const ProxyByteBudget&) = delete;
  ProxyByteBudget& operator=(const ProxyByteBudget&) = delete;

  std::size_t limit() const { return limit_; }
  std::size_t used() const { return used_.load(std::memory_order_relaxed); }
  // The part of used() that is queued to be written (the rest is held by
  // filters): what can free the budget without a filter giving up.
  std::size_t queued() const { return queued_.load(std::memory_order_relaxed); }
  // At or over the limit: engines stop reading the connections that hold
  // bytes until some are written.
  bool exhausted() const { return used() >= limit_; }

 private:
  friend class ProxyByteCharge;
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<std::size_t> queued_{0};
};

// One connection's share of a budget (none: counts nothing). Given back
// when it is destroyed, however the connection ended.
class ProxyByteCharge {
 public:
  explicit ProxyByteCharge(std::shared_ptr<ProxyByteBudget> budget) : budget_(std::move(budget)) {}
  ~ProxyByteCharge() { set(0, 0); }
  ProxyByteCharge(const ProxyByteCharge&) = delete;
  ProxyByteCharge& operator=(const ProxyByteCharge&) = delete;

  // The connection now has `queued` bytes to write and its filter holds
  // `held` more.
  void set(std::size_t queued, std::size_t held) {
    if (!budget_) return;
    move(budget_->queued_, queued, queued_);
    move(budget_->used_, queued + held, queued_ + held_);
    queued_ = queued;
    held_ = held;
  }
  std::size_t bytes() const { return queued_ + held_; }

 private:
  static void move(std::atomic<std::size_t>& total, std::size_t now, std::size_t before) {
    if (now > before) total.fetch_add(now - before, std::memory_order_relaxed);
    if (now < before) total.fetch_sub(before - now, std::memory_order_relaxed);
  }

  std::shared_ptr<ProxyByteBudget> budget_;
  std::size_t queued_ = 0;
  std::size_t held_ = 0;
};

}  // namespace chaos::agent::proxy
