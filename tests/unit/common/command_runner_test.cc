#include "common/command_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/support/fake_command_runner.h"

namespace chaos {
namespace {

TEST(ProcessCommandRunner, CapturesStdoutAndExitCode) {
  ProcessCommandRunner runner;
  auto result = runner.run({"printf", "%s-%s", "a b", "c"});
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_text, "a b-c");  // one argv element, no shell splitting
}

TEST(ProcessCommandRunner, PassesArgumentsLiterallyWithoutAShell) {
  ProcessCommandRunner runner;
  auto result = runner.run({"echo", "$(id -u); `true` | cat"});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stdout_text, "$(id -u); `true` | cat\n");
}

TEST(ProcessCommandRunner, FeedsStdin) {
  ProcessCommandRunner runner;
  RunOptions options;
  options.stdin_text = "line one\nline two\n";
  auto result = runner.run({"wc", "-l"}, options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stdout_text.substr(0, 1), "2");
}

TEST(ProcessCommandRunner, ReportsNonZeroExitAndStderr) {
  ProcessCommandRunner runner;
  auto result = runner.run({"ls", "/definitely/not/here"});
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->exit_code, 0);
  EXPECT_FALSE(result->stderr_text.empty());
}

TEST(ProcessCommandRunner, RunCheckedQuotesCommandAndStderr) {
  ProcessCommandRunner runner;
  auto result = runner.run_checked({"ls", "/definitely/not/here"});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("`ls /definitely/not/here` exited with"), std::string::npos)
      << result.status().message();
  EXPECT_NE(result.status().message().find("No such file"), std::string::npos);
}

