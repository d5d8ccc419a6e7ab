#include "common/command_runner.h"

#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
#include <future>

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

StatusOr<boost::filesystem::path> resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return boost::filesystem::path(name);
  auto found = bp::search_path(name);
  if (found.empty()) {
    // Tools such as tc and nft live in /usr/sbin, which a non-login PATH may lack.
    found = bp::search_path(name, {"/usr/sbin", "/sbin", "/usr/local/sbin"});
  }
  if (found.empty()) return not_found("executable '" + name + "' not found in PATH");
  return found;
}

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
                  bp::std_in < in_pipe, io, launch_error);
  if (launch_error) {
    return unavailable("cannot start `" + describe_argv(argv) + "`: " + launch_error.message());
  }
  // The child may exit without reading stdin; a write error then is harmless.
  boost::system::error_code write_error;
  if (!options.stdin_text.empty()) {
    boost::asio::write(in_pipe, boost::asio::buffer(options.stdin_text), write_error);
  }
  in_pipe.close();

  io.run_for(options.timeout);
  if (!io.stopped()) {
    std::error_code ignored;
    child.terminate(ignored);
    io.run();
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
