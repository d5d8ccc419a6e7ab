// Bounded soak: 4 concurrent clients, each with its own gRPC channel, doing
// 25 inject/revert cycles of mixed kinds (100 in all) against one real
// agent. Every call succeeds, the node equals its baseline at every quiet
// point, and the agent's thread count and RSS do not grow by more than a
// generous bound after warm-up: enough to catch a thread or a buffer leaked
// per cycle, never a timing threshold. The long version (1,000 cycles, the
// figures printed) is bench/soak.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "lab/testbed/soak_workload.h"

namespace chaos::agent::integration {
namespace {

constexpr long kThreadSlack = 4;
constexpr long kRssSlackKib = 16 * 1024;

// Under AddressSanitizer freed memory sits in a quarantine of up to 256 MiB
// before it is reused, so RSS would grow with every allocation, leak or not.
// A small quarantine keeps use-after-free detection and makes RSS flat
// unless something really is kept.
std::vector<std::string> agent_environment() {
  const char* existing = std::getenv("ASAN_OPTIONS");
  std::string options = existing != nullptr ? std::string(existing) + ":" : "";
  return {"ASAN_OPTIONS=" + options + "quarantine_size_mb=4"};
}

TEST(AgentSoak, FourClientsHundredCyclesLeaveNothingAndDoNotGrow) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  const TempDir dir("cag-soak-" + std::to_string(::getpid()));
  AgentTestBed bed;
  ASSERT_EQ(bed.error(), "");
  SoakOptions options;
  std::vector<std::unique_ptr<Victim>> victims;
  std::vector<pid_t> pids;
  for (int c = 0; c < options.clients; ++c) {
    victims.push_back(std::make_unique<Victim>("cag-soak-" + std::to_string(::getpid()) + "-" + std::to_string(c)));
    pids.push_back(victims.back()->pid());
  }
  auto baseline = bed.snapshot(pids);
  ASSERT_TRUE(baseline.ok()) << baseline.status().to_string();
  NamespacedAgent agent(bed.a(), (dir / "state").string(), (dir / "agent.log").string(), agent_environment());
  ASSERT_TRUE(agent.start()) << agent.log();

  const SoakResult result = run_soak(bed, agent, *baseline, pids, options);

  std::cerr << "soak: " << result.cycles << " cycles in " << result.seconds << " s, " << result.quiet_points
            << " quiet points; threads " << result.after_warmup.threads << " -> " << result.at_end.threads
            << ", RSS " << result.after_warmup.rss_kib << " -> " << result.at_end.rss_kib << " KiB\n";
  EXPECT_EQ(result.cycles, options.clients * options.cycles_per_client);
  EXPECT_EQ(result.failed_calls, 0) << ::testing::PrintToString(result.errors) << "\n" << agent.log();
  for (const auto& leftover : result.leftovers) ADD_FAILURE() << "node differs from its baseline at a " << leftover;
  EXPECT_GT(result.quiet_points, 2);
  ASSERT_GT(result.after_warmup.threads, 0) << "cannot read /proc/" << agent.pid() << "/status";
  EXPECT_LE(result.at_end.threads, result.after_warmup.threads + kThreadSlack)
      << "the agent's threads grew over " << result.cycles << " cycles";
  EXPECT_LE(result.at_end.rss_kib, result.after_warmup.rss_kib + kRssSlackKib)
      << "the agent's RSS grew over " << result.cycles << " cycles";

  EXPECT_EQ(agent.stop(), 0) << agent.log();
  EXPECT_EQ(bed.diff_from(*baseline, pids), "");
}

}  // namespace
}  // namespace chaos::agent::integration
