#include "lab/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <thread>
#include <set>

namespace chaos::lab {
namespace {

// Processes that live until signalled (or until the test kills them).
class FakeLauncher final : public ProcessLauncher {
 public:
  StatusOr<int> start(const ProcessSpec& spec) override {
    if (failing.count(spec.name) != 0) return unavailable("cannot start " + spec.name);
    const int pid = next_pid++;
    alive.insert(pid);
    started.push_back(spec.name);
    return pid;
  }
  bool running(int pid) override { return alive.count(pid) != 0; }
  void send_signal(int pid, int signal_number) override {
    signals.emplace_back(pid, signal_number);
    if (signal_number == SIGKILL || ignores_term.count(pid) == 0) alive.erase(pid);
  }

  int next_pid = 100;
  std::set<int> alive;
  std::set<int> ignores_term;
  std::set<std::string> failing;
  std::vector<std::string> started;
  std::vector<std::pair<int, int>> signals;
};

std::vector<ProcessSpec> two_processes() {
  return {ProcessSpec{"dnsmasq", "dnsmasq", "m", {"dnsmasq"}, "/l", "/p", std::chrono::milliseconds(2000), ""},
          ProcessSpec{"nats-n1", "nats-server", "m", {"nats-server"}, "/l", "/p", std::chrono::milliseconds(2000), ""}};
}

class SupervisorTest : public ::testing::Test {
 protected:
  FakeLauncher launcher_;
  FakeClock clock_;
  std::vector<std::string> log_;
  Supervisor supervisor_{two_processes(), launcher_, clock_, [this](const std::string& line) { log_.push_back(line); }};
};

TEST_F(SupervisorTest, StartsEveryProcessInOrder) {
  supervisor_.start_all();
  EXPECT_EQ(launcher_.started, (std::vector<std::string>{"dnsmasq", "nats-n1"}));
  EXPECT_EQ(supervisor_.pid_of("nats-n1"), 101);
}

TEST_F(SupervisorTest, KilledBrokerIsRestartedAfterItsDelayNotBefore) {
  supervisor_.start_all();
  launcher_.alive.erase(101);  // chaos: kill -9 nats-server
  supervisor_.tick();
  EXPECT_FALSE(supervisor_.pid_of("nats-n1").has_value());
  clock_.advance(std::chrono::milliseconds(1999));
  supervisor_.tick();
  EXPECT_FALSE(supervisor_.pid_of("nats-n1").has_value());
  clock_.advance(std::chrono::milliseconds(1));
  supervisor_.tick();
  EXPECT_EQ(supervisor_.pid_of("nats-n1"), 102);
  EXPECT_EQ(supervisor_.restarts_of("nats-n1"), 1);
  EXPECT_EQ(supervisor_.restarts_of("dnsmasq"), 0);
}

TEST_F(SupervisorTest, ProcessThatCannotStartIsRetried) {
  launcher_.failing.insert("dnsmasq");
  supervisor_.start_all();
  EXPECT_FALSE(supervisor_.pid_of("dnsmasq").has_value());
  launcher_.failing.clear();
  clock_.advance(std::chrono::seconds(2));
  supervisor_.tick();
  EXPECT_TRUE(supervisor_.pid_of("dnsmasq").has_value());
}

TEST_F(SupervisorTest, StopTerminatesInReverseOrderAndDoesNotRestart) {
  supervisor_.start_all();
  supervisor_.stop_all(std::chrono::seconds(10));
  ASSERT_EQ(launcher_.signals.size(), 2u);
  EXPECT_EQ(launcher_.signals[0], std::make_pair(101, SIGTERM));
  EXPECT_EQ(launcher_.signals[1], std::make_pair(100, SIGTERM));
  clock_.advance(std::chrono::seconds(5));
  supervisor_.tick();
  EXPECT_TRUE(launcher_.alive.empty());
  EXPECT_EQ(launcher_.started.size(), 2u);
}

TEST_F(SupervisorTest, ProcessIgnoringSigtermIsKilledAfterGrace) {
  supervisor_.start_all();
  launcher_.ignores_term.insert(100);
  std::atomic<bool> done{false};
  std::thread advancer([this, &done] {
    while (!done.load()) {
      clock_.advance(std::chrono::milliseconds(100));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  supervisor_.stop_all(std::chrono::seconds(1));
  done = true;
  advancer.join();
  EXPECT_TRUE(launcher_.alive.empty());
  EXPECT_EQ(launcher_.signals.back(), std::make_pair(100, SIGKILL));
}

}  // namespace
}  // namespace chaos::lab
