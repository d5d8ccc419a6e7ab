#include "common/proc_reader.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace chaos {
namespace {

// A stat line with every field up to 22 (start time), as the kernel writes it.
std::string stat_line(int pid, const std::string& comm, char state, int ppid, std::uint64_t start_time) {
  return std::to_string(pid) + " (" + comm + ") " + state + " " + std::to_string(ppid) +
         " 4242 4242 0 -1 4194560 100 0 0 0 11 22 0 0 20 0 1 0 " + std::to_string(start_time) +
         " 1000 200 18446744073709551615\n";
}

// A directory laid out like /proc, removed when the test ends.
class FakeProc {
 public:
  FakeProc() {
    std::string pattern = ::testing::TempDir() + "/proc-reader-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) root_ = pattern;
  }
  ~FakeProc() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  void write(const std::string& relative, const std::string& text) const {
    const auto path = std::filesystem::path(root_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(ParseProcStat, HandlesCommWithSpacesAndParentheses) {
  auto fields = parse_proc_stat(stat_line(4242, "we ird) (x", 'S', 17, 98765));
  ASSERT_TRUE(fields);
  EXPECT_EQ(fields->comm, "we ird) (x");
  EXPECT_EQ(fields->state, 'S');
  EXPECT_EQ(fields->ppid, 17);
  EXPECT_EQ(fields->flags, 4194560u);
  EXPECT_FALSE(fields->kernel_thread());
  EXPECT_EQ(fields->user_ticks, 11u);
  EXPECT_EQ(fields->system_ticks, 22u);
  EXPECT_EQ(fields->start_time, 98765u);
}

TEST(ParseProcStat, RefusesGarbage) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2"));
  EXPECT_FALSE(parse_proc_stat("12 x) S"));
  EXPECT_FALSE(parse_proc_stat("12 (x) SS 1 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0"));
  EXPECT_FALSE(parse_proc_stat("12 (x) S one 4242 4242 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0"));
}

TEST(ProcReader, ListsOnlyNumericEntriesInOrder) {
  FakeProc proc;
  for (const char* name : {"31/stat", "4/stat", "1000/stat", "self/stat", "net/dev", "12abc/stat", "-3/stat"}) {
    proc.write(name, "");
  }
  EXPECT_EQ(ProcReader(proc.root()).pids(), (std::vector<int>{4, 31, 1000}));
  EXPECT_TRUE(ProcReader(proc.root() + "/missing").pids().empty());
}

TEST(ProcReader, ReadsStatAndTellsWhatIsGone) {
  FakeProc proc;
  proc.write("7/stat", stat_line(7, "my (daemon)", 'Z', 1, 555));
  proc.write("8/stat", "garbage");
  const ProcReader reader(proc.root());
  auto stat = reader.stat(7);
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->comm, "my (daemon)");
  EXPECT_EQ(stat->start_time, 555u);
  EXPECT_TRUE(stat->dead());
  EXPECT_FALSE(reader.stat(8));
  EXPECT_FALSE(reader.stat(9));
}

TEST(ProcReader, SplitsAndJoinsTheCommandLine) {
  FakeProc proc;
  proc.write("7/cmdline", std::string("/usr/bin/nats-server\0--config\0\0/etc/n.conf\0", 43));
  proc.write("8/cmdline", "");  // a kernel thread
  proc.write("9/cmdline", std::string("unterminated\0tail", 17));
  const ProcReader reader(proc.root());
  EXPECT_EQ(reader.argv(7), (std::vector<std::string>{"/usr/bin/nats-server", "--config", "", "/etc/n.conf"}));
  EXPECT_EQ(reader.cmdline(7), "/usr/bin/nats-server --config  /etc/n.conf");
  EXPECT_EQ(reader.argv(8), std::vector<std::string>{});
  EXPECT_EQ(reader.cmdline(8), "");
  EXPECT_EQ(reader.argv(9), (std::vector<std::string>{"unterminated", "tail"}));
  EXPECT_EQ(reader.argv(10), std::nullopt);
  EXPECT_EQ(reader.cmdline(10), std::nullopt);
}

TEST(ProcReader, CommandLinesAreCutAtTheBound) {
  FakeProc proc;
  const std::string whole = "java " + std::string(100 * 1024, 'x');
  proc.write("7/cmdline", std::string("java\0", 5) + std::string(100 * 1024, 'x') + '\0');
  proc.write("8/cmdline", std::string(2 * kMaxProcCmdlineBytes, 'y'));
  const ProcReader reader(proc.root());
  EXPECT_EQ(reader.cmdline(7), whole) << "the whole of a 100 KiB command line";
  EXPECT_EQ(reader.cmdline(8)->size(), kMaxProcCmdlineBytes);
  EXPECT_EQ(reader.argv(8)->at(0).size(), kMaxProcCmdlineBytes);
}

TEST(ProcReader, PidLinesKeepOnlyWholePositiveNumbers) {
  EXPECT_EQ(parse_pid_lines("12\n7\n"), (std::vector<int>{12, 7}));
  EXPECT_EQ(parse_pid_lines("12\n\n0\n-3\n4x\n 5\n99999999999\n8"), (std::vector<int>{12, 8}));
  EXPECT_TRUE(parse_pid_lines("").empty());
}

TEST(ProcReader, AFifoInPlaceOfAProcFileDoesNotBlock) {
  FakeProc proc;
  proc.write("7/stat", "");
  std::filesystem::remove(proc.root() + "/7/stat");
  ASSERT_EQ(::mkfifo((proc.root() + "/7/stat").c_str(), 0600), 0);
  // With no writer, a blocking open would wait forever.
  EXPECT_FALSE(ProcReader(proc.root()).stat(7));
}

TEST(ProcReader, SeesThisProcessInTheRealProc) {
  const ProcReader reader;
  auto stat = reader.stat(static_cast<int>(::getpid()));
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->ppid, ::getppid());
  EXPECT_NE(stat->start_time, 0u);
  EXPECT_NE(reader.cmdline(static_cast<int>(::getpid()))->find("common_unit_tests"), std::string::npos);
  EXPECT_NE(reader.netns_inode("self"), 0u);
}

}  // namespace
}  // namespace chaos
