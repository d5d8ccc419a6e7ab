// Restoring the host's mangle tables after our steering chains are gone:
// the pure decision and the keeper's bookkeeping (fake nft, temp state dir).
#include "agent/faults/network/rules/mangle_tables.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "tests/support/fake_command_runner.h"

namespace chaos::agent::network {
namespace {

namespace fs = std::filesystem;
using chaos::testing::FakeCommandRunner;

// `nft -j list table <family> mangle` for the given chains (name, hook or
// "" for a regular chain, rule count).
struct ChainSpec {
  std::string name;
  std::string hook;
  int rules = 0;
};

std::string listing(const std::string& family, const std::vector<ChainSpec>& chains) {
  nlohmann::json items = nlohmann::json::array();
  items.push_back({{"metainfo", {{"version", "1.0.6"}}}});
  items.push_back({{"table", {{"family", family}, {"name", "mangle"}, {"handle", 1}}}});
  for (const auto& chain : chains) {
    nlohmann::json parsed = {{"family", family}, {"table", "mangle"}, {"name", chain.name}};
    if (!chain.hook.empty()) {
      parsed["type"] = "filter";
      parsed["hook"] = chain.hook;
      parsed["policy"] = "accept";
    }
    items.push_back({{"chain", parsed}});
  }
  for (const auto& chain : chains) {
    for (int i = 0; i < chain.rules; ++i) {
      items.push_back({{"rule", {{"family", family}, {"table", "mangle"}, {"chain", chain.name}}}});
    }
  }
  return nlohmann::json{{"nftables", items}}.dump();
}

MangleTableState state(const std::string& family, const std::vector<ChainSpec>& chains) {
  return parse_mangle_listing(listing(family, chains)).value();
}

TEST(MangleListingTest, CountsRulesPerChainAndTellsBaseChainsApart) {
  const auto parsed = state("ip", {{"POSTROUTING", "postrouting", 2}, {"CHAOS-ab-O", "", 3}});
  ASSERT_TRUE(parsed.exists);
  ASSERT_EQ(parsed.chains.size(), 2u);
  EXPECT_TRUE(parsed.chains[0].base);
  EXPECT_EQ(parsed.chains[0].rules, 2);
  EXPECT_FALSE(parsed.chains[1].base);
  EXPECT_EQ(parsed.chains[1].rules, 3);
  EXPECT_TRUE(parsed.holds_our_chains());
  EXPECT_FALSE(parse_mangle_listing("not json").ok());
  EXPECT_FALSE(parse_mangle_listing("").ok());
}

TEST(MangleRestoreTest, TableWeCausedWithOnlyEmptyBaseChainsIsDeleted) {
  EXPECT_EQ(mangle_restore_script("ip6", MangleTableBaseline{},
                                  state("ip6", {{"POSTROUTING", "postrouting"}, {"PREROUTING", "prerouting"}})),
            "delete table ip6 mangle\n");
}

TEST(MangleRestoreTest, HostTableKeepsItsChainsAndLosesOnlyTheBaseChainsWeAdded) {
  const MangleTableBaseline before{true, {"OUTPUT"}};
  EXPECT_EQ(mangle_restore_script("ip", before,
                                  state("ip", {{"OUTPUT", "output", 1},
                                               {"POSTROUTING", "postrouting"},
                                               {"PREROUTING", "prerouting"}})),
            "delete chain ip mangle POSTROUTING\ndelete chain ip mangle PREROUTING\n");
}

TEST(MangleRestoreTest, HostTableAsItWasNeedsNothing) {
  const MangleTableBaseline before{true, {"POSTROUTING"}};
  EXPECT_EQ(mangle_restore_script("ip", before, state("ip", {{"POSTROUTING", "postrouting"}})), "");
  EXPECT_EQ(mangle_restore_script("ip", MangleTableBaseline{}, MangleTableState{}), "");
}

TEST(MangleRestoreTest, SomeoneElsesRuleInATableWeCausedKeepsTheTable) {
  // Their OUTPUT rule and their regular chain stay; only our empty hook goes.
  const auto now = state("ip", {{"POSTROUTING", "postrouting"}, {"OUTPUT", "output", 1}, {"MINE", "", 0}});
  EXPECT_EQ(mangle_restore_script("ip", MangleTableBaseline{}, now), "delete chain ip mangle POSTROUTING\n");
}

TEST(MangleBaselineTest, RoundTripsThroughJsonAndRefusesGarbage) {
  MangleBaseline baseline{{"ip", {true, {"OUTPUT", "POSTROUTING"}}}, {"ip6", {false, {}}}};
  auto parsed = baseline_from_json(baseline_to_json(baseline));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("ip").chains, baseline.at("ip").chains);
  EXPECT_TRUE(parsed->at("ip").existed);
  EXPECT_FALSE(parsed->at("ip6").existed);
  EXPECT_FALSE(baseline_from_json(nlohmann::json::array()).ok());
  auto from_file = baseline_from_json(baseline_file_json(baseline, "boot-1"));
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  EXPECT_EQ(from_file->size(), 2u) << "boot_id is not a family";
  EXPECT_FALSE(baseline_from_json(nlohmann::json{{"ip", {{"existed", "yes"}}}}).ok());
}

// A fake nft whose mangle tables are whatever the test sets.
class MangleKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() / ("mangle-keeper-" + std::to_string(getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
    commands_.on("list table", [this](const std::vector<std::string>& argv) -> StatusOr<CommandResult> {
      const auto found = tables_.find(argv[4]);
      if (found == tables_.end()) return CommandResult{1, "", "Error: No such file or directory"};
      return CommandResult{0, listing(argv[4], found->second), ""};
    });
    commands_.on_input("nft -f -", [this](const std::vector<std::string>&,
                                           const std::string& script) -> StatusOr<CommandResult> {
      std::istringstream lines(script);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::vector<std::string> w{std::istream_iterator<std::string>(words), {}};
        if (w.size() == 4 && w[0] == "delete" && w[1] == "table") {
          tables_.erase(w[2]);
        } else if (w.size() == 5 && w[0] == "delete" && w[1] == "chain") {
          auto& chains = tables_[w[2]];
          chains.erase(std::remove_if(chains.begin(), chains.end(), [&](const auto& c) { return c.name == w[4]; }),
                       chains.end());
        }
      }
      return CommandResult{};
    });
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::string baseline_path() const { return (directory_ / "network" / "mangle-baseline.json").string(); }
  int deletions() const {
    const auto scripts = commands_.stdin_texts();
    return static_cast<int>(std::count_if(scripts.begin(), scripts.end(), [](const auto& script) {
      return script.find("delete") != std::string::npos;
    }));
  }

  // After `keeper` met a stale baseline file: the one it wrote instead
  // (`key` = `value`) saw the ip table someone else made, and the last
  // release leaves that table alone.
  void expect_a_fresh_baseline_that_keeps_the_ip_table(MangleTableKeeper& keeper, const std::string& key,
                                                       const std::string& value, const std::string& stale) {
    ASSERT_TRUE(keeper.acquire(commands_).ok());
    std::ifstream written(baseline_path());
    const auto json = nlohmann::json::parse(written);
    EXPECT_EQ(json[key], value);
    EXPECT_EQ(json["ip"]["existed"], true) << "a fresh look, not " << stale;
    ASSERT_TRUE(keeper.release(commands_).ok());
    EXPECT_EQ(tables_.count("ip"), 1u) << "the table made since stays";
    EXPECT_EQ(deletions(), 0);
  }

  fs::path directory_;
  FakeCommandRunner commands_;
  std::map<std::string, std::vector<ChainSpec>> tables_;
};

TEST_F(MangleKeeperTest, LastReleaseDeletesTheTablesIptablesCreatedForUs) {
  MangleTableKeeper keeper(baseline_path());
  ASSERT_TRUE(keeper.acquire(commands_).ok());
  ASSERT_TRUE(keeper.acquire(commands_).ok());
  EXPECT_TRUE(fs::exists(baseline_path()));
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};  // what iptables-nft leaves
  tables_["ip6"] = {{"POSTROUTING", "postrouting"}};
  ASSERT_TRUE(keeper.release(commands_).ok());
  EXPECT_EQ(deletions(), 0) << "a fault is still live";
  ASSERT_TRUE(keeper.release(commands_).ok());
  EXPECT_TRUE(tables_.empty());
  EXPECT_FALSE(fs::exists(baseline_path()));
}

