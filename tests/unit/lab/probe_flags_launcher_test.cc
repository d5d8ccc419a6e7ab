#include "lab/probe_flags_launcher.h"

#include <gtest/gtest.h>

namespace chaos::lab {
namespace {

class RecordingLauncher final : public ProcessLauncher {
 public:
  StatusOr<int> start(const ProcessSpec& spec) override {
    argvs.push_back(spec.argv);
    return next_pid++;
  }
  bool running(int) override { return true; }
  void send_signal(int pid, int signal_number) override { signals.emplace_back(pid, signal_number); }

  int next_pid = 100;
  std::vector<std::vector<std::string>> argvs;
  std::vector<std::pair<int, int>> signals;
};

ProcessSpec probe_flags_spec(const std::string& name) {
  return ProcessSpec{name, name, "m", {name, "--servers", "nats://a"}, "/l", "/p", std::chrono::milliseconds(2000), ""};
}

TEST(ProbeFlagsLauncherTest, EveryProbeStartReadsTheFlagsAgain) {
  RecordingLauncher inner;
  std::vector<std::string> stored = {"--ping-interval", "2s"};
  ProbeFlagsLauncher launcher(inner, "probe", [&stored]() -> StatusOr<std::vector<std::string>> { return stored; });
  ASSERT_TRUE(launcher.start(probe_flags_spec("probe")).ok());
  stored = {};  // `lab probe --reset` between two starts (a restart after a kill)
  ASSERT_TRUE(launcher.start(probe_flags_spec("probe")).ok());
  ASSERT_EQ(inner.argvs.size(), 2u);
  EXPECT_EQ(inner.argvs[0], (std::vector<std::string>{"probe", "--servers", "nats://a", "--ping-interval", "2s"}));
  EXPECT_EQ(inner.argvs[1], (std::vector<std::string>{"probe", "--servers", "nats://a"}));
}

TEST(ProbeFlagsLauncherTest, OtherProcessesPassThroughUnchanged) {
  RecordingLauncher inner;
  int reads = 0;
  ProbeFlagsLauncher launcher(inner, "probe", [&reads]() -> StatusOr<std::vector<std::string>> {
    ++reads;
    return std::vector<std::string>{"--x"};
  });
  ASSERT_TRUE(launcher.start(probe_flags_spec("nats-n1")).ok());
  EXPECT_EQ(inner.argvs[0], probe_flags_spec("nats-n1").argv);
  EXPECT_EQ(reads, 0);
  launcher.send_signal(100, 15);
  EXPECT_EQ(inner.signals, (std::vector<std::pair<int, int>>{{100, 15}}));
}

TEST(ProbeFlagsLauncherTest, UnreadableFlagsAreAStartFailure) {
  RecordingLauncher inner;
  ProbeFlagsLauncher launcher(inner, "probe", []() -> StatusOr<std::vector<std::string>> {
    return internal_error("/run/chaos-lab/run/probe-flags.json: not json");
  });
  const auto pid = launcher.start(probe_flags_spec("probe"));
  EXPECT_FALSE(pid.ok());
  EXPECT_NE(pid.status().message().find("probe-flags.json"), std::string::npos);
  EXPECT_TRUE(inner.argvs.empty());
}

}  // namespace
}  // namespace chaos::lab
