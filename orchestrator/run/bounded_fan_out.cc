#include "orchestrator/run/bounded_fan_out.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace chaos::orchestrator {

void BoundedFanOut::for_each(std::size_t count, const std::function<void(std::size_t)>& task) const {
  if (count == 0) return;
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  const auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      try {
        task(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> helpers;
  const std::size_t wanted = std::min(limit_, count) - 1;  // the caller is one worker
  try {
    helpers.reserve(wanted);
    for (std::size_t t = 0; t < wanted; ++t) helpers.emplace_back(work);
  } catch (const std::system_error&) {
    // No more threads (RLIMIT_NPROC, memory): the started ones and the
    // caller share the remaining calls.
  } catch (const std::bad_alloc&) {
  }
  work();
  for (auto& helper : helpers) helper.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace chaos::orchestrator
