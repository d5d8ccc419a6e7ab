#include "agent/faults/process/process_target.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>

#include "agent/faults/process/pidfile.h"
#include "agent/faults/process/signal_names.h"
#include "tests/unit/agent/fake_process_table.h"

namespace chaos::agent {
namespace {

using namespace std::chrono_literals;
using testing::FakeProcessTable;

class ProcessTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.add(1, "systemd", "/sbin/init");
    table_.add(FakeProcessTable::kParent, "bash", "bash -c run-agent");
    table_.add(FakeProcessTable::kSelf, "chaos-agent", "chaos-agent --listen 127.0.0.1:0");
    table_.add(100, "nats-server", "nats-server -c /lab/n1.conf");
    table_.add(101, "nats-server", "nats-server -c /lab/n2.conf");
    table_.add(102, "nats-server", "nats-server -c /lab/n3.conf", 999);  // another netns
    table_.add(103, "sleep", "sleep 300");
    auto& kthread = table_.add(2, "kthreadd", "");
    kthread.kernel_thread = true;
    auto& zombie = table_.add(104, "sleep", "");
    zombie.state = 'Z';
    targeting_.table = &table_;
    targeting_.clock = &clock_;
  }

  StatusOr<std::vector<ProcessInfo>> resolve(const v1::ProcessTarget& target, std::uint64_t seed = 1) {
    return resolve_process_target(target, "process_kill.target", targeting_, seed);
  }

  static std::vector<int> pids(const std::vector<ProcessInfo>& processes) {
    std::vector<int> list;
    for (const auto& process : processes) list.push_back(process.pid);
    return list;
  }

  FakeClock clock_;
  FakeProcessTable table_;
  ProcessTargeting targeting_;
};

v1::ProcessTarget by_name(const std::string& name) {
  v1::ProcessTarget target;
  target.set_name(name);
  return target;
}

v1::ProcessTarget by_regex(const std::string& regex) {
  v1::ProcessTarget target;
  target.set_cmdline_regex(regex);
  return target;
}

v1::ProcessTarget by_pid(int pid) {
  v1::ProcessTarget target;
  target.set_pid(pid);
  return target;
}

