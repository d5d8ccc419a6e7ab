#include "agent/process_table.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace chaos::agent {
namespace {

TEST(ProcProcessTable, SeesThisProcess) {
  ProcProcessTable table;
  auto self = table.get(::getpid());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_NE(self->start_time, 0u);
  EXPECT_FALSE(self->kernel_thread);
  EXPECT_NE(self->cmdline.find("agent_unit_tests"), std::string::npos) << self->cmdline;
  EXPECT_EQ(self->netns_inode, table.self_netns_inode());
  bool listed = false;
  for (const auto& process : table.list()) listed = listed || process.pid == ::getpid();
  EXPECT_TRUE(listed);
  EXPECT_EQ(table.self_pid(), ::getpid());
  EXPECT_EQ(table.parent_pid(), ::getppid());
}

TEST(ProcProcessTable, ReadsThePidNamespaceAndThePidInsideIt) {
  ProcProcessTable table;
  auto self = table.get(::getpid());
  ASSERT_TRUE(self);
  struct stat own {};
  ASSERT_EQ(::stat("/proc/self/ns/pid", &own), 0);
  EXPECT_EQ(self->pidns_inode, static_cast<std::uint64_t>(own.st_ino));
  EXPECT_TRUE(table.namespace_pid(::getpid()).has_value());
  EXPECT_FALSE(table.namespace_pid(999999999).has_value());
}

TEST(ProcProcessTable, GetStatReadsOnlyTheStatFields) {
  ProcProcessTable table;
  const auto full = table.get(::getpid());
  const auto brief = table.get_stat(::getpid());
  ASSERT_TRUE(full);
  ASSERT_TRUE(brief);
  EXPECT_EQ(brief->pid, ::getpid());
  EXPECT_EQ(brief->ppid, full->ppid);
  EXPECT_EQ(brief->comm, full->comm);
  EXPECT_EQ(brief->start_time, full->start_time);
  EXPECT_FALSE(brief->kernel_thread);
  EXPECT_TRUE(brief->cmdline.empty()) << "cmdline is get()'s, not get_stat()'s";
  EXPECT_EQ(brief->netns_inode, 0u);
  EXPECT_EQ(brief->pidns_inode, 0u);
  EXPECT_FALSE(table.get_stat(999999999).has_value());
}

TEST(ProcProcessTable, SignalToARecycledOrMissingPidIsNotFound) {
  ProcProcessTable table;
  auto self = table.get(::getpid());
  ASSERT_TRUE(self);
  // Signal 0 checks deliverability without sending anything.
  EXPECT_TRUE(table.send_signal(::getpid(), self->start_time, 0).ok());
  EXPECT_EQ(table.send_signal(::getpid(), self->start_time + 1, 0).code(), StatusCode::kNotFound);
  EXPECT_EQ(table.send_signal(999999999, 1, 0).code(), StatusCode::kNotFound);
}

// A fake proc root: one process whose command line is `argv` (NUL-separated
// as the kernel writes it).
class FakeProcRoot {
 public:
  FakeProcRoot() {
    std::string pattern = ::testing::TempDir() + "/cag-proc-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) root_ = pattern;
    std::filesystem::create_directories(root_ + "/4242");
    std::ofstream(root_ + "/4242/stat")
        << "4242 (java) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 777 1000 200 0";
  }
  ~FakeProcRoot() { std::filesystem::remove_all(root_); }
  void set_cmdline(const std::vector<std::string>& argv) {
    std::ofstream out(root_ + "/4242/cmdline", std::ios::binary);
    for (const auto& arg : argv) out << arg << '\0';
  }
  const std::string& path() const { return root_; }

 private:
  std::string root_;
};

TEST(ProcProcessTable, TheNamespacePidIsNSpidsLastField) {
  FakeProcRoot proc;
  ProcProcessTable table(proc.path());
  EXPECT_FALSE(table.namespace_pid(4242).has_value()) << "no status file";
  std::ofstream(proc.path() + "/4242/status") << "Name:\tjava\nPid:\t4242\nNSpid:\t4242\t17\nNSpgid:\t4242\t17\n";
  EXPECT_EQ(table.namespace_pid(4242), 17);
  std::ofstream(proc.path() + "/4242/status") << "Name:\tjava\nNSpid:\t4242\n";
  EXPECT_EQ(table.namespace_pid(4242), 4242) << "not in a nested pid namespace";
  std::ofstream(proc.path() + "/4242/status") << "Name:\tjava\nNSpid:\t4242\tx17\n";
  EXPECT_FALSE(table.namespace_pid(4242).has_value());
}

TEST(ProcProcessTable, ReadsLongCommandLinesUpToTheCap) {
  FakeProcRoot proc;
  const std::string long_argument = std::string(100 * 1024, 'x') + "-end";
  proc.set_cmdline({"java", long_argument});
  ProcProcessTable table(proc.path());
  auto process = table.get(4242);
  ASSERT_TRUE(process);
  EXPECT_EQ(process->cmdline, "java " + long_argument) << "the whole of a 100 KiB command line";
  EXPECT_EQ(process->start_time, 777u);

  proc.set_cmdline({"java", std::string(2 * kMaxCmdlineBytes, 'x')});
  process = table.get(4242);
  ASSERT_TRUE(process);
  EXPECT_EQ(process->cmdline.size(), kMaxCmdlineBytes) << "a longer one is cut at the cap";
}

}  // namespace
}  // namespace chaos::agent
