#include "agent/watchdog.h"

namespace chaos::agent {

Watchdog::Watchdog(Clock& clock, Duration period, std::function<void()> tick)
    : clock_(clock), period_(period), tick_(std::move(tick)) {}

Watchdog::~Watchdog() { stop(); }

void Watchdog::start() {
  thread_ = std::thread([this] {
    while (!stopping_) {
      tick_();
      clock_.sleep_until(clock_.steady_now() + period_);
    }
  });
}

void Watchdog::stop() {
  stopping_ = true;
  clock_.wake_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace chaos::agent
