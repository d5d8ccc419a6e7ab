// The agent's state dir on a full filesystem (a 256 KiB tmpfs filled with a
// file): an inject cannot be journaled, so it must be refused with an error
// that says so, with nothing applied; a fault applied before the disk
// filled can still be reverted; the agent stays healthy; once space is free
// again, injects work.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "lab/testbed/agent_test_bed.h"

namespace chaos::agent::integration {
namespace {

using namespace std::chrono_literals;
using chaos::testing::kAddressB;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

class AgentFullStateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount, network namespaces)";
    dir_ = std::filesystem::temp_directory_path() / ("cag-full-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    state_dir_ = dir_ / "state";
    std::filesystem::create_directories(state_dir_);
    ASSERT_EQ(::mount("tmpfs", state_dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0700"), 0)
        << "mount tmpfs on " << state_dir_ << ": " << std::strerror(errno);
    mounted_ = true;
  }

  void TearDown() override {
    if (HasFailure() && agent_) std::cerr << "--- agent log:\n" << agent_->log();
    // The agent holds files on the tmpfs open: stop it before unmounting.
    agent_.reset();
    if (filler_fd_ >= 0) ::close(filler_fd_);
    if (mounted_ && ::umount2(state_dir_.c_str(), MNT_DETACH) != 0) {
      ADD_FAILURE() << "umount " << state_dir_ << ": " << std::strerror(errno);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Writes a file until the filesystem refuses with ENOSPC.
  void fill_the_filesystem() {
    filler_fd_ = ::open((state_dir_ / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(filler_fd_, 0) << std::strerror(errno);
    const std::string chunk(4096, 'x');
    for (;;) {
      const ssize_t written = ::write(filler_fd_, chunk.data(), chunk.size());
      if (written > 0) continue;
      ASSERT_EQ(errno, ENOSPC) << std::strerror(errno);
      break;
    }
    // The last bytes, in case the page-sized writes left a partial page.
    for (char byte = 'x'; ::write(filler_fd_, &byte, 1) == 1;) {
    }
    ASSERT_EQ(errno, ENOSPC);
  }

  void free_the_space() {
    ::close(filler_fd_);
    filler_fd_ = -1;
    ASSERT_EQ(::unlink((state_dir_ / "filler").c_str()), 0) << std::strerror(errno);
  }

  std::filesystem::path dir_;
  std::filesystem::path state_dir_;
  bool mounted_ = false;
  int filler_fd_ = -1;
  std::unique_ptr<NamespacedAgent> agent_;
};

TEST_F(AgentFullStateDir, InjectIsRefusedNamingTheJournalNothingIsAppliedAndItWorksOnceSpaceIsFree) {
  AgentTestBed bed;
  ASSERT_EQ(bed.error(), "");
  Victim paused_before("cag-full-before-" + std::to_string(::getpid()));
  Victim victim("cag-full-victim-" + std::to_string(::getpid()));
  const std::vector<pid_t> watched = {paused_before.pid(), victim.pid()};
  auto baseline = bed.snapshot(watched);
  ASSERT_TRUE(baseline.ok()) << baseline.status().to_string();

  agent_ = std::make_unique<NamespacedAgent>(bed.a(), state_dir_.string(), (dir_ / "agent.log").string());
  ASSERT_TRUE(agent_->start()) << agent_->log();
  v1::InjectResponse before;
  ASSERT_TRUE(agent_->inject(inject_request(pause_spec(paused_before.pid())), &before).ok());
  ASSERT_EQ(paused_before.state(), 'T');

  ASSERT_NO_FATAL_FAILURE(fill_the_filesystem());

  const std::vector<std::pair<std::string, v1::FaultSpec>> refused = {
      {"network.partition", partition_spec({std::string(kAddressB) + "/32"})},
      {"network.delay", delay_spec(network_scope(bed.network().link_a_to_b(), {}))},
      {"dns.fail", dns_fail_spec()},
      {"process.pause", pause_spec(victim.pid())},
  };
  for (const auto& [kind, spec] : refused) {
    v1::InjectResponse response;
    const auto status = agent_->inject(inject_request(spec), &response);
    EXPECT_FALSE(status.ok()) << kind << " was injected on a full state dir: " << response.fault().detail();
    std::cerr << kind << " on a full state dir: " << status.error_code() << " " << status.error_message() << "\n";
    EXPECT_NE(status.error_message().find("journal"), std::string::npos)
        << kind << ": the error should name the journal: " << status.error_message();
    EXPECT_NE(lower(status.error_message()).find("no space"), std::string::npos)
        << kind << ": the error should say the disk is full: " << status.error_message();
  }
  EXPECT_EQ(victim.state(), 'S') << "process.pause was refused, its victim must not be stopped";

  // Removing a journal entry needs no space: a revert still works.
  v1::RevertResponse reverted;
  const auto revert_status = agent_->revert(before.fault().id(), &reverted);
  EXPECT_TRUE(revert_status.ok()) << revert_status.error_message();
  EXPECT_EQ(reverted.fault().state(), v1::FAULT_STATE_REVERTED);

  EXPECT_EQ(bed.diff_from(*baseline, watched), "") << "a refused inject left something behind";
  std::vector<std::string> journal;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir_ / "journal")) {
    journal.push_back(entry.path().filename());
  }
  EXPECT_TRUE(journal.empty()) << "journal files (or temp files) left: " << ::testing::PrintToString(journal);

  // Still healthy and serving.
  EXPECT_FALSE(agent_->process().exited()) << "the agent died on a full disk";
  auto health = grpc::health::v1::Health::NewStub(agent_->new_channel());
  grpc::ClientContext health_context;
  health_context.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health_response;
  ASSERT_TRUE(health->Check(&health_context, health_request, &health_response).ok());
  EXPECT_EQ(health_response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  v1::ListResponse listed;
  ASSERT_TRUE(agent_->list(&listed).ok());
  EXPECT_EQ(listed.faults_size(), 0) << listed.DebugString();

  // Space again: the same injects work, and revert cleanly.
  ASSERT_NO_FATAL_FAILURE(free_the_space());
  std::vector<std::string> ids;
  for (const auto& [kind, spec] : refused) {
    v1::InjectResponse response;
    const auto status = agent_->inject(inject_request(spec), &response);
    EXPECT_TRUE(status.ok()) << kind << " after freeing space: " << status.error_message();
    if (status.ok()) ids.push_back(response.fault().id());
  }
  EXPECT_EQ(victim.state(), 'T');
  for (const auto& id : ids) EXPECT_TRUE(agent_->revert(id).ok()) << id;
  EXPECT_EQ(bed.diff_from(*baseline, watched), "");
}

}  // namespace
}  // namespace chaos::agent::integration
