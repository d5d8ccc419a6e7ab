// The .deb from cmake/packaging.cmake, built by cpack from this build's
// binaries, unpacked into a scratch root (never installed on the system).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/command_runner.h"
#include "common/version.h"
#include "tests/integration/deploy/deploy_paths.h"

namespace chaos::deploy::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

RunOptions slow(int seconds) {
  RunOptions options;
  options.timeout = std::chrono::seconds(seconds);
  return options;
}

TEST(DebPackageTest, PackagesBothProgramsTheUnitAndTheExampleConfigThatRunFromTheUnpackedRoot) {
  ScratchDir scratch;
  ASSERT_FALSE(scratch.path().empty());
  ProcessCommandRunner runner;
  // The package as configured, but stored uncompressed and without
  // dpkg-shlibdeps, which takes most of a minute over the sanitized
  // binaries; both are the same code path in CPack.
  auto built = runner.run_checked({"cpack", "--config", build_dir() + "/CPackConfig.cmake", "-G", "DEB", "-B",
                                   scratch.path() + "/out", "-D", "CPACK_DEBIAN_COMPRESSION_TYPE=none", "-D",
                                   "CPACK_DEBIAN_PACKAGE_SHLIBDEPS=OFF"},
                                  slow(120));
  ASSERT_TRUE(built.ok()) << built.status().message();
  std::string deb;
  for (const auto& entry : fs::directory_iterator(scratch.path() + "/out")) {
    if (entry.path().extension() == ".deb") deb = entry.path().string();
  }
  ASSERT_FALSE(deb.empty()) << built->stdout_text;
  EXPECT_THAT(fs::path(deb).filename().string(), StartsWith(std::string("chaos_") + kVersion + "_"));

  auto info = runner.run_checked({"dpkg-deb", "--info", deb});
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_THAT(info->stdout_text, HasSubstr("Package: chaos\n"));
  EXPECT_THAT(info->stdout_text, HasSubstr(std::string("Version: ") + kVersion + "\n"));
  EXPECT_THAT(info->stdout_text, HasSubstr("Maintainer: "));
  EXPECT_THAT(info->stdout_text, HasSubstr("Depends: iptables, nftables, iproute2, util-linux"));
  EXPECT_THAT(info->stdout_text, HasSubstr("Description: chaos-agent and chaosctl"));
  EXPECT_THAT(info->stdout_text, HasSubstr("postinst"));

  auto contents = runner.run_checked({"dpkg-deb", "--contents", deb});
  ASSERT_TRUE(contents.ok()) << contents.status().message();
  for (const char* path : {"./usr/bin/chaos-agent", "./usr/bin/chaosctl", "./usr/lib/systemd/system/chaos-agent.service",
                           "./usr/lib/sysusers.d/chaos-agent.conf", "./usr/share/doc/chaos/examples/agent.toml",
                           "./usr/lib/systemd/system/chaosctl-game-day.service",
                           "./usr/lib/systemd/system/chaosctl-game-day.timer", "./usr/lib/sysusers.d/chaosctl.conf",
                           "./usr/share/doc/chaos/deploy/README.md"}) {
    EXPECT_THAT(contents->stdout_text, HasSubstr(std::string(path) + "\n"));
  }

  const std::string root = scratch.path() + "/root";
  ASSERT_TRUE(runner.run_checked({"dpkg-deb", "-x", deb, root}, slow(60)).ok());
  auto version = runner.run_checked({root + "/usr/bin/chaos-agent", "--version"});
  ASSERT_TRUE(version.ok()) << version.status().message();
  EXPECT_EQ(version->stdout_text, std::string("chaos-agent ") + kVersion + "\n");
  auto help = runner.run_checked({root + "/usr/bin/chaosctl", "--help"});
  ASSERT_TRUE(help.ok()) << help.status().message();
  EXPECT_THAT(help->stdout_text, HasSubstr("inventory"));

  std::ifstream unit(root + "/usr/lib/systemd/system/chaos-agent.service");
  std::stringstream unit_text;
  unit_text << unit.rdbuf();
  EXPECT_THAT(unit_text.str(), HasSubstr("\nExecStart=/usr/bin/chaos-agent --config /etc/chaos-agent/agent.toml\n"));

  std::ifstream game_day(root + "/usr/lib/systemd/system/chaosctl-game-day.service");
  std::stringstream game_day_text;
  game_day_text << game_day.rdbuf();
  EXPECT_THAT(game_day_text.str(), HasSubstr("\nExecStart=/usr/bin/chaosctl run --suite "));
  EXPECT_THAT(game_day_text.str(), Not(HasSubstr("/usr/local/bin")));
}

}  // namespace
}  // namespace chaos::deploy::testing
