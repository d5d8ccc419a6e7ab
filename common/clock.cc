#include "common/clock.h"

namespace chaos {

void SystemClock::sleep_until(SteadyTime deadline) { sleep_unless_woken(deadline, wake_ticket()); }

std::uint64_t SystemClock::wake_ticket() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void SystemClock::sleep_unless_woken(SteadyTime deadline, std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  wakeup_.wait_until(lock, deadline, [&] { return generation_ != ticket; });
}

void SystemClock::wake_all() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wakeup_.notify_all();
}

FakeClock::FakeClock()
    // A fixed, recognisable epoch keeps test output stable.
    : steady_(SteadyTime{} + std::chrono::hours(1)),
      wall_(WallTime{} + std::chrono::seconds(1'800'000'000)) {}

SteadyTime FakeClock::steady_now() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

WallTime FakeClock::wall_now() const {
  std::lock_guard lock(mutex_);
  return wall_;
}

void FakeClock::sleep_until(SteadyTime deadline) { sleep_unless_woken(deadline, wake_ticket()); }

std::uint64_t FakeClock::wake_ticket() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void FakeClock::sleep_unless_woken(SteadyTime deadline, std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  wakeup_.wait(lock, [&] { return steady_ >= deadline || generation_ != ticket; });
}

void FakeClock::wake_all() {
  {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  wakeup_.notify_all();
}

void FakeClock::advance(Duration by) {
  {
    std::lock_guard lock(mutex_);
    steady_ += by;
    wall_ += std::chrono::duration_cast<WallTime::duration>(by);
    ++generation_;
  }
  wakeup_.notify_all();
}

}  // namespace chaos