TEST(ValidateProcessTarget, NamesTheBadField) {
  auto message = [](const v1::ProcessTarget& target) {
    return validate_process_target(target, "process_pause.target").message();
  };
  EXPECT_EQ(message(v1::ProcessTarget()),
            "process_pause.target: one of name, cmdline_regex, pid or pidfile is required");
  EXPECT_EQ(message(by_name("")), "process_pause.target.name: must not be empty");
  EXPECT_EQ(message(by_regex("a(")), "process_pause.target.cmdline_regex: invalid regex: missing ): a(");
  EXPECT_EQ(message(by_regex("(x)\\1")).rfind("process_pause.target.cmdline_regex: invalid regex: ", 0), 0u)
      << "RE2 has no backreferences";
  EXPECT_EQ(message(by_regex(std::string(5000, 'a'))), "process_pause.target.cmdline_regex: longer than 1024 bytes");
  EXPECT_EQ(validate_process_target(by_regex("a("), "process_pause.target").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(message(by_pid(0)), "process_pause.target.pid: must be positive");
  v1::ProcessTarget pidfile;
  pidfile.set_pidfile("relative/x.pid");
  EXPECT_EQ(message(pidfile), "process_pause.target.pidfile: must be an absolute path");
  pidfile.set_pidfile(std::string("/run/a\0b.pid", 12));
  EXPECT_EQ(message(pidfile), "process_pause.target.pidfile: contains a NUL byte");
  pidfile.set_pidfile("/" + std::string(5000, 'a'));
  EXPECT_EQ(message(pidfile), "process_pause.target.pidfile: longer than 4095 bytes");
  auto percent = by_name("x");
  percent.set_percent(150);
  EXPECT_EQ(message(percent), "process_pause.target.percent: must be within 0..100");
  percent.set_percent(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(message(percent), "process_pause.target.percent: must be within 0..100");
  auto both = by_name("x");
  both.set_count(1);
  both.set_percent(50);
  EXPECT_EQ(message(both), "process_pause.target.count: set count or percent, not both");
  EXPECT_TRUE(validate_process_target(by_regex("nats-server .*n[12]"), "t").ok());
}

TEST_F(ProcessTargetTest, MatchesByExactNameRegexAndPid) {
  EXPECT_EQ(pids(*resolve(by_name("nats-server"))), (std::vector<int>{100, 101, 102}));
  EXPECT_EQ(pids(*resolve(by_name("sleep"))), std::vector<int>{103}) << "zombies are never targets";
  EXPECT_EQ(pids(*resolve(by_regex("n[12]\\.conf"))), (std::vector<int>{100, 101}));
  EXPECT_EQ(pids(*resolve(by_pid(103))), std::vector<int>{103});
  EXPECT_EQ(resolve(by_name("nats")).status().code(), StatusCode::kNotFound) << "names match exactly";
}

TEST_F(ProcessTargetTest, LongNamesMatchTheExecutableBasename) {
  table_.add(200, "very-long-proce", "/opt/bin/very-long-process-name --x");  // comm is cut to 15
  EXPECT_EQ(pids(*resolve(by_name("very-long-process-name"))), std::vector<int>{200});
}

// Pid files in a temp dir of their own.
class PidfileTargetTest : public ProcessTargetTest {
 protected:
  void SetUp() override {
    ProcessTargetTest::SetUp();
    std::string pattern = ::testing::TempDir() + "/cag-pidfile-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static v1::ProcessTarget by_pidfile(const std::string& path) {
    v1::ProcessTarget target;
    target.set_pidfile(path);
    return target;
  }

  std::string dir_;
};

TEST_F(PidfileTargetTest, ARegularFileNamesOneProcess) {
  const std::string path = dir_ + "/n2.pid";
  std::ofstream(path) << "101\n";
  EXPECT_EQ(pids(*resolve(by_pidfile(path))), std::vector<int>{101});
  std::ofstream(path) << "    101\n";  // right-aligned, as some daemons write it
  EXPECT_EQ(pids(*resolve(by_pidfile(path))), std::vector<int>{101});
  std::ofstream(path) << "not a pid";
  EXPECT_EQ(resolve(by_pidfile(path)).status().message(),
            "process_kill.target.pidfile: '" + path + "' does not hold a pid");
  EXPECT_EQ(resolve(by_pidfile(path)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(resolve(by_pidfile("/nonexistent/cag.pid")).status().message(),
            "process_kill.target.pidfile: '/nonexistent/cag.pid' does not exist");
  EXPECT_EQ(resolve(by_pidfile("/nonexistent/cag.pid")).status().code(), StatusCode::kNotFound);
}

// A FIFO would block open() until a writer came, while the agent holds the
// lock every revert needs. Resolved on a thread: if it blocks, the test
// fails after a deadline and then gives the FIFO a writer so it ends.
TEST_F(PidfileTargetTest, AFifoIsRefusedAtOnce) {
  const std::string fifo = dir_ + "/agent.pid";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto resolving = std::async(std::launch::async, [&] { return resolve(by_pidfile(fifo)); });
  if (resolving.wait_for(10s) != std::future_status::ready) {
    ADD_FAILURE() << "resolving a FIFO pidfile blocked";
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // the blocked open() returns
    if (writer >= 0) ::close(writer);
  }
  const auto resolved = resolving.get();
  EXPECT_EQ(resolved.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(resolved.status().message(),
            "process_kill.target.pidfile: '" + fifo + "' is a FIFO, not a regular file");
}

TEST_F(PidfileTargetTest, ASymbolicLinkIsRefused) {
  const std::string real = dir_ + "/real.pid";
  std::ofstream(real) << "101\n";
  const std::string link = dir_ + "/link.pid";
  std::filesystem::create_symlink(real, link);
  const auto resolved = resolve(by_pidfile(link));
  EXPECT_EQ(resolved.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(resolved.status().message(),
            "process_kill.target.pidfile: '" + link + "' is a symbolic link, not a regular file");
}

TEST_F(PidfileTargetTest, OtherFileTypesAreRefusedByName) {
  EXPECT_EQ(resolve(by_pidfile(dir_)).status().message(),
            "process_kill.target.pidfile: '" + dir_ + "' is a directory, not a regular file");
  // Never opened for reading: a device's open() would run its driver.
  EXPECT_EQ(resolve(by_pidfile("/dev/null")).status().message(),
            "process_kill.target.pidfile: '/dev/null' is a character device, not a regular file");
}

TEST_F(PidfileTargetTest, AFileOverTheCapIsRefused) {
  const std::string path = dir_ + "/big.pid";
  // Starts with a valid pid: reading only the first 64 bytes would accept it.
  std::ofstream(path) << "101" << std::string(200, ' ') << "\n";
  const auto resolved = resolve(by_pidfile(path));
  EXPECT_EQ(resolved.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(resolved.status().message(), "process_kill.target.pidfile: '" + path + "' is longer than 64 bytes");
  std::ofstream(path) << "101" << std::string(kMaxPidfileBytes - 4, ' ') << "\n";  // exactly the cap
  EXPECT_EQ(pids(*resolve(by_pidfile(path))), std::vector<int>{101});
}

// std::regex backtracks (exponentially for some patterns) and recurses per
// character, so these crashed or hung the agent; RE2 answers in linear time.
TEST_F(ProcessTargetTest, PathologicalRegexOnAHugeCmdlineAnswers) {
  table_.add(300, "sleep", "victim-" + std::string(100 * 1024, 'a'));
  auto none = resolve(by_regex("victim-(a|b)*x"));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().to_string();
  EXPECT_EQ(resolve(by_regex("victim-(a*)*b")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(resolve(by_regex("victim-(a|aa)*x")).status().code(), StatusCode::kNotFound);
  auto hit = resolve(by_regex("victim-(a|b)*$"));
  ASSERT_TRUE(hit.ok()) << hit.status().to_string();
  EXPECT_EQ(pids(*hit), std::vector<int>{300});
}

TEST_F(ProcessTargetTest, PathologicalProtectedPatternOnAHugeCmdlineAnswers) {
  table_.add(300, "sleep", "victim-" + std::string(100 * 1024, 'a'));
  targeting_.protected_processes = *ProtectedProcesses::compile({"(a*)*b", "victim-(a|aa)*$"});
  const auto refused = resolve(by_pid(300));
  EXPECT_EQ(refused.status().message(),
            "process_kill.target: refusing to signal pid 300 (sleep): policy protects it "
            "(protected_processes 'victim-(a|aa)*$'); narrow the target");
}

TEST(ProtectedProcessesCompile, InvalidPatternsNameThePatternAndRe2sError) {
  EXPECT_EQ(ProtectedProcesses::compile({"^sshd$", "a("}).status().message(),
            "protected process pattern 'a(': invalid regex: missing ): a(");
  EXPECT_EQ(ProtectedProcesses::compile({std::string(2000, 'a')}).status().message(),
            "protected process pattern '" + std::string(80, 'a') + "...': longer than 1024 bytes");
}

TEST_F(ProcessTargetTest, NothingMatchingIsAClearError) {
  auto none = resolve(by_regex("^postgres"));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(none.status().message(), "process_kill.target: no process matches cmdline_regex '^postgres'");
  EXPECT_EQ(resolve(by_pid(4242)).status().message(), "process_kill.target.pid: no process with pid 4242");
  EXPECT_EQ(resolve(by_pid(2)).status().code(), StatusCode::kNotFound) << "kernel threads are never targets";
}

TEST_F(ProcessTargetTest, RefusesInitTheAgentAndItsParent) {
  for (int pid : {1, FakeProcessTable::kSelf, FakeProcessTable::kParent}) {
    auto refused = resolve(by_pid(pid));
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << pid;
  }
  EXPECT_EQ(resolve(by_pid(1)).status().message(),
            "process_kill.target: refusing to signal pid 1 (systemd): it is pid 1 (init); narrow the target");
  auto regex = resolve(by_regex("chaos-agent"));
  EXPECT_NE(regex.status().message().find("it is the agent itself"), std::string::npos);
  EXPECT_NE(resolve(by_name("bash")).status().message().find("it is the agent's parent"), std::string::npos);
}

TEST_F(ProcessTargetTest, RefusesPolicyProtectedProcesses) {
  targeting_.protected_processes = *ProtectedProcesses::compile({"n2\\.conf"});
  auto refused = resolve(by_name("nats-server"));
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message(),
            "process_kill.target: refusing to signal pid 101 (nats-server): policy protects it "
            "(protected_processes 'n2\\.conf'); narrow the target");
  EXPECT_TRUE(resolve(by_regex("n1\\.conf")).ok());
}

TEST_F(ProcessTargetTest, NetnsScopeOnlySeesTheAgentsNamespace) {
  targeting_.scope = ProcessScope::kNetns;
  EXPECT_EQ(pids(*resolve(by_name("nats-server"))), (std::vector<int>{100, 101}));
  EXPECT_EQ(resolve(by_pid(102)).status().code(), StatusCode::kNotFound);
  EXPECT_NE(resolve(by_regex("n3")).status().message().find("in this network namespace"), std::string::npos);
}

TEST_F(ProcessTargetTest, CountAndPercentSampleTheMatches) {
  auto two = by_name("nats-server");
  two.set_count(2);
  EXPECT_EQ(resolve(two)->size(), 2u);
  two.set_count(10);
  EXPECT_EQ(resolve(two)->size(), 3u);
  auto third = by_name("nats-server");
  third.set_percent(34);  // ceil(3 * 0.34) = 2
  EXPECT_EQ(resolve(third)->size(), 2u);
  third.set_percent(1);  // at least one
  EXPECT_EQ(resolve(third)->size(), 1u);
  auto one = by_name("nats-server");
  one.set_count(1);
  EXPECT_EQ(pids(*resolve(one, 7)), pids(*resolve(one, 7))) << "same seed, same choice";
}

TEST(SignalNames, ParsesNamesAndRefusesStopSignals) {
  EXPECT_EQ(*parse_kill_signal("", "s"), SIGKILL);
  EXPECT_EQ(*parse_kill_signal("TERM", "s"), SIGTERM);
  EXPECT_EQ(*parse_kill_signal("sigint", "s"), SIGINT);
  EXPECT_EQ(*parse_kill_signal("SIGKILL", "s"), SIGKILL);
  EXPECT_EQ(parse_kill_signal("STOP", "process_kill.signal").status().message(),
            "process_kill.signal: SIGSTOP would leave the process stopped; use process.pause");
  EXPECT_EQ(parse_kill_signal("9", "process_kill.signal").status().message(),
            "process_kill.signal: unknown signal '9'");
  EXPECT_EQ(signal_display_name(SIGTERM), "SIGTERM");
}

}  // namespace
}  // namespace chaos::agent
