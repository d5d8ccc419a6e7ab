// Time as an injected dependency: fault TTLs, leases, repeat intervals and
// during-check intervals read a Clock so tests drive time with FakeClock
// instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace chaos {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for deadlines (TTL, lease expiry).
  virtual SteadyTime steady_now() const = 0;
  // Wall time for journals, reports and audit records.
  virtual WallTime wall_now() const = 0;
  // Blocks until `deadline` or until interrupted by notify_all() on the
  // clock; returns early on notify so loops can re-check their state.
  virtual void sleep_until(SteadyTime deadline) = 0;
  // Wakes every sleeper: shutdown, FakeClock::advance, the fault registry
  // when a deadline appears that may be earlier (the watchdog reschedules),
  // and the DNS delay sleepers.
  virtual void wake_all() = 0;
  // For a sleeper that must not miss a wake_all() sent while it was deciding
  // how long to sleep: take a ticket first, then sleep_unless_woken() returns
  // at once when wake_all() (or FakeClock::advance) ran after the ticket.
  // Every clock implements both: a default that just slept would lose those
  // wake-ups without a sign.
  virtual std::uint64_t wake_ticket() const = 0;
  virtual void sleep_unless_woken(SteadyTime deadline, std::uint64_t ticket) = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  void sleep_until(SteadyTime deadline) override;
  void wake_all() override;
  std::uint64_t wake_ticket() const override;
  void sleep_unless_woken(SteadyTime deadline, std::uint64_t ticket) override;

 private:
  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  std::uint64_t generation_ = 0;
};

// Deterministic clock for tests: time moves only on advance().
class FakeClock final : public Clock {
 public:
  FakeClock();
  SteadyTime steady_now() const override;
  WallTime wall_now() const override;
  // Returns immediately once fake time reaches `deadline`, or when woken.
  void sleep_until(SteadyTime deadline) override;
  void wake_all() override;
  std::uint64_t wake_ticket() const override;
  void sleep_unless_woken(SteadyTime deadline, std::uint64_t ticket) override;
  void advance(Duration by);

 private:
  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  SteadyTime steady_;
  WallTime wall_;
  std::uint64_t generation_ = 0;
};

}  // namespace chaos