TEST_F(MangleKeeperTest, HostTableWithAForeignRuleSurvives) {
  tables_["ip"] = {{"OUTPUT", "output", 1}, {"POSTROUTING", "postrouting", 0}};
  MangleTableKeeper keeper(baseline_path());
  ASSERT_TRUE(keeper.acquire(commands_).ok());
  ASSERT_TRUE(keeper.release(commands_).ok());
  EXPECT_EQ(deletions(), 0);
  EXPECT_EQ(tables_.count("ip"), 1u);
}

TEST_F(MangleKeeperTest, LeftoverChaosChainDefersTheRestoration) {
  MangleTableKeeper keeper(baseline_path());
  ASSERT_TRUE(keeper.acquire(commands_).ok());
  tables_["ip"] = {{"POSTROUTING", "postrouting", 1}, {"CHAOS-ab-O", "", 2}};
  ASSERT_TRUE(keeper.release(commands_).ok());
  EXPECT_EQ(deletions(), 0);
  EXPECT_TRUE(fs::exists(baseline_path())) << "kept until the chain is gone";
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};
  ASSERT_TRUE(keeper.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u);
}

TEST_F(MangleKeeperTest, RestartedAgentRestoresFromTheBaselineOnDisk) {
  tables_["ip6"] = {{"INPUT", "input", 1}};  // the host's, before any fault
  {
    MangleTableKeeper crashed(baseline_path());
    ASSERT_TRUE(crashed.acquire(commands_).ok());
    tables_["ip"] = {{"POSTROUTING", "postrouting"}};
    tables_["ip6"].push_back({"POSTROUTING", "postrouting"});
  }  // dies with a fault live: no release
  MangleTableKeeper restarted(baseline_path());
  ASSERT_TRUE(restarted.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u);
  ASSERT_EQ(tables_.count("ip6"), 1u);
  EXPECT_EQ(commands_.stdin_texts().back(), "delete table ip mangle\ndelete chain ip6 mangle POSTROUTING\n")
      << "both families in one transaction";
  EXPECT_FALSE(fs::exists(baseline_path()));
}

