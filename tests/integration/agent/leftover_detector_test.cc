// The leftover detector against the real tools in a network namespace of its
// own: a snapshot, then an nft table named like one of ours and a foreign
// iptables rule, then another snapshot. The table is a leftover of its fault,
// the rule a foreign change, and nothing else differs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "agent/leftovers/agent_object_naming.h"
#include "agent/leftovers/snapshot_diff.h"
#include "agent/leftovers/system_state_probe.h"
#include "common/command_runner.h"

namespace chaos::agent::integration {
namespace {

using namespace chaos::agent::leftovers;

// Every command runs inside `netns`, as the agent's own would on its node.
class NetnsCommandRunner final : public CommandRunner {
 public:
  explicit NetnsCommandRunner(std::string netns) : netns_(std::move(netns)) {}
  using CommandRunner::run;
  StatusOr<CommandResult> run(const std::vector<std::string>& argv, const RunOptions& options) override {
    std::vector<std::string> full = {"ip", "netns", "exec", netns_};
    full.insert(full.end(), argv.begin(), argv.end());
    return real_.run(full, options);
  }

 private:
  std::string netns_;
  ProcessCommandRunner real_;
};

std::string describe_all(const std::vector<SystemChange>& changes) {
  std::string text;
  for (const auto& change : changes) text += describe(change) + "\n";
  return text;
}

TEST(LeftoverDetector, RealSnapshotsTellOurLeftoverTableFromAForeignRule) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ip netns)";
  const std::string netns = "cag-leftovers-" + std::to_string(::getpid());
  const auto dir = std::filesystem::temp_directory_path() / netns;
  ASSERT_EQ(std::system(("ip netns add " + netns).c_str()), 0);
  struct Cleanup {
    std::string netns;
    std::filesystem::path dir;
    ~Cleanup() {
      (void)std::system(("ip netns delete " + netns + " 2>/dev/null").c_str());
      std::filesystem::remove_all(dir);
    }
  } cleanup{netns, dir};
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "resolv.conf") << "nameserver 10.202.0.2\n";

  NetnsCommandRunner commands(netns);
  ASSERT_TRUE(commands.run_checked({"ip", "link", "set", "lo", "up"}).ok());
  ProbeOptions options;
  options.resolv_conf_path = (dir / "resolv.conf").string();
  options.sysctls = {"net.ipv4.ip_forward"};
  CommandStateProbe probe(commands, options);
  const SystemSnapshot before = probe.take();
  for (const auto& error : before.errors) std::cerr << "before: " << error << "\n";
  for (const char* source : {"nft list ruleset", "iptables-save", "tc qdisc dev lo", "ip rule"}) {
    EXPECT_EQ(before.sources.count(source), 1u) << source;
  }
  // Nothing happened: nothing differs, even though a second listing is
  // taken at another time.
  const SnapshotDiff unchanged = compare(before, probe.take(), {"f-live-1"}, agent_object_naming());
  EXPECT_EQ(describe_all(unchanged.leftovers) + describe_all(unchanged.foreign), "");

  const std::string table = agent_object_naming().names_of("f-live-1")[2];
  ASSERT_TRUE(commands.run_checked({"nft", "add", "table", "inet", table}).ok());
  ASSERT_TRUE(commands
                  .run_checked({"nft", "add", "chain", "inet", table, "out",
                                "{ type filter hook output priority 0 ; policy accept ; }"})
                  .ok());
  ASSERT_TRUE(commands.run_checked({"nft", "add", "rule", "inet", table, "out", "ip", "daddr", "10.99.0.2", "counter",
                                    "drop"})
                  .ok());
  ASSERT_TRUE(commands.run_checked({"iptables", "-A", "INPUT", "-s", "10.99.0.7/32", "-j", "DROP"}).ok());

  const SystemSnapshot after = probe.take();
  const SnapshotDiff diff = compare(before, after, {"f-live-0", "f-live-1"}, agent_object_naming());
  const std::string leftovers = describe_all(diff.leftovers);
  const std::string foreign = describe_all(diff.foreign);
  std::cerr << "leftovers:\n" << leftovers << "foreign:\n" << foreign;

  ASSERT_FALSE(diff.leftovers.empty());
  for (const auto& change : diff.leftovers) {
    EXPECT_EQ(change.fault_id, "f-live-1") << describe(change);
    EXPECT_EQ(change.source, "nft list ruleset") << describe(change);
    EXPECT_NE(change.line.find("table inet " + table), std::string::npos) << describe(change);
  }
  EXPECT_NE(leftovers.find("nft list ruleset: added table inet " + table +
                           " / chain out: ip daddr 10.99.0.2 counter drop (fault f-live-1)\n"),
            std::string::npos);

  ASSERT_FALSE(diff.foreign.empty());
  for (const auto& change : diff.foreign) {
    EXPECT_FALSE(change.ours);
    EXPECT_NE(change.line.find("10.99.0.7"), std::string::npos) << describe(change);
  }
  EXPECT_NE(foreign.find("iptables-save: added filter: -A INPUT -s 10.99.0.7/32 -j DROP (not ours)\n"),
            std::string::npos);
}

}  // namespace
}  // namespace chaos::agent::integration