TEST(ProcessCommandRunner, MissingExecutableIsNotFound) {
  ProcessCommandRunner runner;
  auto result = runner.run({"no-such-tool-chaos"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

// Puts PATH and the working directory back however the test ends.
class PathAndDirectoryRestored {
 public:
  PathAndDirectoryRestored() {
    const char* path = std::getenv("PATH");
    had_path_ = path != nullptr;
    path_ = had_path_ ? path : "";
    directory_ = std::filesystem::current_path();
  }
  ~PathAndDirectoryRestored() {
    if (had_path_) {
      ::setenv("PATH", path_.c_str(), 1);
    } else {
      ::unsetenv("PATH");
    }
    std::error_code ignored;
    std::filesystem::current_path(directory_, ignored);
  }
  PathAndDirectoryRestored(const PathAndDirectoryRestored&) = delete;
  PathAndDirectoryRestored& operator=(const PathAndDirectoryRestored&) = delete;

 private:
  bool had_path_ = false;
  std::string path_;
  std::filesystem::path directory_;
};

void write_tool(const std::string& path, const std::string& says, std::filesystem::perms permissions) {
  std::ofstream(path) << "#!/bin/sh\necho " << says << "\n";
  std::filesystem::permissions(path, permissions);
}

// PATH is searched in order for an executable regular file (a directory or
// a file without an x bit of that name is passed over); empty and relative
// entries (the current directory) are not searched; tools in /usr/sbin are
// found without it in PATH.
TEST(ProcessCommandRunner, FindsTheFirstExecutableInPathNeverTheCurrentDirectory) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(::testing::TempDir()) / ("path-search-" + std::to_string(::getpid()));
  const fs::path not_executable = root / "not-executable";
  const fs::path directory = root / "directory";
  const fs::path chosen = root / "executable";
  const fs::path here = root / "cwd";
  for (const auto& made : {not_executable, directory / "chaos-path-tool", chosen, here / "sub"}) {
    fs::create_directories(made);
  }
  using fs::perms;
  write_tool(not_executable / "chaos-path-tool", "not-executable", perms::owner_read | perms::owner_write);
  write_tool(chosen / "chaos-path-tool", "chosen", perms::owner_all | perms::group_read | perms::others_read);
  write_tool(here / "chaos-here-tool", "here", perms::owner_all);
  write_tool(here / "sub" / "chaos-sub-tool", "sub", perms::owner_all);

  ProcessCommandRunner runner;
  StatusOr<CommandResult> found = not_found("not run");
  StatusOr<CommandResult> from_here = not_found("not run");
  StatusOr<CommandResult> from_relative = not_found("not run");
  StatusOr<CommandResult> from_sbin = not_found("not run");
  {
    PathAndDirectoryRestored restored;
    fs::current_path(here);
    const std::string path = ":" + not_executable.string() + "::" + directory.string() + ":.:sub:" +
                             chosen.string() + ":/usr/bin:/bin";
    ::setenv("PATH", path.c_str(), 1);
    found = runner.run({"chaos-path-tool"});
    from_here = runner.run({"chaos-here-tool"});
    from_relative = runner.run({"chaos-sub-tool"});
    ::setenv("PATH", "/nonexistent", 1);
    from_sbin = runner.run({"nologin"});  // /usr/sbin/nologin: Debian's essential login package
  }
  fs::remove_all(root);

  ASSERT_TRUE(found.ok()) << found.status().to_string();
  EXPECT_EQ(found->stdout_text, "chosen\n");
  ASSERT_FALSE(from_here.ok());
  EXPECT_EQ(from_here.status().code(), StatusCode::kNotFound);
  ASSERT_FALSE(from_relative.ok());
  EXPECT_EQ(from_relative.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(from_sbin.ok()) << from_sbin.status().to_string();
}

// Relative entries: ProcessCommandRunner.FindsTheFirstExecutableInPathNeverTheCurrentDirectory.
TEST(FindInDirectories, TakesTheFirstDirectoryThatHoldsAnExecutableFile) {
  // /usr/sbin/nologin: Debian's essential login package; / holds no such file.
  EXPECT_EQ(find_in_directories("nologin", "/nonexistent::/:usr/sbin:/usr/sbin:/sbin"), "/usr/sbin/nologin");
  EXPECT_EQ(find_in_directories("nologin", kSystemProgramDirectories), "/usr/sbin/nologin");
  EXPECT_EQ(find_in_directories("sbin", "/usr"), "") << "a directory is not a program";
  EXPECT_EQ(find_in_directories("nologin", ""), "");
}

TEST(ProcessCommandRunner, KillsCommandsThatOverrunTheTimeout) {
  ProcessCommandRunner runner;
  RunOptions options;
  options.timeout = std::chrono::milliseconds(200);
  auto result = runner.run({"sleep", "30"}, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
}

// Without SIGPIPE blocked around the write, the first case kills the test
// process (gtest leaves SIGPIPE at its default) and the second blocks in
// write(2) forever.
TEST(ProcessCommandRunner, ChildThatExitsWithoutReadingALargeStdinReturnsItsExitCode) {
  ProcessCommandRunner runner;
  RunOptions options;
  options.stdin_text.assign(1 << 20, 'x');  // far more than a pipe buffer
  auto succeeded = runner.run({"true"}, options);
  ASSERT_TRUE(succeeded.ok()) << succeeded.status().to_string();
  EXPECT_EQ(succeeded->exit_code, 0);
  auto failed = runner.run({"false"}, options);
  ASSERT_TRUE(failed.ok()) << failed.status().to_string();
  EXPECT_EQ(failed->exit_code, 1);
}

TEST(ProcessCommandRunner, ChildThatNeverReadsItsStdinIsKilledAtTheTimeout) {
  ProcessCommandRunner runner;
  RunOptions options;
  options.stdin_text.assign(1 << 20, 'x');
  options.timeout = std::chrono::milliseconds(300);
  const auto started = std::chrono::steady_clock::now();
  auto result = runner.run({"sleep", "30"}, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  // A lower bound only: the write did not end the wait early.
  EXPECT_GE(std::chrono::steady_clock::now() - started, options.timeout);
}

TEST(ProcessCommandRunner, LargeStdinIsDeliveredWhole) {
  ProcessCommandRunner runner;
  RunOptions options;
  options.stdin_text.assign(1 << 20, 'x');
  auto result = runner.run({"wc", "-c"}, options);
  ASSERT_TRUE(result.ok()) << result.status().to_string();
  EXPECT_EQ(result->stdout_text, "1048576\n");
}

TEST(ProcessCommandRunner, ChildrenInheritOnlyTheirStandardStreams) {
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);  // no O_CLOEXEC, like the pipes Boost.Process makes
  ProcessCommandRunner runner;
  for (int fd : ends) {
    auto result = runner.run({"readlink", "/proc/self/fd/" + std::to_string(fd)});
    ASSERT_TRUE(result.ok()) << result.status().message();
    EXPECT_NE(result->exit_code, 0) << "the child inherited descriptor " << fd << ": " << result->stdout_text;
  }
  ::close(ends[0]);
  ::close(ends[1]);
}

// Without the above, two `cat`s started by two threads at once each held
// the other's stdin open and both hung until their timeout.
TEST(ProcessCommandRunner, ConcurrentCommandsWithStdinDoNotHoldEachOtherOpen) {
  constexpr int kThreads = 6;
  constexpr int kRuns = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ProcessCommandRunner runner;
      RunOptions options;
      options.stdin_text = "through cat\n";
      options.timeout = std::chrono::seconds(5);
      for (int i = 0; i < kRuns; ++i) {
        auto result = runner.run({"cat"}, options);
        if (!result.ok() || result->stdout_text != options.stdin_text) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ProcessCommandRunner, EmptyArgvIsInvalid) {
  ProcessCommandRunner runner;
  EXPECT_EQ(runner.run({}).status().code(), StatusCode::kInvalidArgument);
}

TEST(FakeCommandRunner, RecordsCallsAndAnswersFromRules) {
  testing::FakeCommandRunner fake;
  fake.fail_on("nft add", "Error: No such file or directory");
  EXPECT_EQ(fake.run({"nft", "list", "tables"})->exit_code, 0);
  auto failed = fake.run_checked({"nft", "add", "table", "inet", "chaos"});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("No such file"), std::string::npos);
  EXPECT_EQ(fake.call_lines(),
            (std::vector<std::string>{"nft list tables", "nft add table inet chaos"}));
}

TEST(DescribeArgv, QuotesArgumentsWithSpaces) {
  EXPECT_EQ(describe_argv({"tc", "qdisc", "add", "dev", "my if", ""}), "tc qdisc add dev 'my if' ''");
}

}  // namespace
}  // namespace chaos