TEST_F(MangleKeeperTest, BaselineOnDiskWinsOverAFreshLookAtTheNextInstall) {
  {
    MangleTableKeeper crashed(baseline_path());
    ASSERT_TRUE(crashed.acquire(commands_).ok());
  }
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};  // left by the crashed agent
  MangleTableKeeper restarted(baseline_path());
  ASSERT_TRUE(restarted.acquire(commands_).ok());  // must not take the leftover for the host's
  ASSERT_TRUE(restarted.release(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u);
}

// A host whose ip mangle table, with an empty accepting base chain, was
// made at boot; the stale baseline says there was none.
void write_stale_baseline(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}
const char* const kBaselineWithoutIpTable =
    R"({"boot_id":"earlier-boot","ip":{"existed":false,"chains":[]},"ip6":{"existed":false,"chains":[]}})";

TEST_F(MangleKeeperTest, ABaselineOfAnEarlierNamespaceWithTheSameInodeIsDeletedAndTheNextInstallLooksAfresh) {
  {
    // The agent stopped while a fault was live in a namespace that ended.
    MangleTableKeeper crashed(baseline_path(), "this-boot", "4097");
    ASSERT_TRUE(crashed.acquire(commands_).ok());
  }
  tables_.clear();
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};  // the new namespace's owner made this
  MangleTableKeeper keeper(baseline_path(), "this-boot", "8193");
  expect_a_fresh_baseline_that_keeps_the_ip_table(keeper, "netns_cookie", "8193", "the ended namespace's");
}

TEST_F(MangleKeeperTest, TheSameNamespaceAfterARestartRestoresFromItsBaseline) {
  {
    MangleTableKeeper crashed(baseline_path(), "this-boot", "4097");
    ASSERT_TRUE(crashed.acquire(commands_).ok());
  }
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};  // left by the crashed agent
  MangleTableKeeper restarted(baseline_path(), "this-boot", "4097");
  ASSERT_TRUE(restarted.acquire(commands_).ok());
  ASSERT_TRUE(restarted.release(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u) << "its own baseline said there was none";
}

TEST_F(MangleKeeperTest, ABaselineOfAnEarlierBootIsDeletedAndTheNextInstallLooksAfresh) {
  write_stale_baseline(baseline_path(), kBaselineWithoutIpTable);
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};  // the host's, made at this boot
  MangleTableKeeper keeper(baseline_path(), "this-boot");
  expect_a_fresh_baseline_that_keeps_the_ip_table(keeper, "boot_id", "this-boot", "the earlier boot's");
}

TEST_F(MangleKeeperTest, RecoveryWithABaselineOfAnEarlierBootTouchesNothingAndDeletesIt) {
  write_stale_baseline(baseline_path(), kBaselineWithoutIpTable);
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};
  MangleTableKeeper keeper(baseline_path(), "this-boot");
  ASSERT_TRUE(keeper.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 1u);
  EXPECT_EQ(deletions(), 0);
  EXPECT_FALSE(fs::exists(baseline_path()));
}

TEST_F(MangleKeeperTest, AnEmptyOrZeroedBaselineFileIsLeftByAPowerLossAndIsDeleted) {
  write_stale_baseline(baseline_path(), "");
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};
  MangleTableKeeper keeper(baseline_path(), "this-boot");
  ASSERT_TRUE(keeper.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 1u);
  EXPECT_FALSE(fs::exists(baseline_path()));
  ASSERT_TRUE(keeper.acquire(commands_).ok()) << "not an error that blocks every later fault";
  ASSERT_TRUE(keeper.release(commands_).ok());
  write_stale_baseline(baseline_path(), std::string(64, '\0'));
  MangleTableKeeper zeroed(baseline_path(), "this-boot");
  ASSERT_TRUE(zeroed.restore_if_unused(commands_).ok());
  EXPECT_FALSE(fs::exists(baseline_path()));
}

