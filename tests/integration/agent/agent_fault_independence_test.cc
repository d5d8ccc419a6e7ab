// Faults are independent in the real agent: while one fault's apply waits
// on an external command that hangs until its timeout (a fake
// iptables-restore first in the agent's PATH), another fault's TTL still
// ends it. Before faults had their own locks, the TTL revert waited for the
// hanging command.
#include <gtest/gtest.h>

#include <future>

#include "tests/integration/agent/agent_harness.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

bool run_quietly(const std::vector<std::string>& argv) {
  const pid_t pid = spawn(argv);
  int status = 0;
  return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class AgentFaultIndependence : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cagi-" + std::to_string(::getpid()));
    netns_ = "cagi" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "bin");
    write_fake_iptables_restore();
    ASSERT_TRUE(run_quietly({"/usr/sbin/ip", "netns", "add", netns_}));
    netns_created_ = true;
    ASSERT_TRUE(run_quietly({"/usr/sbin/ip", "-n", netns_, "link", "set", "lo", "up"}));
    ASSERT_TRUE(run_quietly({"/usr/sbin/ip", "-n", netns_, "link", "add", "cagia", "type", "veth", "peer", "name",
                             "cagib"}));
    ASSERT_TRUE(run_quietly({"/usr/sbin/ip", "-n", netns_, "link", "set", "cagia", "up"}));
    ASSERT_TRUE(run_quietly({"/usr/sbin/ip", "-n", netns_, "link", "set", "cagib", "up"}));
    const std::string path = "PATH=" + (dir_ / "bin").string() + ":/usr/sbin:/usr/bin:/sbin:/bin";
    agent_ = std::make_unique<AgentProcess>((dir_ / "state").string(), (dir_ / "agent.log").string(),
                                            std::vector<std::string>{},
                                            std::vector<std::string>{"/usr/bin/env", path, "/usr/sbin/ip", "netns",
                                                                     "exec", netns_});
    ASSERT_TRUE(agent_->start()) << "agent did not start:\n" << agent_->log();
  }

  void TearDown() override {
    if (HasFailure() && agent_) std::cerr << "--- agent log:\n" << agent_->log();
    std::filesystem::remove(hang_flag());
    agent_.reset();
    if (netns_created_) (void)run_quietly({"/usr/sbin/ip", "netns", "delete", netns_});
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path hang_flag() const { return dir_ / "hang"; }
  std::filesystem::path hanging_marker() const { return dir_ / "hanging"; }

  // Hangs (until the agent's command timeout kills it) while the hang flag
  // exists; otherwise it is the real iptables-restore.
  void write_fake_iptables_restore() {
    const auto script = dir_ / "bin" / "iptables-restore";
    std::ofstream(script) << "#!/bin/sh\n"
                          << "if [ -e '" << hang_flag().string() << "' ]; then\n"
                          << "  touch '" << hanging_marker().string() << "'\n"
                          << "  exec sleep 60\n"
                          << "fi\n"
                          << "exec /usr/sbin/iptables-restore \"$@\"\n";
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  }

  grpc::Status inject(const v1::InjectRequest& request, v1::InjectResponse* response,
                      std::chrono::seconds deadline = 30s) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    return agent_->stub().Inject(&context, request, response);
  }

  std::filesystem::path dir_;
  std::string netns_;
  bool netns_created_ = false;
  std::unique_ptr<AgentProcess> agent_;
};

TEST_F(AgentFaultIndependence, AHangingCommandInOneFaultDoesNotDelayAnotherFaultsTtl) {
  Victim victim;
  v1::InjectRequest pause;
  pause.set_experiment_id("cagi");
  pause.mutable_duration()->set_seconds(1);
  pause.mutable_spec()->mutable_process_pause()->mutable_target()->set_pid(victim.pid());
  v1::InjectResponse paused;
  ASSERT_TRUE(inject(pause, &paused).ok());
  ASSERT_EQ(victim.state(), 'T');

  std::ofstream(hang_flag()).close();
  v1::InjectRequest delay;
  delay.set_experiment_id("cagi");
  delay.mutable_duration()->set_seconds(30);
  delay.mutable_spec()->mutable_network_delay()->mutable_delay()->set_nanos(10'000'000);
  delay.mutable_spec()->mutable_network_delay()->mutable_scope()->set_interface("cagia");
  auto hanging = std::async(std::launch::async, [&] {
    v1::InjectResponse response;
    return inject(delay, &response);
  });
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(hanging_marker()); }, 10s))
      << "the fake iptables-restore never ran";

  // The pause's 1 s TTL must end it while the other apply still hangs (the
  // agent's command timeout is 10 s).
  EXPECT_TRUE(eventually([&] { return victim.state() == 'S'; }, 8s)) << "state " << victim.state();
  EXPECT_EQ(hanging.wait_for(0s), std::future_status::timeout)
      << "the hanging apply ended before the other fault's TTL revert: the test proves nothing";

  std::filesystem::remove(hang_flag());
  const grpc::Status refused = hanging.get();
  EXPECT_FALSE(refused.ok()) << "a command that timed out must fail the inject";
  EXPECT_NE(refused.error_message().find("iptables-restore"), std::string::npos) << refused.error_message();
}

}  // namespace
}  // namespace chaos::agent::integration
