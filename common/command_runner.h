// Every external tool (tc, nft, iptables, ip, ...) runs through this one
// narrow interface: an argv vector, never a shell string, so no user input
// can be interpreted by a shell. Logic is unit-tested with a fake runner.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace chaos {

struct CommandResult {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

struct RunOptions {
  // Written to the child's stdin, then stdin is closed (e.g. `nft -f -`).
  std::string stdin_text;
  // The child is killed when it runs longer than this.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

// The first executable regular file `name` in the ':'-separated directories
// of `search`, or "" when there is none. Only absolute entries are searched:
// an empty or relative one names the current directory, and a program run
// as root must not run what that holds.
std::string find_in_directories(const std::string& name, std::string_view search);

// Where the system's programs live, whatever PATH says.
inline constexpr std::string_view kSystemProgramDirectories =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// "tc qdisc add dev eth0 ..." for logs and error messages only.
std::string describe_argv(const std::vector<std::string>& argv);

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv[0] (looked up in PATH's absolute entries, then /usr/sbin,
  // /sbin and /usr/local/sbin, when it has no '/'). A non-zero exit is not
  // an error here: callers decide; failing to start or a timeout is.
  virtual StatusOr<CommandResult> run(const std::vector<std::string>& argv,
                                      const RunOptions& options) = 0;
  StatusOr<CommandResult> run(const std::vector<std::string>& argv) { return run(argv, RunOptions{}); }

  // Runs and turns a non-zero exit into an error that quotes the command
  // and its stderr.
  StatusOr<CommandResult> run_checked(const std::vector<std::string>& argv,
                                      const RunOptions& options = RunOptions{});
};

// The real implementation over Boost.Process.
class ProcessCommandRunner final : public CommandRunner {
 public:
  using CommandRunner::run;
  StatusOr<CommandResult> run(const std::vector<std::string>& argv,
                              const RunOptions& options) override;
};

}  // namespace chaos