TEST_F(MangleKeeperTest, ABaselineOfThisBootOrOfAnOlderAgentIsUsedAndGarbageIsAnError) {
  write_stale_baseline(baseline_path(), R"({"boot_id":"this-boot","ip":{"existed":false,"chains":[]}})");
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};  // left by the crashed agent, same boot
  MangleTableKeeper keeper(baseline_path(), "this-boot");
  ASSERT_TRUE(keeper.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u);
  EXPECT_FALSE(fs::exists(baseline_path())) << "restored, then removed";

  write_stale_baseline(baseline_path(), R"({"ip":{"existed":false,"chains":[]}})");  // no boot_id: older agent
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};
  MangleTableKeeper older(baseline_path(), "this-boot");
  ASSERT_TRUE(older.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u);
  write_stale_baseline(baseline_path(), "{not json");
  MangleTableKeeper after(baseline_path(), "this-boot");
  const Status status = after.restore_if_unused(commands_);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(baseline_path()), std::string::npos) << status.message();
}

TEST(MangleBaselineTest, CurrentBootIdIsTheKernelsUuidWithoutItsNewline) {
  const std::string id = current_boot_id();
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(id.find('\n'), std::string::npos);
  EXPECT_EQ(current_boot_id(), id);
}

TEST_F(MangleKeeperTest, StartUpDeletesOnlyTheBaselinesOfEarlierBootsAndUnfinishedWrites) {
  const fs::path network = directory_ / "network";
  write_stale_baseline((network / "mangle-baseline.json").string(),
                       R"({"boot_id":"this-boot","ip":{"existed":true,"chains":[]}})");
  write_stale_baseline((network / "mangle-baseline-net-4026532301.json").string(), kBaselineWithoutIpTable);
  write_stale_baseline((network / "mangle-baseline-net-4026532302.json").string(), "");
  write_stale_baseline((network / "mangle-baseline-net-4026532303.json").string(),
                       R"({"ip":{"existed":true,"chains":[]}})");
  write_stale_baseline((network / "notes.json").string(), "");
  write_stale_baseline((network / "notes.tmp").string(), "");
  write_stale_baseline((network / "mangle-baseline-net-4026532304.json.tmp").string(),
                       R"({"boot_id":"this-boot","ip":{"exi)");
  const BaselineSweep sweep = delete_mangle_baselines_of_earlier_boots(network.string(), "this-boot");
  EXPECT_TRUE(sweep.errors.empty());
  auto deleted = sweep.deleted;
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{(network / "mangle-baseline-net-4026532301.json").string(),
                                               (network / "mangle-baseline-net-4026532302.json").string()}));
  EXPECT_EQ(sweep.unfinished,
            (std::vector<std::string>{(network / "mangle-baseline-net-4026532304.json.tmp").string()}));
  EXPECT_FALSE(fs::exists(network / "mangle-baseline-net-4026532304.json.tmp")) << "an unfinished write";
  EXPECT_TRUE(fs::exists(network / "mangle-baseline.json"));
  EXPECT_TRUE(fs::exists(network / "mangle-baseline-net-4026532303.json")) << "an older agent's: no boot to compare";
  EXPECT_TRUE(fs::exists(network / "notes.json"));
  EXPECT_TRUE(fs::exists(network / "notes.tmp")) << "not a baseline's";
  const BaselineSweep absent = delete_mangle_baselines_of_earlier_boots((directory_ / "absent").string(), "this-boot");
  EXPECT_TRUE(absent.deleted.empty());
  EXPECT_TRUE(absent.errors.empty()) << "no state yet is no error";
}

TEST_F(MangleKeeperTest, WithThisBootUnknownABaselineNamingABootIsStillUsed) {
  write_stale_baseline(baseline_path(), R"({"boot_id":"some-boot","ip":{"existed":false,"chains":[]}})");
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};
  MangleTableKeeper keeper(baseline_path(), "");
  ASSERT_TRUE(keeper.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 0u) << "as before boot ids";
  ASSERT_TRUE(keeper.acquire(commands_).ok());
  std::ifstream written(baseline_path());
  EXPECT_FALSE(nlohmann::json::parse(written).contains("boot_id"));
  ASSERT_TRUE(keeper.release(commands_).ok());
}

TEST_F(MangleKeeperTest, NoBaselineMeansRecoveryTouchesNothing) {
  tables_["ip"] = {{"POSTROUTING", "postrouting"}};
  MangleTableKeeper keeper(baseline_path());
  ASSERT_TRUE(keeper.restore_if_unused(commands_).ok());
  EXPECT_EQ(tables_.count("ip"), 1u);
  EXPECT_TRUE(commands_.calls().empty());
}

}  // namespace
}  // namespace chaos::agent::network
