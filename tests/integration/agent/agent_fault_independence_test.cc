// Faults are independent in the real agent: while one fault's apply waits
// on an external command that hangs until its timeout (a fake
// iptables-restore first in the agent's PATH), another fault's TTL still
// ends it. Before faults had their own locks, that TTL revert waited for
// the hanging command.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>

#include "lab/testbed/agent_test_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;

class AgentFaultIndependence : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    dir_ = std::filesystem::temp_directory_path() / ("cag-indep-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "bin");
    write_fake_iptables_restore();
    bed_ = std::make_unique<AgentTestBed>("ind");
    ASSERT_EQ(bed_->error(), "");
    const std::string path = "PATH=" + (dir_ / "bin").string() + ":/usr/sbin:/usr/bin:/sbin:/bin";
    agent_ = std::make_unique<NamespacedAgent>(bed_->a(), (dir_ / "state").string(), (dir_ / "agent.log").string(),
                                               std::vector<std::string>{path});
    ASSERT_TRUE(agent_->start()) << "agent did not start:\n" << agent_->log();
  }

  void TearDown() override {
    if (HasFailure() && agent_) std::cerr << "--- agent log:\n" << agent_->log();
    std::error_code ignored;
    std::filesystem::remove(hang_flag(), ignored);
    agent_.reset();
    bed_.reset();
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path hang_flag() const { return dir_ / "hang"; }
  std::filesystem::path hanging_marker() const { return dir_ / "hanging"; }

  // Hangs (until the agent's 10 s command timeout kills it) while the hang
  // flag exists; otherwise it is the real iptables-restore.
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

  std::filesystem::path dir_;
  std::unique_ptr<AgentTestBed> bed_;
  std::unique_ptr<NamespacedAgent> agent_;
};

TEST_F(AgentFaultIndependence, AHangingCommandInOneFaultDoesNotDelayAnotherFaultsTtl) {
  Victim victim;
  v1::InjectResponse paused;
  ASSERT_TRUE(agent_->inject(inject_request(pause_spec(victim.pid()), "cag-indep", 1), &paused).ok());
  ASSERT_EQ(victim.state(), 'T');

  std::ofstream(hang_flag()).close();
  const auto delay = inject_request(delay_spec(network_scope(bed_->network().link_a_to_b(), {})), "cag-indep", 60);
  auto hanging = std::async(std::launch::async, [&] {
    v1::InjectResponse response;
    return agent_->inject(delay, &response, 30s);
  });
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(hanging_marker()); }, 10s))
      << "the fake iptables-restore never ran";

  // The pause's 1 s TTL must end it while the other fault's apply still
  // hangs (the agent's command timeout is 10 s).
  EXPECT_TRUE(eventually([&] { return victim.state() == 'S'; }, 8s)) << "victim state " << victim.state();
  EXPECT_EQ(hanging.wait_for(0s), std::future_status::timeout)
      << "the hanging apply ended before the other fault's TTL revert: this run proves nothing";

  std::filesystem::remove(hang_flag());
  const grpc::Status refused = hanging.get();
  EXPECT_FALSE(refused.ok()) << "a command that timed out must fail the inject";
  EXPECT_NE(refused.error_message().find("iptables-restore"), std::string::npos) << refused.error_message();
  v1::ListResponse live;
  ASSERT_TRUE(agent_->list(&live).ok());
  EXPECT_EQ(live.faults_size(), 0) << "the failed inject must leave nothing live";
}

}  // namespace
}  // namespace chaos::agent::integration
