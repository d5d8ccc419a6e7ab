#include "common/command_runner.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/process.hpp>
#include <cstdlib>
#include <future>
#include <string_view>

#include "common/child_descriptors.h"
#include "common/crash_point.h"

namespace chaos {

namespace bp = boost::process;

std::string describe_argv(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) {
    if (!text.empty()) text += ' ';
    const bool needs_quotes = arg.empty() || arg.find_first_of(" \t\"'") != std::string::npos;
    text += needs_quotes ? "'" + arg + "'" : arg;
  }
  return text;
}

StatusOr<CommandResult> CommandRunner::run_checked(const std::vector<std::string>& argv,
                                                   const RunOptions& options) {
  auto result = run(argv, options);
  if (!result.ok()) return result;
  if (result->exit_code != 0) {
    std::string detail = result->stderr_text.empty() ? result->stdout_text : result->stderr_text;
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
    return internal_error("`" + describe_argv(argv) + "` exited with " +
                          std::to_string(result->exit_code) + (detail.empty() ? "" : ": " + detail));
  }
  return result;
}

namespace {

bool is_executable_file(const std::string& path) {
  struct stat status {};
  // AT_EACCESS: the effective ids (and capabilities), as execve checks them.
  return ::stat(path.c_str(), &status) == 0 && S_ISREG(status.st_mode) &&
         ::faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0;
}

}  // namespace

std::string find_in_directories(const std::string& name, std::string_view search) {
  while (!search.empty()) {
    const auto colon = search.find(':');
    const std::string_view directory = search.substr(0, colon);
    search.remove_prefix(colon == std::string_view::npos ? search.size() : colon + 1);
    if (directory.empty() || directory.front() != '/') continue;
    std::string candidate(directory);
    candidate += '/';
    candidate += name;
    if (is_executable_file(candidate)) return candidate;
  }
  return {};
}

namespace {

// Not Boost.Process's search_path: it upper-cases the name of every
// environment variable through a locale on each call to find PATH, which
// costs CPU on every command and maps the locale's tables back into the agent.
StatusOr<boost::filesystem::path> resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return boost::filesystem::path(name);
  const char* path = std::getenv("PATH");
  std::string found = find_in_directories(name, path != nullptr ? path : "");
  if (found.empty()) {
    // Tools such as tc and nft live in /usr/sbin, which a non-login PATH may lack.
    found = find_in_directories(name, "/usr/sbin:/sbin:/usr/local/sbin");
  }
  if (found.empty()) return not_found("executable '" + name + "' not found in PATH");
  return boost::filesystem::path(found);
}

// After a timeout kills the child, how long we still wait for its pipes to
// close; a grandchild that inherited them could otherwise hold us forever.
constexpr std::chrono::seconds kDrainAfterKill{2};

// Writing to a pipe whose reader has exited raises SIGPIPE, which kills the
// process unless someone ignored it. While this object lives, SIGPIPE is
// blocked in this thread (the write fails with EPIPE instead), and a SIGPIPE
// our write raised is discarded before the old mask returns, so the runner
// does not depend on the process-wide disposition. Construct it only after
// the child has started: the signal mask survives fork and exec, and the
// child must start with the default one.
class SigpipeBlockedInThisThread {
 public:
  SigpipeBlockedInThisThread() {
    sigemptyset(&sigpipe_);
    sigaddset(&sigpipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    // One that was pending already is not ours to discard.
    pending_before_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlockedInThisThread() {
    if (!pending_before_) {
      const timespec no_wait{0, 0};
      while (sigtimedwait(&sigpipe_, nullptr, &no_wait) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  SigpipeBlockedInThisThread(const SigpipeBlockedInThisThread&) = delete;
  SigpipeBlockedInThisThread& operator=(const SigpipeBlockedInThisThread&) = delete;

 private:
  sigset_t sigpipe_{};
  sigset_t previous_{};
  bool pending_before_ = false;
};

}  // namespace

StatusOr<CommandResult> ProcessCommandRunner::run(const std::vector<std::string>& argv,
                                                  const RunOptions& options) {
  if (argv.empty()) return invalid_argument("empty command");
  crash_point("command " + argv[0]);
  CHAOS_ASSIGN_OR_RETURN(auto executable, resolve_executable(argv[0]));
  const std::vector<std::string> args(argv.begin() + 1, argv.end());

  boost::asio::io_context io;
  std::future<std::string> out;
  std::future<std::string> err;
  bp::async_pipe in_pipe(io);
  std::error_code launch_error;
  bp::child child(executable, bp::args(args), bp::std_out > out, bp::std_err > err,
                  bp::std_in < in_pipe, io, launch_error, InheritOnlyStandardStreams{});
  if (launch_error) {
    return unavailable("cannot start `" + describe_argv(argv) + "`: " + launch_error.message());
  }
  SigpipeBlockedInThisThread no_sigpipe;
  // Stdin is written by the same event loop that reads the output, so the
  // timeout covers it: a child that never reads is killed like one that
  // never exits. A child may exit without reading everything; the write then
  // fails with EPIPE, which is harmless.
  if (options.stdin_text.empty()) {
    in_pipe.close();
  } else {
    boost::asio::async_write(in_pipe, boost::asio::buffer(options.stdin_text),
                             [&in_pipe](const boost::system::error_code&, std::size_t) {
                               boost::system::error_code ignored;
                               in_pipe.close(ignored);
                             });
  }

  io.run_for(options.timeout);
  if (!io.stopped()) {
    std::error_code ignored;
    child.terminate(ignored);
    boost::system::error_code not_open;
    in_pipe.close(not_open);  // cancels a write the child never read
    io.run_for(kDrainAfterKill);
    return deadline_exceeded("`" + describe_argv(argv) + "` did not finish within " +
                             std::to_string(options.timeout.count()) + " ms");
  }
  std::error_code wait_error;
  child.wait(wait_error);
  CommandResult result;
  result.exit_code = child.exit_code();
  result.stdout_text = out.get();
  result.stderr_text = err.get();
  return result;
}

}  // namespace chaos
