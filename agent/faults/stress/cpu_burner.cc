#include "agent/faults/stress/cpu_burner.h"

#include <time.h>

#include <system_error>
#include "common/thread_name.h"

namespace chaos::agent::stress {

namespace {

std::int64_t thread_cpu_nanoseconds() {
  timespec now{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return 0;
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

StatusOr<std::unique_ptr<CpuBurner>> CpuBurner::start(unsigned workers, double load) {
  std::unique_ptr<CpuBurner> burner(new CpuBurner(load));
  burner->workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) {
    try {
      burner->workers_.emplace_back([raw = burner.get()] {
        set_current_thread_name("chaos-cpu-burn");
        raw->work();
      });
    } catch (const std::system_error& error) {
      burner->stop();
      return resource_exhausted("stress.cpu: cannot start worker " + std::to_string(i + 1) + " of " +
                                std::to_string(workers) + ": " + error.what());
    }
  }
  return burner;
}

CpuBurner::~CpuBurner() { stop(); }

void CpuBurner::stop() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

std::chrono::nanoseconds CpuBurner::cpu_time() const { return std::chrono::nanoseconds(cpu_nanoseconds_.load()); }

// Busy-waits on the clock (the point is to use the CPU), then sleeps out the
// period. Nothing here allocates or throws, so the thread cannot die early.
void CpuBurner::work() noexcept {
  using Clock = std::chrono::steady_clock;
  ++running_;
  const auto busy = std::chrono::duration_cast<Clock::duration>(kPeriod * load_);
  std::int64_t reported = 0;
  while (!stopping_.load(std::memory_order_relaxed)) {
    const auto period_start = Clock::now();
    while (Clock::now() - period_start < busy && !stopping_.load(std::memory_order_relaxed)) {
    }
    const std::int64_t used = thread_cpu_nanoseconds();
    cpu_nanoseconds_.fetch_add(used - reported);
    reported = used;
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    wake_.wait_until(lock, period_start + kPeriod, [this] { return stopping_.load(); });
  }
  --running_;
}

}  // namespace chaos::agent::stress
