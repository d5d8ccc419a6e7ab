// Whether a proxy engine goes quiet: some 100 ms window, within `within`,
// in which its event loop turned at most twice. An engine that busy-loops
// turns thousands of times in every window, however loaded the machine;
// CPU time, which these tests measured before, depends on the load.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "agent/faults/proxy/proxy_engine.h"

namespace chaos::agent::proxy {

// The fewest turns seen in one 100 ms window until a quiet one (returned
// at once) or until `within` has passed.
inline std::uint64_t fewest_event_wakeups_per_100ms(const ProxyEngine& engine,
                                                   std::chrono::milliseconds within = std::chrono::seconds(3)) {
  constexpr std::uint64_t kQuiet = 2;
  const auto deadline = std::chrono::steady_clock::now() + within;
  std::uint64_t fewest = UINT64_MAX;
  do {
    const std::uint64_t before = engine.counters().event_wakeups.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const std::uint64_t turns = engine.counters().event_wakeups.load() - before;
    if (turns < fewest) fewest = turns;
  } while (fewest > kQuiet && std::chrono::steady_clock::now() < deadline);
  return fewest;
}

}  // namespace chaos::agent::proxy
