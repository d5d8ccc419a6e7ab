// deploy/image/build-image with this build's chaos-agent: the image runs
// the agent and the tools it drives, and is removed again. The same with
// --chaosctl: the image the game-day CronJob runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include "common/command_runner.h"
#include "common/version.h"
#include "tests/integration/deploy/deploy_paths.h"

namespace chaos::deploy::testing {
namespace {

using ::testing::HasSubstr;

// Removes the image however the test ends.
class ImageGuard {
 public:
  explicit ImageGuard(std::string tag) : tag_(std::move(tag)) {}
  ~ImageGuard() {
    ProcessCommandRunner runner;
    (void)runner.run({"podman", "rmi", "--force", tag_});
  }
  ImageGuard(const ImageGuard&) = delete;
  ImageGuard& operator=(const ImageGuard&) = delete;

 private:
  std::string tag_;
};

StatusOr<CommandResult> run_in_image(CommandRunner& runner, const std::string& tag,
                                     const std::vector<std::string>& command,
                                     const std::vector<std::string>& podman_options = {}) {
  // This sandbox lacks CAP_SYS_RESOURCE, so podman must not raise limits.
  std::vector<std::string> argv = {"podman", "run", "--rm", "--network", "none", "--ulimit", "nofile=1024:1024",
                                   "--ulimit", "nproc=1024:1024"};
  argv.insert(argv.end(), podman_options.begin(), podman_options.end());
  argv.push_back(tag);
  argv.insert(argv.end(), command.begin(), command.end());
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  return runner.run_checked(argv, options);
}

TEST(AgentImageTest, BuildsFromScratchAndRunsTheAgentAndItsTools) {
  ProcessCommandRunner runner;
  if (!runner.run({"podman", "--version"}).ok()) GTEST_SKIP() << "podman is not installed";
  const std::string tag = "localhost/chaos-test-" + std::to_string(getpid()) + "-agent:test";
  ImageGuard guard(tag);
  RunOptions options;
  options.timeout = std::chrono::seconds(180);
  auto built = runner.run_checked(
      {source_dir() + "/deploy/image/build-image", "--agent", build_dir() + "/bin/chaos-agent", "--tag", tag}, options);
  ASSERT_TRUE(built.ok()) << built.status().message();

  auto version = run_in_image(runner, tag, {"chaos-agent", "--version"});
  ASSERT_TRUE(version.ok()) << version.status().message();
  EXPECT_EQ(version->stdout_text, std::string("chaos-agent ") + kVersion + "\n");
  auto iptables = run_in_image(runner, tag, {"iptables", "--version"});
  ASSERT_TRUE(iptables.ok()) << iptables.status().message();
  EXPECT_THAT(iptables->stdout_text, HasSubstr("nf_tables"));
}

// As the CronJob runs it: a non-root user, a read-only root filesystem; the
// history lands under HOME (the state volume's mount point).
TEST(AgentImageTest, ChaosctlImageRunsAsNonRootWithItsStateUnderHome) {
  ProcessCommandRunner runner;
  if (!runner.run({"podman", "--version"}).ok()) GTEST_SKIP() << "podman is not installed";
  const std::string tag = "localhost/chaos-test-" + std::to_string(getpid()) + "-chaosctl:test";
  ImageGuard guard(tag);
  RunOptions options;
  options.timeout = std::chrono::seconds(180);
  auto built = runner.run_checked(
      {source_dir() + "/deploy/image/build-image", "--chaosctl", build_dir() + "/bin/chaosctl", "--tag", tag}, options);
  ASSERT_TRUE(built.ok()) << built.status().message();

  auto version = run_in_image(runner, tag, {"chaosctl", "--version"}, {"--user", "65532:65532", "--read-only"});
  ASSERT_TRUE(version.ok()) << version.status().message();
  EXPECT_EQ(version->stdout_text, std::string("chaosctl ") + kVersion + "\n");
  auto history = run_in_image(runner, tag, {"chaosctl", "history"}, {"--user", "65532:65532", "--read-only"});
  ASSERT_TRUE(history.ok()) << history.status().message();
  EXPECT_THAT(history->stdout_text, HasSubstr("/var/lib/chaosctl/.local/state/chaosctl/history.sqlite"));
}

}  // namespace
}  // namespace chaos::deploy::testing
